import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ConfigError, errnoCode, ExecError } from '../base/errors.js';
import { pathExists } from '../base/fs.js';
import { underCgroupParent, type CgroupController, type CgroupLayout } from './cgroup-layout.js';
import { killPid } from './child-process.js';
import { deviceRuleLine, type DeviceRule } from './device-rules.js';
import { cpuSharesOf } from './spec.js';
import type { ExecRequest, ExecResources, ExecUsage } from './types.js';

/** RunCgroupLimits are the limits of one exec's cgroup: its resources and the devices it may open. */
export interface RunCgroupLimits extends ExecResources {
  /** Applied on cgroup v1 (the devices controller); cgroup2 would need a BPF program (not done). */
  readonly devices?: readonly DeviceRule[];
}

/** RunCgroup is the cgroup of one exec; disposing it removes its directories once the processes are gone. */
export interface RunCgroup extends AsyncDisposable {
  /** The cgroup.procs files the container init's pid must be written to (one per hierarchy). */
  readonly procsFiles: readonly string[];
  /** usage reads what the cgroup measured so far. */
  usage(): Promise<ExecUsage>;
}

const REMOVE_ATTEMPTS = 100;
const REMOVE_PAUSE_MS = 10;

async function readNumber(file: string, pattern?: RegExp): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  const match = pattern === undefined ? text.trim() : pattern.exec(text)?.[1];
  const n = Number(match);
  return match === undefined || match === '' || !Number.isFinite(n) ? undefined : n;
}

/** V2_CONTROLLERS are the cgroup2 controllers an exec's cgroup may use: its parents enable them for their children. */
const V2_CONTROLLERS = ['memory', 'pids', 'cpu', 'cpuset'];

async function readWords(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8')).trim().split(/\s+/).filter((w) => w !== '');
}

/**
 * makeV2Parent makes the folders from the hierarchy's root down to parent and lets each give its children the
 * controllers execs use (a cgroup2 controller reaches a cgroup only when every ancestor enables it).
 */
async function makeV2Parent(root: string, parent: string): Promise<void> {
  await mkdir(parent, { recursive: true });
  const rel = path.relative(root, parent);
  const steps = rel === '' ? [] : rel.split(path.sep);
  for (let i = 0; i <= steps.length; i++) {
    const dir = path.join(root, ...steps.slice(0, i));
    const available = await readWords(path.join(dir, 'cgroup.controllers'));
    const enabled = await readWords(path.join(dir, 'cgroup.subtree_control'));
    const wanted = V2_CONTROLLERS.filter((c) => available.includes(c) && !enabled.includes(c));
    if (wanted.length > 0) await writeFile(path.join(dir, 'cgroup.subtree_control'), wanted.map((c) => `+${c}`).join(' '));
  }
}

/** cpuSharesToWeight maps cgroup v1 cpu.shares (2-262144) to a v2 cpu.weight (1-10000), as runc does. */
export function cpuSharesToWeight(shares: number): number {
  return Math.floor(1 + ((shares - 2) * 9999) / 262142);
}

/** v2Files are the files of a cgroup2 exec cgroup that hold its limits, in the order to write them. */
export function v2Files(r: ExecResources): [string, string][] {
  const files: [string, string][] = [];
  if (r.memoryBytes !== undefined) {
    files.push(['memory.max', String(r.memoryBytes)]);
    // cgroup2 limits swap alone; memorySwapBytes counts memory too. Without it the process may not swap.
    const swap = r.memorySwapBytes === undefined ? '0' : r.memorySwapBytes === -1 ? 'max' : String(r.memorySwapBytes - r.memoryBytes);
    files.push(['memory.swap.max', swap]);
  }
  if (r.pidsMax !== undefined) files.push(['pids.max', String(r.pidsMax)]);
  const weight = r.cpuWeight ?? (r.cpuShares === undefined ? undefined : cpuSharesToWeight(r.cpuShares));
  if (weight !== undefined) files.push(['cpu.weight', String(weight)]);
  if (r.cpuQuotaUs !== undefined || r.cpuPeriodUs !== undefined) {
    files.push(['cpu.max', `${r.cpuQuotaUs ?? 'max'} ${r.cpuPeriodUs ?? DEFAULT_CFS_PERIOD_US}`]);
  }
  if (r.cpusetCpus !== undefined) files.push(['cpuset.cpus', r.cpusetCpus]);
  if (r.cpusetMems !== undefined) files.push(['cpuset.mems', r.cpusetMems]);
  return files;
}

const DEFAULT_CFS_PERIOD_US = 100000;

/** removeCgroupDir removes one cgroup directory, waiting for exiting processes and killing any that remain. */
export async function removeCgroupDir(dir: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || attempt === REMOVE_ATTEMPTS) throw err;
    }
    // The PID namespace is gone by now; what remains are processes still exiting, or strays to kill.
    const procs = (await readFile(path.join(dir, 'cgroup.procs'), 'utf8')).split('\n').filter((l) => l !== '');
    for (const pid of procs) killPid(Number(pid));
    await delay(REMOVE_PAUSE_MS);
  }
}

