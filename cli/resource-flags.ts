import { UsageError } from '../base/errors.js';
import type { RunResources } from '../controller/index.js';

/**
 * RESOURCE_FLAGS are buildx's per-resource flags (hidden there, superseded by `--resource`), by the `--resource` key
 * each stands for.
 */
export const RESOURCE_FLAGS = {
  memory: 'memory',
  'memory-swap': 'memory-swap',
  'cpu-shares': 'cpu-shares',
  'cpu-period': 'cpu-period',
  'cpu-quota': 'cpu-quota',
  'cpuset-cpus': 'cpuset-cpus',
  'cpuset-mems': 'cpuset-mems',
} as const;

/** ResourceKey is a `--resource` key, as buildx names them after docker run's flags. */
export type ResourceKey = keyof typeof RESOURCE_FLAGS;

const KEYS = Object.keys(RESOURCE_FLAGS);
const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
// CFS bandwidth bounds of the kernel (docker run checks them alike): 1 ms to 1 s periods, quotas of 1 ms or more.
const MIN_CFS_US = 1000;
const MAX_CFS_PERIOD_US = 1000000;

/** parseRamBytes reads a size as docker's RAMInBytes does: a number with an optional k, m, g, t or p (powers of 1024). */
export function parseRamBytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)*) ?([kmgtp])?i?b?$/i.exec(text);
  if (m === null) return undefined;
  const bytes = Math.floor(Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? 1));
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** isCpuList tells whether text is a CPU or memory-node list as cgroups take it (`0-3,5`), ranges in order. */
export function isCpuList(text: string): boolean {
  return text.split(',').every((part) => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    return m !== null && Number(m[1]) <= Number(m[2] ?? m[1]);
  });
}

function fail(key: string, value: string, expected: string): never {
  throw new UsageError(`Cannot use --resource ${key}=${value}: ${expected}`);
}

function positive(key: string, value: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) fail(key, value, max === Number.MAX_SAFE_INTEGER ? `expected a whole number of at least ${min}` : `expected a whole number from ${min} to ${max}`);
  return n;
}

/** setResource reads one limit into out; the last one given of a key wins, as in buildx. */
function setResource(out: { -readonly [K in keyof RunResources]: RunResources[K] }, key: ResourceKey, value: string): void {
  switch (key) {
    case 'memory':
      out.memoryBytes = parseRamBytes(value) ?? fail(key, value, 'expected a size such as 512m or 2g');
      if (out.memoryBytes <= 0) fail(key, value, 'the limit must be more than 0');
      return;
    case 'memory-swap':
      out.memorySwapBytes = value === '-1' ? -1 : (parseRamBytes(value) ?? fail(key, value, 'expected -1 (unlimited swap) or a size such as 1g'));
      if (out.memorySwapBytes === 0) fail(key, value, 'expected -1 (unlimited swap) or a size such as 1g');
      return;
    case 'cpu-shares':
      out.cpuShares = positive(key, value, 2, 262144);
      return;
    case 'cpu-period':
      out.cpuPeriodUs = positive(key, value, MIN_CFS_US, MAX_CFS_PERIOD_US);
      return;
    case 'cpu-quota':
      out.cpuQuotaUs = positive(key, value, MIN_CFS_US);
      return;
    case 'cpuset-cpus':
    case 'cpuset-mems':
      if (!isCpuList(value)) fail(key, value, 'expected a list such as 0-3 or 0,1');
      if (key === 'cpuset-cpus') out.cpusetCpus = value;
      else out.cpusetMems = value;
      return;
  }
}

/**
 * parseResources reads `--resource KEY=VALUE` entries (buildx's `--memory`, `--cpu-shares` … come as entries of their
 * key, before the `--resource` ones) into the cgroup limits of every RUN; undefined when none is given.
 */
export function parseResources(entries: readonly string[]): RunResources | undefined {
  const out: { -readonly [K in keyof RunResources]: RunResources[K] } = {};
  for (const entry of entries) {
    const at = entry.indexOf('=');
    if (at < 0) throw new UsageError(`Cannot use --resource "${entry}": expected KEY=VALUE`, { hint: `keys: ${KEYS.join(', ')}` });
    const key = entry.slice(0, at).trim();
    const value = entry.slice(at + 1).trim();
    const known = KEYS.find((k): k is ResourceKey => k === key);
    if (known === undefined) throw new UsageError(`Cannot use --resource "${entry}": unknown resource "${key}"`, { hint: `keys: ${KEYS.join(', ')}` });
    setResource(out, known, value);
  }
  const swap = out.memorySwapBytes;
  if (swap !== undefined && swap !== -1) {
    // The kernel refuses a memory+swap limit below the memory limit, and one without it (docker run checks alike).
    if (out.memoryBytes === undefined) throw new UsageError('Cannot use --resource memory-swap without memory: it limits memory and swap together');
    if (swap < out.memoryBytes) throw new UsageError(`Cannot use --resource memory-swap=${swap}: it limits memory and swap together, so it may not be below memory (${out.memoryBytes})`);
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/**
 * parseCgroupParent reads `--cgroup-parent`: a cgroup path. BuildKit's systemd form (`NAME.slice:`) needs a systemd
 * cgroup driver, which tbuild does not use: it is refused rather than read as a folder name.
 */
export function parseCgroupParent(text: string): string {
  if (text.trim() === '') throw new UsageError('Cannot use --cgroup-parent "": expected a cgroup path such as mygroup or /a/b');
  if (text.includes('.slice') && text.endsWith(':')) {
    throw new UsageError(`Cannot use --cgroup-parent "${text}": tbuild makes cgroups in the cgroup filesystem, not through systemd`, {
      hint: 'name the slice as a cgroup path, e.g. /system.slice',
    });
  }
  return text;
}
