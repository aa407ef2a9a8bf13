import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { release } from 'node:os';
import path from 'node:path';
import { constants } from 'node:os';
import { NativeError, SnapshotError } from '../base/errors.js';
import { isExecutableOnPath, readTextIfExists } from '../base/fs.js';
import { isRootless } from '../base/user-namespace.js';
import { mount, umount2 } from '../native/index.js';

/**
 * OverlaySetting chooses what mounts snapshots: the kernel's overlayfs, fuse-overlayfs, or whichever works (auto). The
 * settings file's `[store] overlay` names one (controller/store-settings.ts reads it).
 */
export type OverlaySetting = 'auto' | 'kernel' | 'fuse';

/** OverlayDriver is what mounts the overlays of RUN steps. */
export type OverlayDriver = 'kernel' | 'fuse';

/** KernelProbe is how a trial overlayfs mount went: mounted, or refused with an errno. */
export type KernelProbe = { readonly ok: true } | { readonly ok: false; readonly errno: number; readonly message: string };

/** OverlayFacts are what the choice of `auto` rests on. */
export interface OverlayFacts {
  /** The trial mount of the kernel's overlayfs, made where RUN steps mount theirs (undefined: not tried). */
  readonly probe: KernelProbe | undefined;
  readonly fuseInstalled: boolean;
  /** The kernel's release (uname -r), named when neither driver can be used. */
  readonly kernel: string;
}

/** OverlayDecision is the driver in use and why, as `tbuild info` shows it. */
export interface OverlayDecision {
  readonly driver: OverlayDriver;
  readonly reason: string;
}

/** FUSE_OVERLAYFS is the program of the fuse driver. */
export const FUSE_OVERLAYFS = 'fuse-overlayfs';

const INSTALL_HINT = 'install fuse-overlayfs (Debian: apt-get install fuse-overlayfs), or run on Linux 5.11 or later (overlayfs in a user namespace)';

/** errnoName is an errno's symbolic name (EPERM), or its number. */
function errnoName(errno: number): string {
  return Object.entries(constants.errno).find(([, n]) => n === errno)?.[0] ?? `errno ${errno}`;
}

/**
 * chooseOverlayDriver decides the driver from the setting and the facts: `kernel` and `fuse` as set (fuse-overlayfs
 * must be installed), `auto` the kernel's overlayfs when its trial mount worked, else fuse-overlayfs when installed,
 * else a SnapshotError naming the kernel, the trial's errno and what to install.
 */
export function chooseOverlayDriver(setting: OverlaySetting, facts: OverlayFacts): OverlayDecision {
  switch (setting) {
    case 'kernel':
      return { driver: 'kernel', reason: 'set by [store] overlay' };
    case 'fuse':
      if (!facts.fuseInstalled) throw new SnapshotError(`Cannot mount overlays with ${FUSE_OVERLAYFS}: it is not installed`, { hint: INSTALL_HINT });
      return { driver: 'fuse', reason: 'set by [store] overlay' };
    case 'auto': {
      const probe = facts.probe;
      if (probe === undefined || probe.ok) return { driver: 'kernel', reason: 'a trial overlayfs mount worked' };
      const refused = `the kernel (Linux ${facts.kernel}) refused a trial overlayfs mount: ${errnoName(probe.errno)} (${probe.message})`;
      if (facts.fuseInstalled) return { driver: 'fuse', reason: refused };
      throw new SnapshotError(`Cannot mount overlays: ${refused}, and ${FUSE_OVERLAYFS} is not installed`, { hint: INSTALL_HINT });
    }
  }
}

/**
 * probeKernelOverlay mounts an overlay of empty folders made in `dir` (the store's filesystem, in this process's user
 * namespace, with `userxattr` rootless, as RUN steps mount theirs), unmounts it and removes the folders.
 */
