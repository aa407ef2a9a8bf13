import { readFile } from 'node:fs/promises';

const WANTED_NOFILE = 1048576;
const CAP_SYS_RESOURCE = 24n;

/** hostBoundingCapabilities returns this process's capability bounding set as a bit mask. */
export async function hostBoundingCapabilities(): Promise<bigint> {
  const status = await readFile('/proc/self/status', 'utf8');
  const capBnd = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  return capBnd === undefined ? 0n : BigInt(`0x${capBnd}`);
}

/**
 * hostNofileLimit returns the RLIMIT_NOFILE to put in the spec: 1048576, or the current hard limit when this process
 * cannot raise it (no CAP_SYS_RESOURCE), since runtimes fail rather than clamp.
 */
export async function hostNofileLimit(): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8');
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  if (capEff !== undefined && (BigInt(`0x${capEff}`) >> CAP_SYS_RESOURCE) & 1n) return WANTED_NOFILE;
  const limits = await readFile('/proc/self/limits', 'utf8');
  const hard = /^Max open files\s+\S+\s+(\S+)/m.exec(limits)?.[1];
  if (hard === undefined || hard === 'unlimited') return WANTED_NOFILE;
  return Math.min(WANTED_NOFILE, Number(hard));
}
