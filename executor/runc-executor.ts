import { randomBytes } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { ExecError, InternalError, NativeError } from '../base/errors.js';
import { pathExists } from '../base/fs.js';
import { umount2, UMOUNT_FLAGS } from '../native/index.js';
import { createBundle } from './bundle.js';
import { isCgroupHybrid } from './cgroup-layout.js';
import { killPid, waitForClose } from './child-process.js';
import { hostNofileLimit } from './host-limits.js';
import { mountOverlay } from './overlay-mount.js';
import type { ExecRequest, ExecResult, Executor } from './types.js';
import { unpooledNetworks, type NetworkProvider } from './sandbox-network.js';
import { sweepStateDir } from './state-sweep.js';
import { openProcessStdio } from './stdio-pipes.js';
import { resolveUser } from './user.js';

const EBUSY = 16;

/** RuncExecutorOptions configures an executor that delegates to an OCI runtime binary. */
export interface RuncExecutorOptions {
  readonly stateDir: string;
  readonly runtime: 'runc' | 'crun';
  /** The runtime binary; defaults to the runtime name looked up in PATH. */
  readonly binary?: string;
  /** Where default-network RUNs get their network namespace (a pool of ready ones); by default each is made when asked. */
  readonly networks?: NetworkProvider;
}

/** unmountRootfs unmounts the rootfs or an overlay mount prepared on the host. */
function unmountRootfs(dir: string): void {
  try {
    umount2(dir);
  } catch (err) {
    if (!(err instanceof NativeError && err.errno === EBUSY)) throw err;
    // Something still holds it (a process leaving late): detach so it goes away when released.
    umount2(dir, UMOUNT_FLAGS.DETACH);
  }
}

/** RuntimeCommand is how to invoke the runtime: a program and the arguments that precede the runtime's own. */
interface RuntimeCommand {
  readonly file: string;
  readonly prefix: readonly string[];
}

/**
 * CRUN_IN_CGROUP2 runs crun in a private mount namespace with cgroup2 mounted over /sys/fs/cgroup, and with cgroup
 * management disabled: on hybrid hosts crun refuses to start otherwise. The mounts already on the host, such as the
 * prepared rootfs, are copied into the namespace. The runtime's path and arguments are passed as positional
 * parameters, never spliced into the script.
 */
const CRUN_IN_CGROUP2 = 'mount -t cgroup2 none /sys/fs/cgroup && exec "$@"';

async function runtimeCommand(options: RuncExecutorOptions, binary: string): Promise<RuntimeCommand> {
  if (options.runtime !== 'crun' || !(await isCgroupHybrid())) return { file: binary, prefix: [] };
  return {
    file: 'unshare',
    prefix: ['--mount', '--propagation', 'private', '--', 'sh', '-c', CRUN_IN_CGROUP2, 'sh', binary, '--cgroup-manager=disabled'],
  };
}

interface RuntimeRun {
  readonly command: RuntimeCommand;
  readonly root: string;
  readonly id: string;
  readonly bundleDir: string;
}

function runtimeArgs(run: RuntimeRun, args: readonly string[]): string[] {
  return [...run.command.prefix, '--root', run.root, ...args];
}