export async function probeKernelOverlay(dir: string): Promise<KernelProbe> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const base = await mkdtemp(path.join(dir, `overlay-probe-${process.pid}-`));
  try {
    const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((d) => path.join(base, d)) as [string, string, string, string];
    for (const d of [lower, upper, work, merged]) await mkdir(d);
    const data = [`lowerdir=${lower}`, `upperdir=${upper}`, `workdir=${work}`, ...(isRootless() ? ['userxattr'] : [])].join(',');
    try {
      mount('overlay', merged, 'overlay', 0, data);
    } catch (err) {
      if (!(err instanceof NativeError)) throw err;
      return { ok: false, errno: err.errno, message: err.message };
    }
    umount2(merged);
    return { ok: true };
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

/**
 * probeKernelOverlayOnce is probeKernelOverlay remembered across processes: a trial mount costs tens of milliseconds
 * (the kernel sets up and tears down an overlay), and every build run by a process of its own would make one. A trial
 * that worked is kept in `memo` (a file of the store's) for the same kernel, filesystem (device of `dir`) and user
 * namespace; one that failed is made again by the next process, so that no passing refusal sends every later build to
 * fuse-overlayfs.
 */
export async function probeKernelOverlayOnce(dir: string, memo: string, probe: (dir: string) => Promise<KernelProbe> = probeKernelOverlay): Promise<KernelProbe> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const key = `linux ${release()} dev ${(await stat(dir)).dev} ${isRootless() ? 'rootless' : 'root'}`;
  if ((await readProbeMemo(memo)) === key) return { ok: true };
  const outcome = await probe(dir);
  if (outcome.ok) {
    const tmp = `${memo}.${process.pid}`;
    await writeFile(tmp, JSON.stringify({ key }));
    await rename(tmp, memo);
  }
  return outcome;
}

/** readProbeMemo is the key a kept trial was made under, or undefined when none is kept (or it cannot be read). */
async function readProbeMemo(file: string): Promise<string | undefined> {
  const text = await readTextIfExists(file);
  if (text === null) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && 'key' in parsed && typeof parsed.key === 'string' ? parsed.key : undefined;
  } catch (err) {
    // Edited by hand into something else (a process killed while writing cannot cut it short: it is renamed into place).
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** OverlayDriverOptions say where the trial mount is made, and let a test give its outcome. */
export interface OverlayDriverOptions {
  /** A folder on the store's filesystem for the trial mount. */
  readonly probeDir: string;
  /** The file that keeps a trial that worked for later processes (probeKernelOverlayOnce); without it each tries. */
  readonly probeMemo?: string;
  readonly probe?: (dir: string) => Promise<KernelProbe>;
  /** PATH to look fuse-overlayfs up in; this process's by default. */
  readonly searchPath?: string;
}

/** detectOverlayDriver gathers the facts a setting needs (the trial mount only for `auto`) and decides. */
export async function detectOverlayDriver(setting: OverlaySetting, options: OverlayDriverOptions): Promise<OverlayDecision> {
  const fuseInstalled = setting === 'kernel' ? false : await isExecutableOnPath(FUSE_OVERLAYFS, options.searchPath ?? process.env['PATH'] ?? '/usr/bin:/bin');
  const trial = options.probe ?? ((dir: string) => (options.probeMemo === undefined ? probeKernelOverlay(dir) : probeKernelOverlayOnce(dir, options.probeMemo)));
  const probe = setting === 'auto' ? await trial(options.probeDir) : undefined;
  return chooseOverlayDriver(setting, { probe, fuseInstalled, kernel: release() });
}

/**
 * OverlayDrivers decides each setting's driver once and remembers it: the trial mount is made once per executor (a
 * process runs one per store), never per RUN.
 */
export class OverlayDrivers {
  readonly #options: OverlayDriverOptions;
  readonly #decided = new Map<OverlaySetting, Promise<OverlayDecision>>();

  constructor(options: OverlayDriverOptions) {
    this.#options = options;
  }

  /** decide returns the driver of a setting, deciding it on first use. */
  decide(setting: OverlaySetting): Promise<OverlayDecision> {
    let decided = this.#decided.get(setting);
    if (decided === undefined) {
      decided = detectOverlayDriver(setting, this.#options);
      this.#decided.set(setting, decided);
    }
    return decided;
  }
}
