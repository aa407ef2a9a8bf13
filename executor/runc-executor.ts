import { execFile, spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode, ExecError, NativeError } from '../base/errors.js';
import { mount, umount2, UMOUNT_FLAGS } from '../native/index.js';
import { createBundle } from './bundle.js';
import { killPid, pipeOutput, waitForClose } from './child-process.js';
import { hostNofileLimit } from './host-limits.js';
import { overlayOptions, type OverlayLayers } from './spec.js';
import type { ExecRequest, ExecResult, Executor } from './types.js';
import { sweepStateDir } from './state-sweep.js';
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

/** mountOverlay mounts the rootfs on the host; relative lowerdirs resolve against the cwd, set just for the call. */
function mountOverlay(target: string, layers: OverlayLayers): void {
  const { options, basedir } = overlayOptions(layers);
  const previous = process.cwd();
  if (basedir !== undefined) process.chdir(basedir);
  try {
    mount('overlay', target, 'overlay', 0, options.join(','));
  } finally {
    if (basedir !== undefined) process.chdir(previous);
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
  let swept: Promise<void> | undefined;
  let runs = 0;
  return {
    async run(request: ExecRequest, runOptions: { signal: AbortSignal }): Promise<ExecResult> {
      const { signal } = runOptions;
      signal.throwIfAborted();
      // The runtime creates and removes the cgroups itself; only bundles need sweeping.
      swept ??= sweepStateDir(options.stateDir, { version: 0 });
      await swept;
      const argv = request.process.args;
      const user = await resolveUser(request.rootfs, request.process.user, { signal, argv });
      await using bundle = await createBundle(options.stateDir, request, {
        rootMode: 'prepared',
        user,
        nofile: await hostNofileLimit(),
        // Relative: the runtime nests it under its own cgroup, as tbuild's helper does. crun refuses cgroup paths on
        // hybrid v1/v2 hosts, so it is left to its defaults there.
        ...(options.runtime === 'runc' ? { cgroupsPath: `tbuild/runc-${process.pid}-${runs++}` } : {}),
        signal,
      });
      const layers = { lowerdirs: bundle.lowerdirs, upperdir: request.rootfs.upperdir, workdir: request.rootfs.workdir };
      mountOverlay(bundle.rootfsDir, layers);
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