/** The cgroup2 parents this process made and enabled controllers in: a RUN then only checks that its parent is there. */
const preparedV2Parents = new Set<string>();

async function createV2(layout: { parent: string; root: string }, name: string, r: RunCgroupLimits): Promise<RunCgroup> {
  // Once per parent, and again when it was removed (after the last RUN under a --cgroup-parent): not at every RUN.
  if (!preparedV2Parents.has(layout.parent) || !(await pathExists(layout.parent))) {
    await makeV2Parent(layout.root, layout.parent);
    preparedV2Parents.add(layout.parent);
  }
  const dir = path.join(layout.parent, name);
  await mkdir(dir);
  try {
    for (const [file, value] of v2Files(r)) {
      // Without swap accounting there is no memory.swap.max: the process cannot swap anyway.
      if (file === 'memory.swap.max' && !(await pathExists(path.join(dir, file)))) continue;
      await writeFile(path.join(dir, file), value);
    }
  } catch (err) {
    await removeCgroupDir(dir);
    throw err;
  }
  return {
    procsFiles: [path.join(dir, 'cgroup.procs')],
    async usage() {
      const peak = await readNumber(path.join(dir, 'memory.peak'));
      const cpuUs = await readNumber(path.join(dir, 'cpu.stat'), /^usage_usec (\d+)$/m);
      return { ...(peak === undefined ? {} : { memoryPeakBytes: peak }), ...(cpuUs === undefined ? {} : { cpuTimeMs: cpuUs / 1000 }) };
    },
    [Symbol.asyncDispose]: () => removeCgroupDir(dir),
  };
}

/** applyDeviceRules writes rules in order to a v1 devices cgroup: a deny of everything first, then what is allowed. */
async function applyDeviceRules(dir: string, rules: readonly DeviceRule[]): Promise<void> {
  for (const rule of rules) await writeFile(path.join(dir, rule.allow ? 'devices.allow' : 'devices.deny'), deviceRuleLine(rule));
}

/** v1Files are the files of cgroup v1 exec cgroups that hold its limits, by controller, in the order to write them. */
export function v1Files(r: ExecResources): [CgroupController, string, string][] {
  const files: [CgroupController, string, string][] = [];
  if (r.memoryBytes !== undefined) {
    files.push(['memory', 'memory.limit_in_bytes', String(r.memoryBytes)]);
    // Memory plus swap, written after the memory limit it may not be below. Without it the process may not swap.
    files.push(['memory', 'memory.memsw.limit_in_bytes', String(r.memorySwapBytes ?? r.memoryBytes)]);
  }
  if (r.pidsMax !== undefined) files.push(['pids', 'pids.max', String(r.pidsMax)]);
  const shares = cpuSharesOf(r);
  if (shares !== undefined) files.push(['cpu', 'cpu.shares', String(shares)]);
  if (r.cpuPeriodUs !== undefined) files.push(['cpu', 'cpu.cfs_period_us', String(r.cpuPeriodUs)]);
  if (r.cpuQuotaUs !== undefined) files.push(['cpu', 'cpu.cfs_quota_us', String(r.cpuQuotaUs)]);
  if (r.cpusetCpus !== undefined) files.push(['cpuset', 'cpuset.cpus', r.cpusetCpus]);
  if (r.cpusetMems !== undefined) files.push(['cpuset', 'cpuset.mems', r.cpusetMems]);
  return files;
}

/**
 * makeCpusetDir makes a v1 cpuset cgroup and the parents it lacks, each given its parent's CPUs and memory nodes: a
 * new cpuset cgroup has none, and no process can join it until it has some.
 */
async function makeCpusetDir(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = dir; !(await pathExists(d)); d = path.dirname(d)) missing.unshift(d);
  for (const d of missing) {
    await mkdir(d);
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      await writeFile(path.join(d, file), (await readFile(path.join(path.dirname(d), file), 'utf8')).trim());
    }
  }
}

