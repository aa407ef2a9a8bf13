/**
 * RunResources are the cgroup limits of a RUN's process (BuildKit's LinuxResources, buildx's `--resource`): an absent
 * field leaves that resource unlimited.
 */
export interface RunResources {
  readonly memoryBytes?: number;
  /** Memory plus swap, in bytes; -1 lets the process swap without limit. */
  readonly memorySwapBytes?: number;
  /** Relative CPU weight (cgroup v1 cpu.shares; cgroup v2 cpu.weight is derived from it). */
  readonly cpuShares?: number;
  /** CFS period and quota in microseconds: the process gets quota out of every period. */
  readonly cpuPeriodUs?: number;
  readonly cpuQuotaUs?: number;
  /** CPUs and memory nodes it may use, as lists such as `0-3,5`. */
  readonly cpusetCpus?: string;
  readonly cpusetMems?: string;
}
