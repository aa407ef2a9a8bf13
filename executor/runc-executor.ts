import { randomBytes } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { ExecError } from '../base/errors.js';
import { pathExists } from '../base/fs.js';
import { createBundle } from './bundle.js';
import { leaveCgroupParent, openRunCgroup } from './cgroup.js';
import { cgroupParentPath, cgroupRoots, detectCgroupLayout, isCgroupHybrid, type CgroupLayout } from './cgroup-layout.js';
import { killPid, signalPid, waitForClose } from './child-process.js';
import { hostNofileLimit } from './host-limits.js';
import { OverlayDrivers } from './overlay-driver.js';
import { mountHostOverlays } from './overlay-mount.js';
import type { ExecRequest, ExecResult, Executor, NetworkMode } from './types.js';
import { unpooledNetworks, type NetworkProvider } from './sandbox-network.js';
import { sweepStateDir } from './state-sweep.js';
import { openExecStdio } from './terminal.js';
import { resolveUser, rootfsTree } from './user.js';

/** RuncExecutorOptions configures an executor that delegates to an OCI runtime binary. */
export interface RuncExecutorOptions {
  readonly stateDir: string;
  readonly runtime: 'runc' | 'crun';
  /** The runtime binary; defaults to the runtime name looked up in PATH. */
  readonly binary?: string;
  /** Where default-network RUNs get their network namespace (a pool of ready ones); by default each is made when asked. */
  readonly networks?: NetworkProvider;
  /** The store's file that keeps a trial overlay mount that worked (see probeKernelOverlayOnce); without it, each process tries. */
  readonly overlayProbeMemo?: string;
}

/** RuntimeCommand is how to invoke the runtime: a program and the arguments that precede the runtime's own. */
interface RuntimeCommand {
  readonly file: string;
  readonly prefix: readonly string[];
}

/**
 * crun runs with its cgroup manager disabled, in a cgroup tbuild makes as for its own sandbox (limits, devices, usage,
 * cgroup parent): JOIN_CGROUP moves the shell that becomes crun into it first, so crun and the container are born
 * there. On hybrid hosts crun refuses to start with its manager, and MOUNT_CGROUP2 gives it a private mount namespace
 * with cgroup2 mounted over /sys/fs/cgroup (the host's mounts, such as the prepared rootfs, are copied into it). The
 * cgroup.procs files, the runtime's path and its arguments are positional parameters, never spliced into the script.
 */
const JOIN_CGROUP = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done; ';
const MOUNT_CGROUP2 = 'mount -t cgroup2 none /sys/fs/cgroup && ';

/** runtimeCommand is how to start the runtime; for crun, in the cgroup whose cgroup.procs files are given. */
function runtimeCommand(options: RuncExecutorOptions, binary: string, hybrid: boolean, procsFiles: readonly string[]): RuntimeCommand {
  if (options.runtime !== 'crun') return { file: binary, prefix: [] };
  const script = `${JOIN_CGROUP}${hybrid ? MOUNT_CGROUP2 : ''}exec "$@"`;
  const sh = ['-c', script, 'sh', String(procsFiles.length), ...procsFiles, binary, '--cgroup-manager=disabled'];
  return hybrid ? { file: 'unshare', prefix: ['--mount', '--propagation', 'private', '--', 'sh', ...sh] } : { file: 'sh', prefix: sh };
}

interface RuntimeRun {
  /** How to start `run`, and how to reach the container later (kill, delete). */
  readonly command: RuntimeCommand;
  readonly control: RuntimeCommand;
  readonly root: string;
  readonly id: string;
  readonly bundleDir: string;
}

function runtimeArgs(command: RuntimeCommand, run: RuntimeRun, args: readonly string[]): string[] {
  return [...command.prefix, '--root', run.root, ...args];
}

