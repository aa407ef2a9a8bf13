import { execFile, spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode, ExecError, NativeError } from '../base/errors.js';
import { mount, umount2, UMOUNT_FLAGS } from '../native/index.js';
import { createBundle } from './bundle.js';
import { killPid, pipeOutput, waitForClose } from './child-process.js';
import { hostNofileLimit } from './host-limits.js';
import { overlayOptions } from './spec.js';
import type { ExecRequest, ExecResult, Executor } from './types.js';
import { resolveUser } from './user.js';

const EBUSY = 16;

/** RuncExecutorOptions configures an executor that delegates to an OCI runtime binary. */
export interface RuncExecutorOptions {
  readonly stateDir: string;
  readonly runtime: 'runc' | 'crun';
  /** The runtime binary; defaults to the runtime name looked up in PATH. */
  readonly binary?: string;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}

function unmountRootfs(dir: string): void {
  try {
    umount2(dir);
  } catch (err) {
    if (!(err instanceof NativeError && err.errno === EBUSY)) throw err;
    // Something still holds it (a process leaving late): detach so it goes away when released.
    umount2(dir, UMOUNT_FLAGS.DETACH);
  }
}

interface RuntimeRun {
  readonly binary: string;
  readonly root: string;
  readonly id: string;
  readonly bundleDir: string;
}

async function runRuntime(run: RuntimeRun, request: ExecRequest, signal: AbortSignal): Promise<ExecResult> {
  const started = performance.now();
  const pidFile = path.join(run.bundleDir, 'init.pid');
  const child = spawn(run.binary, ['--root', run.root, 'run', '--bundle', run.bundleDir, '--pid-file', pidFile, run.id], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const closed = waitForClose(child);
  const tail = { stderr: [] as Buffer[] };
  pipeOutput(child, request.onOutput, tail);
  const kill = (): void => {
    // runc kill reaches the container init; if the container does not exist yet, stop runc itself.
    execFile(run.binary, ['--root', run.root, 'kill', run.id, 'KILL'], (err) => {
      if (err !== null && child.pid !== undefined) killPid(child.pid);
    });
  };
  signal.addEventListener('abort', kill, { once: true });
  let exit;
  try {
    exit = await closed;
  } finally {
    signal.removeEventListener('abort', kill);
    // runc run removes its container on exit; this covers a killed runc. A non-zero status means nothing was left.
    await waitForClose(spawn(run.binary, ['--root', run.root, 'delete', '--force', run.id], { stdio: 'ignore' }));
  }
  signal.throwIfAborted();
  const durationMs = performance.now() - started;
  const argv = request.process.args;
  if (exit.code !== 0 && !(await exists(pidFile))) {
    const detail = Buffer.concat(tail.stderr).toString('utf8').trim().split('\n').slice(-5).join('\n');
    throw new ExecError(`Cannot run ${JSON.stringify(argv)}: ${detail}`, { code: 'EXEC_START', argv });
  }
  // runc reports death by a signal as exit status 128+n, indistinguishable from a plain exit code.
  return { exitCode: exit.code, signal: exit.signal, durationMs };
}

/** createRuncExecutor returns an Executor that runs the same runtime spec through runc or crun. */
export function createRuncExecutor(options: RuncExecutorOptions): Executor {
  const binary = options.binary ?? options.runtime;
  return {
    async run(request: ExecRequest, runOptions: { signal: AbortSignal }): Promise<ExecResult> {
      const { signal } = runOptions;
      signal.throwIfAborted();
      const argv = request.process.args;
      const user = await resolveUser(request.rootfs, request.process.user, { signal, argv });
      await using bundle = await createBundle(options.stateDir, request, {
        rootMode: 'prepared',
        user,
        nofile: await hostNofileLimit(),
        signal,
      });
      const layers = { lowerdirs: bundle.lowerdirs, upperdir: request.rootfs.upperdir, workdir: request.rootfs.workdir };
      mount('overlay', bundle.rootfsDir, 'overlay', 0, overlayOptions(layers).join(','));
      try {
        const root = path.join(options.stateDir, `${options.runtime}-state`);
        const id = `tbuild-${path.basename(bundle.dir)}`;
        return await runRuntime({ binary, root, id, bundleDir: bundle.dir }, request, signal);
      } finally {
        unmountRootfs(bundle.rootfsDir);
      }
    },
  };
}
