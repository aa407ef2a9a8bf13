import { access, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errnoCode, InternalError, UsageError } from '../../base/errors.js';
import type { ExecMount as SandboxMount } from '../../executor/index.js';
import type { BindExecMount, ExecMount, ExecOp, SecretExecMount, SshExecMount } from '../graph/index.js';
import { cacheMountSeed } from './cache-seed.js';
import type { OpDeps } from './deps.js';
import type { Ref } from './ref.js';
import { unmappedOwnerError } from '../../base/user-namespace.js';

/** PreparedMounts are the sandbox mounts and extra environment of one exec; disposing releases them. */
export interface PreparedMounts extends AsyncDisposable {
  readonly mounts: readonly SandboxMount[];
  /** Variables only the process sees (secrets as env, SSH_AUTH_SOCK): never hashed, never in history. */
  readonly env: readonly string[];
}

type Cleanup = () => PromiseLike<void>;

const SECRET_PARENT = '/dev/shm';

function relative(selector: string | undefined): string {
  return (selector ?? '/').replace(/^\/+/, '');
}

/** prepareExecMounts materialises every non-root mount of an ExecOp. */
export async function prepareExecMounts(op: ExecOp, inputs: readonly Ref[], deps: OpDeps, signal: AbortSignal): Promise<PreparedMounts> {
  const cleanups: Cleanup[] = [];
  const mounts: SandboxMount[] = [];
  const env: string[] = [];
  const dispose = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c();
  };
  try {
    let sshDefaultSet = false;
    for (const m of op.mounts) {
      if (m.type === 'bind' && m.dest === '/') continue;
      signal.throwIfAborted();
      const out = await prepareOne(m, inputs, deps, cleanups, signal);
      mounts.push(...out.mounts);
      for (const e of out.env) {
        if (e.startsWith('SSH_AUTH_SOCK=')) {
          if (sshDefaultSet) continue;
          sshDefaultSet = true;
        }
        env.push(e);
      }
    }
  } catch (err) {
    await dispose();
    throw err;
  }
  return { mounts, env, [Symbol.asyncDispose]: dispose };
}

interface Prepared {
  readonly mounts: readonly SandboxMount[];
  readonly env: readonly string[];
}

async function prepareOne(m: ExecMount, inputs: readonly Ref[], deps: OpDeps, cleanups: Cleanup[], signal: AbortSignal): Promise<Prepared> {
  switch (m.type) {
    case 'bind':
      return { mounts: [await bindMount(m, inputs, deps, cleanups)], env: [] };
    case 'cache': {
      const store = deps.cacheMounts;
      if (store === undefined) throw new InternalError('Cannot use a cache mount: no cache mount store');
      const seed = cacheMountSeed(m, inputs, deps);
      const lease = await store.acquire(m.id, m.sharing, seed === undefined ? m : { ...m, seed }, { signal });
      cleanups.push(() => lease[Symbol.asyncDispose]());
      return { mounts: [{ kind: 'bind', source: lease.dir, target: m.dest, readonly: m.readonly }], env: [] };
    }
    case 'tmpfs':
      return { mounts: [{ kind: 'tmpfs', target: m.dest, ...(m.sizeBytes === undefined ? {} : { sizeBytes: m.sizeBytes }) }], env: [] };
    case 'secret':
      return secretMount(m, deps, cleanups, signal);
    case 'ssh':
      return sshMount(m, deps, cleanups, signal);
  }
}

async function bindMount(m: BindExecMount, inputs: readonly Ref[], deps: OpDeps, cleanups: Cleanup[]): Promise<SandboxMount> {
  const ref = m.input === null ? null : inputs[m.input];
  if (ref === undefined) throw new InternalError(`Cannot find input ${String(m.input)} of a mount`);
  const sub = relative(m.selector);
  if (ref !== null && ref.kind === 'local') {
    if (sub !== '' && ref.isExcluded(sub)) throw new UsageError(`Cannot mount "${sub}" of the build context: excluded by .dockerignore`);
    const source = join(ref.dir, sub);
    await mustExist(source, sub);
    if (m.readonly) return { kind: 'bind', source, target: m.dest, readonly: true };
    const scratch = await deps.snapshotter.prepare(null);
    cleanups.push(() => scratch[Symbol.asyncDispose]());
    return { kind: 'overlay', target: m.dest, lowerdirs: [source], upperdir: scratch.dir, workdir: scratch.workdir, readonly: false };
  }
  // Changes always land in a throwaway upper directory, dropped with the active snapshot.
  const active = await deps.snapshotter.prepare(ref?.snapshotId ?? null);
  cleanups.push(() => active[Symbol.asyncDispose]());
  if (active.lowerdirs.length === 0) return { kind: 'bind', source: active.dir, target: m.dest, readonly: m.readonly };
  return {
    kind: 'overlay',
    target: m.dest,
    lowerdirs: active.lowerdirs,
    upperdir: active.dir,
    workdir: active.workdir,
    readonly: m.readonly,
    ...(sub === '' ? {} : { subpath: sub }),
  };
}

async function mustExist(path: string, shown: string): Promise<void> {
  try {
    await access(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw new UsageError(`Cannot mount "${shown}" of the build context: not found`);
    throw err;
  }
}

async function secretMount(m: SecretExecMount, deps: OpDeps, cleanups: Cleanup[], signal: AbortSignal): Promise<Prepared> {
  const value = await deps.secrets?.get(m.id, { signal });
  if (value === undefined) {
    // BuildKit's words for a required secret the build was not given, with what to do about it.
    if (m.required) throw new UsageError(`Cannot run: secret ${m.id}: not found`, { hint: `the mount requires it: pass --secret id=${m.id},src=FILE` });
    return { mounts: [], env: [] };
  }
  const env = m.env === undefined ? [] : [`${m.env}=${value.toString('utf8')}`];
  if (m.dest === null) return { mounts: [], env };
  // Outside the store root and every layer: a private directory on the host's tmpfs, removed after the run.
  const parent = await access(SECRET_PARENT).then(() => SECRET_PARENT, () => tmpdir());
  const dir = await mkdtemp(join(parent, 'tbuild-secret-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'secret');
  await writeFile(file, value, { mode: m.mode });
  const dest = m.dest;
  await chown(file, m.uid, m.gid).catch((err: unknown) => {
    throw unmappedOwnerError(err, dest, m);
  });
  // As BuildKit mounts secrets: noexec unless the mode makes the file executable.
  const flags = (m.mode & 0o111) === 0 ? (['nosuid', 'nodev', 'noexec'] as const) : (['nosuid', 'nodev'] as const);
  return { mounts: [{ kind: 'bind', source: file, target: m.dest, readonly: true, flags }], env };
}

async function sshMount(m: SshExecMount, deps: OpDeps, cleanups: Cleanup[], signal: AbortSignal): Promise<Prepared> {
  const socket = await deps.sshAgents?.open(m.id, { owner: { uid: m.uid, gid: m.gid, mode: m.mode }, signal });
  if (socket === undefined) {
    // BuildKit's words (solver/llbsolver/mounts), with what to do about it.
    if (m.required) throw new UsageError(`Cannot run: no SSH key "${m.id}" forwarded from the client`, { hint: `the mount requires it: pass --ssh ${m.id}=SOCKET` });
    return { mounts: [], env: [] };
  }
  cleanups.push(() => socket[Symbol.asyncDispose]());
  return { mounts: [{ kind: 'bind', source: socket.path, target: m.dest, readonly: false }], env: m.setEnv ? [`SSH_AUTH_SOCK=${m.dest}`] : [] };
}