async function runRuntime(run: RuntimeRun, request: ExecRequest, signal: AbortSignal): Promise<ExecResult> {
  const started = performance.now();
  const pidFile = path.join(run.bundleDir, 'init.pid');
  // With a terminal, runc and crun make a pty in the container and copy between it and their own stdio (this pty),
  // passing its size on when they get SIGWINCH; without one they pass their own stdio on to the container process.
  let runtimePid: number | undefined;
  await using stdio = await openExecStdio(request, { resized: () => void (runtimePid === undefined ? undefined : signalPid(runtimePid, 'SIGWINCH')) });
  const child = spawn(run.command.file, runtimeArgs(run.command, run, ['run', '--bundle', run.bundleDir, '--pid-file', pidFile, run.id]), {
    stdio: [...stdio.childFds],
  });
  runtimePid = child.pid;
  // runc run removes its container on exit; this covers a killed runc. A non-zero status means nothing was left.
  let removed = false;
  const removeContainer = async (): Promise<void> => {
    if (removed) return;
    removed = true;
    await waitForClose(spawn(run.control.file, runtimeArgs(run.control, run, ['delete', '--force', run.id]), { stdio: 'ignore' }));
  };
  // A container left by a runtime killed while creating it still holds the output pipes: remove it before draining.
  const closed = stdio.waitForChild(child, { afterExit: removeContainer });
  const kill = (): void => {
    // runc kill reaches the container init; if the container does not exist yet, stop runc itself.
    execFile(run.control.file, runtimeArgs(run.control, run, ['kill', run.id, 'KILL']), (err) => {
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

/**
 * runcCgroupsPath is the cgroup runc makes for an exec. Relative, runc nests it under its own cgroup, as tbuild's
 * helper does; under a cgroup parent it is a path from each hierarchy's root, as BuildKit gives runc.
 */
function runcCgroupsPath(request: ExecRequest, name: string): string {
  if (request.cgroupParent === undefined) return `tbuild/runc-${name}`;
  return path.posix.join('/', cgroupParentPath(request.cgroupParent), 'tbuild', `runc-${name}`);
}

/**
 * leavingCgroupParent removes, once disposed after runc removed its cgroup, the tbuild folders runc made in the
 * parent: in every hierarchy mounted, as runc makes its cgroup in each.
 */
function leavingCgroupParent(cgroupParent: string): AsyncDisposable {
  const rel = cgroupParentPath(cgroupParent);
  return { [Symbol.asyncDispose]: async () => leaveCgroupParent((await cgroupRoots()).map((root) => path.join(root, rel, 'tbuild'))) };
}

/** createRuncExecutor returns an Executor that runs the same runtime spec through runc or crun. */
export function createRuncExecutor(options: RuncExecutorOptions): Executor {
  const binary = options.binary ?? options.runtime;
  let prepared: Promise<{ layout: CgroupLayout; hybrid: boolean }> | undefined;
  // Unique per executor, not just per process: a resident tbuild process runs many builds, each with its own executor.
  const id = randomBytes(4).toString('hex');
  let runs = 0;
  const drivers = new OverlayDrivers({ probeDir: options.stateDir, ...(options.overlayProbeMemo === undefined ? {} : { probeMemo: options.overlayProbeMemo }) });
  const prepare = async (): Promise<{ layout: CgroupLayout; hybrid: boolean }> => {
    const layout = await detectCgroupLayout();
    // runc creates and removes its cgroups itself: only bundles need sweeping. crun's are tbuild's.
    await sweepStateDir(options.stateDir, options.runtime === 'crun' ? layout : { version: 0 });
    return { layout, hybrid: await isCgroupHybrid() };
  };
  return {
    expect(network: NetworkMode): void {
      if (network === 'default') options.networks?.expect?.();
    },
    async run(request: ExecRequest, runOptions: { signal: AbortSignal }): Promise<ExecResult> {
      const { signal } = runOptions;
      signal.throwIfAborted();
      prepared ??= prepare();
      const { layout, hybrid } = await prepared;
      const { driver } = await drivers.decide(request.overlay ?? 'auto');
      const name = `${process.pid}-${id}-${runs++}`;
      const argv = request.process.args;
      const tree = rootfsTree(request.rootfs);
      const user = await resolveUser(tree, request.process.user, { signal, argv });
      await using network = request.network === 'default' ? (options.networks ?? unpooledNetworks).acquire({ signal, argv }) : undefined;
      await using bundle = await createBundle(options.stateDir, request, {
        rootMode: 'prepared',
        user,
        tree,
        nofile: await hostNofileLimit(),
        ...(network === undefined ? {} : { netnsPath: network.nsPath }),
        ...(options.runtime === 'runc' ? { cgroupsPath: runcCgroupsPath(request, name) } : {}),
        ...(layout.version === 2 ? { cgroupNamespace: true } : {}),
        signal,
      });
      await using cgroup =
        options.runtime === 'crun' ? await openRunCgroup(layout, request, { name, devices: bundle.spec.linux.resources.devices ?? [] }) : undefined;
      await using _parent = options.runtime === 'runc' && request.cgroupParent !== undefined ? leavingCgroupParent(request.cgroupParent) : undefined;
      const command = runtimeCommand(options, binary, hybrid, cgroup?.procsFiles ?? []);
      const control = runtimeCommand(options, binary, hybrid, []);
      // The rootfs and each RUN --mount overlay (a rw bind, a cache started from a stage) are mounted here, on the host.
      await using mounts = await mountHostOverlays(bundle, request.rootfs, driver);
      const root = path.join(options.stateDir, `${options.runtime}-state`);
      const containerId = `tbuild-${path.basename(bundle.dir)}`;
      await network?.ready();
      const result = await runRuntime({ command, control, root, id: containerId, bundleDir: bundle.dir }, request, signal);
      network?.release();
      await mounts.finish();
      return cgroup === undefined ? result : { ...result, usage: await cgroup.usage() };
    },
  };
}
