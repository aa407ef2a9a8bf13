import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { errnoCode } from '../base/errors.js';
import { pathExists } from '../base/fs.js';
import type { CgroupLayout } from './cgroup-layout.js';
import { killPid } from './child-process.js';
import { deviceRuleLine, type DeviceRule } from './device-rules.js';
import { cpuWeightToShares } from './spec.js';
import type { ExecResources, ExecUsage } from './types.js';

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

async function enableV2Controllers(dir: string): Promise<void> {
  const available = (await readFile(path.join(dir, 'cgroup.controllers'), 'utf8')).trim().split(/\s+/);
  const wanted = ['memory', 'pids', 'cpu'].filter((c) => available.includes(c));
  if (wanted.length > 0) await writeFile(path.join(dir, 'cgroup.subtree_control'), wanted.map((c) => `+${c}`).join(' '));
}

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

async function createV2(parent: string, name: string, r: RunCgroupLimits): Promise<RunCgroup> {
  if (!(await pathExists(parent))) {
    await mkdir(parent, { recursive: true });
    await enableV2Controllers(path.dirname(parent));
    await enableV2Controllers(parent);
  }
  const dir = path.join(parent, name);
  await mkdir(dir);
  try {
    if (r.memoryBytes !== undefined) {
      await writeFile(path.join(dir, 'memory.max'), String(r.memoryBytes));
      if (await pathExists(path.join(dir, 'memory.swap.max'))) await writeFile(path.join(dir, 'memory.swap.max'), '0');
    }
    if (r.pidsMax !== undefined) await writeFile(path.join(dir, 'pids.max'), String(r.pidsMax));
    if (r.cpuWeight !== undefined) await writeFile(path.join(dir, 'cpu.weight'), String(r.cpuWeight));
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

async function createV1(parents: ReadonlyMap<string, string>, name: string, r: RunCgroupLimits): Promise<RunCgroup> {
  const dirs = new Map<string, string>();
  const remove = async (): Promise<void> => {
    // Children before parents does not matter here: each hierarchy has exactly one directory per exec.
    for (const dir of new Set(dirs.values())) await removeCgroupDir(dir);
  };
  try {
    for (const [controller, parent] of parents) {
      const dir = path.join(parent, name);
      if (![...dirs.values()].includes(dir)) await mkdir(dir, { recursive: true });
      dirs.set(controller, dir);
    }
    const memory = dirs.get('memory');
    if (memory !== undefined && r.memoryBytes !== undefined) {
      await writeFile(path.join(memory, 'memory.limit_in_bytes'), String(r.memoryBytes));
      const memsw = path.join(memory, 'memory.memsw.limit_in_bytes');
      if (await pathExists(memsw)) await writeFile(memsw, String(r.memoryBytes));
    }
    const pids = dirs.get('pids');
    if (pids !== undefined && r.pidsMax !== undefined) await writeFile(path.join(pids, 'pids.max'), String(r.pidsMax));
    const cpu = dirs.get('cpu');
    if (cpu !== undefined && r.cpuWeight !== undefined) await writeFile(path.join(cpu, 'cpu.shares'), String(cpuWeightToShares(r.cpuWeight)));
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
      return createV2(layout.parent, name, resources);
    case 1:
      return createV1(layout.parents, name, resources);
    case 0:
      return { procsFiles: [], usage: () => Promise.resolve({}), [Symbol.asyncDispose]: () => Promise.resolve() };
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
