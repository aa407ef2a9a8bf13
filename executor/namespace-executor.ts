import { randomBytes } from 'node:crypto';
import { ExecError } from '../base/errors.js';
import { createBundle } from './bundle.js';
import { openRunCgroup } from './cgroup.js';
import { detectCgroupLayout, type CgroupLayout } from './cgroup-layout.js';
import { findHelper } from './helper-path.js';
import { hostNofileLimit } from './host-limits.js';
import { OverlayDrivers } from './overlay-driver.js';
import { mountHostOverlays } from './overlay-mount.js';
import { runHelper, type HelperErrorReason } from './run-helper.js';
import { unpooledNetworks, type NetworkProvider } from './sandbox-network.js';
import { sweepStateDir } from './state-sweep.js';
import type { ExecRequest, ExecResult, Executor, NetworkMode } from './types.js';
import { resolveUser, rootfsTree } from './user.js';

/** NamespaceExecutorOptions configures the built-in sandbox. */
export interface NamespaceExecutorOptions {
  /** A directory tbuild owns; one bundle per run is created in it and removed afterwards. */
  readonly stateDir: string;
  /** The sandbox helper binary; defaults to native/build/tbuild-sandbox of this package. */
  readonly helperPath?: string;
  /** Where default-network RUNs get their network namespace (a pool of ready ones); by default each is made when asked. */
  readonly networks?: NetworkProvider;
  /** The store's file that keeps a trial overlay mount that worked (see probeKernelOverlayOnce); without it, each process tries. */
  readonly overlayProbeMemo?: string;
  /**
   * false runs each process in tbuild's own PID namespace with its /proc bound in (BuildKit's NoProcessSandbox), where
   * a new proc cannot be mounted; the helper then kills what a process leaves running. Default true.
   */
  readonly processSandbox?: boolean;
}

/** PROC_MASKED_HINT says how to run RUN steps where the kernel refuses them a /proc of their own. */
export const PROC_MASKED_HINT =
  'run tbuild with --no-process-sandbox (tbuild serve or tbuild build), or set [executor] process-sandbox = false in the settings file: RUN steps then share tbuild\'s PID namespace and /proc (see README, Rootless)';

/** startError is the error of a helper that could not start the process; a refused proc mount says why and what to do. */
function startError(argv: readonly string[], outcome: { readonly message: string; readonly reason?: HelperErrorReason }): ExecError {
  if (outcome.reason !== 'proc-masked') return new ExecError(`Cannot run ${JSON.stringify(argv)}: ${outcome.message}`, { code: 'EXEC_START', argv });
  const why = 'the kernel refuses a user namespace a new /proc while the /proc it sees is partly masked or read-only, as Kubernetes and Docker mask it by default';
  return new ExecError(`Cannot run ${JSON.stringify(argv)}: cannot mount /proc for its PID namespace: ${why} (${outcome.message})`, { code: 'EXEC_START', argv, hint: PROC_MASKED_HINT });
}

/**
 * createNamespaceExecutor returns an Executor that runs processes through tbuild's own sandbox helper. Each run gets
 * a cgroup of its own (limits from the request, usage reported in the result); the first run sweeps what executors
 * of dead processes left in stateDir and in tbuild's cgroups.
 */
export function createNamespaceExecutor(options: NamespaceExecutorOptions): Executor {
  let prepared: Promise<CgroupLayout> | undefined;
  // Unique per executor, not just per process: a resident tbuild process runs many builds, each with its own executor.
  const id = randomBytes(4).toString('hex');
  let runs = 0;
  const drivers = new OverlayDrivers({ probeDir: options.stateDir, ...(options.overlayProbeMemo === undefined ? {} : { probeMemo: options.overlayProbeMemo }) });
  const prepare = async (): Promise<CgroupLayout> => {
    const layout = await detectCgroupLayout();
    await sweepStateDir(options.stateDir, layout);
    return layout;
  };
  return {
    expect(network: NetworkMode): void {
      if (network === 'default') options.networks?.expect?.();
    },
    async run(request: ExecRequest, runOptions: { signal: AbortSignal }): Promise<ExecResult> {
      const { signal } = runOptions;
      signal.throwIfAborted();
      prepared ??= prepare();
      const layout = await prepared;
      const { driver } = await drivers.decide(request.overlay ?? 'auto');
      const started = performance.now();
      const argv = request.process.args;
      const helper = options.helperPath ?? (await findHelper());
      const tree = rootfsTree(request.rootfs);
      const user = await resolveUser(tree, request.process.user, { signal, argv });
      await using network = request.network === 'default' ? (options.networks ?? unpooledNetworks).acquire({ signal, argv }) : undefined;
      await using bundle = await createBundle(options.stateDir, request, {
        // The helper mounts the kernel's overlayfs in its own mount namespace; fuse-overlayfs runs here, and the
        // helper binds what it mounted.
        rootMode: driver === 'kernel' ? 'overlay' : 'prepared',
        user,
        tree,
        nofile: await hostNofileLimit(),
        ...(network === undefined ? {} : { netnsPath: network.nsPath }),
        ...(options.processSandbox === false ? { processSandbox: false } : {}),
        signal,
      });
      const devices = bundle.spec.linux.resources.devices ?? [];
      await using cgroup = await openRunCgroup(layout, request, { name: `${process.pid}-${id}-${runs++}`, devices });
      // slirp4netns started while the bundle and cgroup were made; the process needs it, and ends before it goes.
      await using mounts = driver === 'fuse' ? await mountHostOverlays(bundle, request.rootfs, driver) : undefined;
      await network?.ready();
      const outcome = await runHelper(helper, bundle.dir, request, { signal, cgroupProcs: cgroup.procsFiles });
      network?.release();
      await mounts?.finish();
      const durationMs = performance.now() - started;
      if (outcome === undefined) {
        throw new ExecError(`Cannot run ${JSON.stringify(argv)}: the sandbox helper ended without a result`, {
          code: 'EXEC_START',
          argv,
        });
      }
      switch (outcome.type) {
        case 'exited':
          return { exitCode: outcome.exitCode, signal: null, durationMs, usage: await cgroup.usage() };
        case 'signaled':
          return { exitCode: null, signal: outcome.signal, durationMs, usage: await cgroup.usage() };
        case 'error':
          throw startError(argv, outcome);
      }
    },
  };
}
