import { ExecError, InternalError } from '../../base/errors.js';
import type { ExecRequest, ExecResult, NetworkMode } from '../../executor/index.js';
import type { ExecOp, ProxyEnv } from '../graph/index.js';
import type { JobContext } from '../index.js';
import type { OpDeps } from './deps.js';
import { prepareExecMounts } from './exec-mounts.js';
import type { Ref, SnapshotRef } from './ref.js';

const OUTPUT_TAIL_LINES = 20;

const PROXY_VARIABLES: readonly (readonly [keyof ProxyEnv, string])[] = [
  ['httpProxy', 'HTTP_PROXY'],
  ['httpsProxy', 'HTTPS_PROXY'],
  ['ftpProxy', 'FTP_PROXY'],
  ['noProxy', 'NO_PROXY'],
  // Docker 20.10 (BuildKit 0.8) drops ALL_PROXY here; current BuildKit passes it like the others.
  ['allProxy', 'ALL_PROXY'],
];

/** proxyEnvList turns proxy build args into RUN environment entries, each in upper and lower case, as BuildKit does. */
export function proxyEnvList(proxy: ProxyEnv | undefined): string[] {
  const out: string[] = [];
  for (const [field, name] of PROXY_VARIABLES) {
    const value = proxy?.[field];
    if (value !== undefined && value !== '') out.push(`${name}=${value}`, `${name.toLowerCase()}=${value}`);
  }
  return out;
}

/**
 * FailedExec is a RUN whose process failed, kept as it ended for a debug shell: its request (rootfs with the files it
 * wrote, mounts, environment, working directory, user, network). Disposing it releases the active snapshot and the
 * mounts.
 */
export interface FailedExec extends AsyncDisposable {
  readonly vertex: string;
  readonly request: Omit<ExecRequest, 'onOutput'>;
}

/** Owned disposes what it holds at the end of its scope unless handed on with release. */
class Owned implements AsyncDisposable {
  #held: AsyncDisposable[] = [];
  add<T extends AsyncDisposable>(value: T): T {
    this.#held.push(value);
    return value;
  }
  /** release hands everything held to the caller, as one disposable, and leaves nothing to dispose here. */
  release(): () => Promise<void> {
    const held = this.#held.reverse();
    this.#held = [];
    return async () => {
      for (const h of held) await h[Symbol.asyncDispose]();
    };
  }
  async [Symbol.asyncDispose](): Promise<void> {
    await this.release()();
  }
}

/** runExec runs a RUN over its root input and commits the changes as a new snapshot. */
/** execNetwork is the network a RUN runs on: its own, or the build's for the default one (--network). */
export function execNetwork(op: ExecOp, deps: Pick<OpDeps, 'network'>): NetworkMode {
  return op.network === 'default' ? (deps.network ?? 'default') : op.network;
}

export async function runExec(op: ExecOp, inputs: readonly Ref[], deps: OpDeps, job: JobContext, vertex: string): Promise<SnapshotRef> {
  const root = op.mounts.find((m) => m.type === 'bind' && m.dest === '/');
  if (root?.type !== 'bind') throw new InternalError('Cannot run a process without a root mount');
  const base = root.input === null ? null : inputs[root.input];
  if (base !== undefined && base !== null && base.kind !== 'snapshot') throw new InternalError('Cannot run a process over a local folder');
  await using owned = new Owned();
  const active = owned.add(await deps.snapshotter.prepare(base?.snapshotId ?? null));
  const extra = owned.add(await prepareExecMounts(op, inputs, deps, job.signal));
  const tail: string[] = [];
  const request: Omit<ExecRequest, 'onOutput'> = {
    rootfs: { lowerdirs: active.lowerdirs, upperdir: active.dir, workdir: active.workdir },
    process: { args: op.meta.args, env: [...op.meta.env, ...proxyEnvList(op.proxyEnv), ...extra.env], cwd: op.meta.cwd, user: op.meta.user },
    ...(op.meta.hostname === undefined ? {} : { hostname: op.meta.hostname }),
    ...(op.meta.extraHosts === undefined ? {} : { extraHosts: op.meta.extraHosts }),
    ...(op.meta.shmSizeBytes === undefined ? {} : { shmSizeBytes: op.meta.shmSizeBytes }),
    ...(op.meta.ulimits === undefined ? {} : { ulimits: op.meta.ulimits }),
    ...(op.meta.cgroupParent === undefined ? {} : { cgroupParent: op.meta.cgroupParent }),
    ...(op.resources === undefined ? {} : { resources: op.resources }),
    network: execNetwork(op, deps),
    security: op.security,
    mounts: extra.mounts,
  };
  const result = await (await deps.executor()).run(
    {
      ...request,
      onOutput: (stream, data) => {
        const text = data.toString('utf8');
        tail.push(...text.split('\n').filter((l) => l.length > 0));
        if (tail.length > OUTPUT_TAIL_LINES) tail.splice(0, tail.length - OUTPUT_TAIL_LINES);
        job.progress.emit({ type: 'vertex.log', vertex, stream, data: text, time: Date.now(), bytes: data });
      },
    },
    { signal: job.signal },
  );
  if (result.usage !== undefined) job.progress.emit({ type: 'vertex.usage', vertex, ...result.usage, time: Date.now() });
  const error = execFailure(op, result, tail);
  if (error === undefined) return { kind: 'snapshot', snapshotId: await active.commit(`RUN ${op.meta.args.join(' ')}`) };
  // A build debugging its failures keeps the step as the process left it; the receiver releases it.
  if (deps.keepFailedExec !== undefined) {
    const release = owned.release();
    if (!deps.keepFailedExec({ vertex, request, [Symbol.asyncDispose]: release })) await release();
  }
  throw error;
}

/** execFailure is the error of a process that did not exit 0, or undefined. */
function execFailure(op: ExecOp, result: ExecResult, tail: readonly string[]): ExecError | undefined {
  const command = op.meta.args.join(' ');
  if (result.signal !== null) {
    return new ExecError(`Process "${command}" did not complete successfully: killed by signal ${result.signal}`, {
      code: 'EXEC_SIGNALED',
      argv: op.meta.args,
      signal: result.signal,
      outputTail: tail,
    });
  }
  if (result.exitCode === 0) return undefined;
  return new ExecError(`Process "${command}" did not complete successfully: exit code: ${result.exitCode ?? 'unknown'}`, {
    code: 'EXEC_NONZERO_EXIT',
    argv: op.meta.args,
    ...(result.exitCode === null ? {} : { exitCode: result.exitCode }),
    outputTail: tail,
  });
}