async function createV1(parents: ReadonlyMap<CgroupController, string>, name: string, r: RunCgroupLimits): Promise<RunCgroup> {
  const dirs = new Map<string, string>();
  const remove = async (): Promise<void> => {
    // Children before parents does not matter here: each hierarchy has exactly one directory per exec.
    for (const dir of new Set(dirs.values())) await removeCgroupDir(dir);
  };
  const cpuset = r.cpusetCpus !== undefined || r.cpusetMems !== undefined;
  try {
    for (const [controller, parent] of parents) {
      if (controller === 'cpuset' && !cpuset) continue;
      const dir = path.join(parent, name);
      if (controller === 'cpuset') await makeCpusetDir(dir);
      else if (![...dirs.values()].includes(dir)) await mkdir(dir, { recursive: true });
      dirs.set(controller, dir);
    }
    for (const [controller, file, value] of v1Files(r)) {
      const dir = dirs.get(controller);
      if (dir === undefined) throw new ConfigError(`Cannot limit ${file}: no cgroup v1 hierarchy has the ${controller} controller`);
      // Without swap accounting (swapaccount=0) there is no memsw file: the process cannot swap anyway.
      if (file === 'memory.memsw.limit_in_bytes' && !(await pathExists(path.join(dir, file)))) continue;
      await writeFile(path.join(dir, file), value);
    }
    const devices = dirs.get('devices');
    if (devices !== undefined && r.devices !== undefined) await applyDeviceRules(devices, r.devices);
  } catch (err) {
    await remove();
    throw err;
  }
  return {
    procsFiles: [...new Set(dirs.values())].map((d) => path.join(d, 'cgroup.procs')),
    async usage() {
      const memory = dirs.get('memory');
      const cpuacct = dirs.get('cpuacct');
      const peak = memory === undefined ? undefined : await readNumber(path.join(memory, 'memory.max_usage_in_bytes'));
      const cpuNs = cpuacct === undefined ? undefined : await readNumber(path.join(cpuacct, 'cpuacct.usage'));
      return { ...(peak === undefined ? {} : { memoryPeakBytes: peak }), ...(cpuNs === undefined ? {} : { cpuTimeMs: cpuNs / 1e6 }) };
    },
    [Symbol.asyncDispose]: remove,
  };
}

/** createRunCgroup makes the cgroup of one exec, named `name` under tbuild's parent, with the request's limits. */
export async function createRunCgroup(layout: CgroupLayout, name: string, resources: RunCgroupLimits): Promise<RunCgroup> {
  switch (layout.version) {
    case 2:
      return createV2(layout, name, resources);
    case 1:
      return createV1(layout.parents, name, resources);
    case 0:
      return { procsFiles: [], usage: () => Promise.resolve({}), [Symbol.asyncDispose]: () => Promise.resolve() };
  }
}

/**
 * openRunCgroup makes the cgroup of one exec: under its cgroup parent when it names one, else under tbuild's, with
 * its limits and the devices it may open. A failure is the exec's: it names the command and keeps the cause.
 */
export async function openRunCgroup(layout: CgroupLayout, request: ExecRequest, options: { name: string; devices: RunCgroupLimits['devices'] }): Promise<RunCgroup> {
  const argv = request.process.args;
  const limited = Object.values(request.resources ?? {}).some((v) => v !== undefined);
  if (layout.version === 0 && (request.cgroupParent !== undefined || limited)) {
    const what = request.cgroupParent === undefined ? 'limit its resources' : `place it under cgroup parent "${request.cgroupParent}"`;
    const why = layout.rootless === true ? 'tbuild runs rootless, and cgroups are the host root\'s' : 'no cgroup hierarchy is mounted';
    throw new ExecError(`Cannot run ${JSON.stringify(argv)}: cannot ${what}: ${why}`, { code: 'EXEC_START', argv });
  }
  const under = request.cgroupParent === undefined ? layout : underCgroupParent(layout, request.cgroupParent);
  let cgroup: RunCgroup;
  try {
    cgroup = await createRunCgroup(under, options.name, { ...request.resources, ...(options.devices === undefined ? {} : { devices: options.devices }) });
  } catch (err) {
    throw new ExecError(`Cannot run ${JSON.stringify(argv)}: cannot make its cgroup`, { code: 'EXEC_START', argv, cause: err });
  }
  const cgroupParent = request.cgroupParent;
  if (cgroupParent === undefined) return cgroup;
  return {
    procsFiles: cgroup.procsFiles,
    usage: () => cgroup.usage(),
    async [Symbol.asyncDispose]() {
      await cgroup[Symbol.asyncDispose]();
      await leaveCgroupParent(cgroupParents(under));
    },
  };
}

/**
 * leaveCgroupParent removes the `tbuild` folders execs had under a cgroup parent (`dirs`, one per hierarchy) once no
 * exec's cgroup is left in them (other execs may still run there); the parent itself is its owner's, and stays.
 */
export async function leaveCgroupParent(dirs: readonly string[]): Promise<void> {
  for (const dir of dirs) {
    try {
      await rmdir(dir);
    } catch (err) {
      const code = errnoCode(err);
      if (code !== 'EBUSY' && code !== 'ENOTEMPTY' && code !== 'ENOENT') throw err;
    }
  }
}

/** cgroupParents lists the directories under which tbuild creates per-exec cgroups. */
export function cgroupParents(layout: CgroupLayout): string[] {
  switch (layout.version) {
    case 2:
      return [layout.parent];
    case 1:
      return [...new Set(layout.parents.values())];
    case 0:
      return [];
  }
}

/** listCgroupChildren returns the names of the exec cgroups under a parent, or [] when it does not exist. */
export async function listCgroupChildren(parent: string): Promise<string[]> {
  try {
    return (await readdir(parent, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}