async function runRuntime(run: RuntimeRun, request: ExecRequest, signal: AbortSignal): Promise<ExecResult> {
  const started = performance.now();
  const pidFile = path.join(run.bundleDir, 'init.pid');
  await using stdio = await openProcessStdio(request.onOutput);
  // runc and crun pass their own stdio on to the container process when it has no terminal.
  const child = spawn(run.command.file, runtimeArgs(run, ['run', '--bundle', run.bundleDir, '--pid-file', pidFile, run.id]), {
    stdio: [...stdio.childFds],
  });
  // runc run removes its container on exit; this covers a killed runc. A non-zero status means nothing was left.
  let removed = false;
  const removeContainer = async (): Promise<void> => {
    if (removed) return;
    removed = true;
    await waitForClose(spawn(run.command.file, runtimeArgs(run, ['delete', '--force', run.id]), { stdio: 'ignore' }));
  };
  // A container left by a runtime killed while creating it still holds the output pipes: remove it before draining.
  const closed = stdio.waitForChild(child, { afterExit: removeContainer });
  const kill = (): void => {
    // runc kill reaches the container init; if the container does not exist yet, stop runc itself.
    execFile(run.command.file, runtimeArgs(run, ['kill', run.id, 'KILL']), (err) => {
      if (err !== null && child.pid !== undefined) killPid(child.pid);
    });
  };
  signal.addEventListener('abort', kill, { once: true });
  let exit;
  try {
    exit = await closed;
  } finally {
    signal.removeEventListener('abort', kill);
    await removeContainer();
  }
  signal.throwIfAborted();
  const durationMs = performance.now() - started;
  const argv = request.process.args;
  if (exit.code !== 0 && !(await pathExists(pidFile))) {
    const detail = Buffer.concat(stdio.stderrTail).toString('utf8').trim().split('\n').slice(-5).join('\n');
    throw new ExecError(`Cannot run ${JSON.stringify(argv)}: ${detail}`, { code: 'EXEC_START', argv });
  }
  // runc reports death by a signal as exit status 128+n, indistinguishable from a plain exit code.
  return { exitCode: exit.code, signal: exit.signal, durationMs };
}

/** createRuncExecutor returns an Executor that runs the same runtime spec through runc or crun. */
export function createRuncExecutor(options: RuncExecutorOptions): Executor {
  const binary = options.binary ?? options.runtime;
  let swept: Promise<void> | undefined;
  let command: Promise<RuntimeCommand> | undefined;
  // Unique per executor, not just per process: a resident tbuild process runs many builds, each with its own executor.
  const id = randomBytes(4).toString('hex');
  let runs = 0;
  return {
    async run(request: ExecRequest, runOptions: { signal: AbortSignal }): Promise<ExecResult> {
      const { signal } = runOptions;
      signal.throwIfAborted();
      // The runtime creates and removes the cgroups itself; only bundles need sweeping.
      swept ??= sweepStateDir(options.stateDir, { version: 0 });
      await swept;
      command ??= runtimeCommand(options, binary);
      const runtime = await command;
      const argv = request.process.args;
      const user = await resolveUser(request.rootfs, request.process.user, { signal, argv });
      await using network = request.network === 'default' ? (options.networks ?? unpooledNetworks).acquire({ signal, argv }) : undefined;
      await using bundle = await createBundle(options.stateDir, request, {
        rootMode: 'prepared',
        user,
        nofile: await hostNofileLimit(),
        ...(network === undefined ? {} : { netnsPath: network.nsPath }),
        // Relative: the runtime nests it under its own cgroup, as tbuild's helper does. crun is left to its defaults:
        // on hybrid v1/v2 hosts it runs with its cgroup manager disabled (see runtimeCommand).
        ...(options.runtime === 'runc' ? { cgroupsPath: `tbuild/runc-${process.pid}-${id}-${runs++}` } : {}),
        signal,
      });
      const layers = { lowerdirs: bundle.lowerdirs, upperdir: request.rootfs.upperdir, workdir: request.rootfs.workdir };
      // The rootfs and each RUN --mount overlay (a rw bind, a cache started from a stage) are mounted here, on the host.
      const mounted: string[] = [];
      try {
        await mountOverlay(bundle.rootfsDir, layers);
        mounted.push(bundle.rootfsDir);
        for (const m of bundle.overlays) {
          if (m.stageDir === undefined) throw new InternalError(`The overlay mount at "${m.target}" has no stage directory`);
          await mountOverlay(m.stageDir, m);
          mounted.push(m.stageDir);
        }
        const root = path.join(options.stateDir, `${options.runtime}-state`);
        const id = `tbuild-${path.basename(bundle.dir)}`;
        await network?.ready();
        const result = await runRuntime({ command: runtime, root, id, bundleDir: bundle.dir }, request, signal);
        network?.release();
        return result;
      } finally {
        for (const dir of mounted.reverse()) unmountRootfs(dir);
      }
    },
  };
}
