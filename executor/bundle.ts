import { mkdir, mkdtemp, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../base/errors.js';
import { isRootless, mapsId, userNamespace } from '../base/user-namespace.js';
import type { LayeredTree } from '../native/index.js';
import { buildRuntimeSpec, STANDARD_MOUNT_POINTS, TTY_GID, type RuntimeSpec, type SpecRoot } from './spec.js';
import { createRuntimeMountPoints, createStubLayer, type StubTarget } from './stubs.js';
import { writeHostFiles } from './host-files.js';
import { hostBoundingCapabilities } from './host-limits.js';
import type { ExecMount, ExecRequest, OverlayMount, ResolvedUser } from './types.js';

/**
 * DEFAULT_HOSTNAME is the sandbox hostname when the request names none: BuildKit's, so that builds which record the
 * hostname (in /etc/hosts lookups, generated files, logs) come out as they do there.
 */
export const DEFAULT_HOSTNAME = 'buildkitsandbox';

/** Bundle is an OCI bundle directory for one exec; disposing it removes the directory. */
export interface Bundle extends AsyncDisposable {
  readonly dir: string;
  /** The bundle's rootfs mount point. */
  readonly rootfsDir: string;
  /** The overlay lowerdirs to use: the stub layer on top of the image's. */
  readonly lowerdirs: readonly string[];
  /** With rootMode 'prepared': the RUN --mount overlays the caller mounts on their stageDir (bound from there). */
  readonly overlays: readonly OverlayMount[];
  readonly spec: RuntimeSpec;
}

/** BundleOptions selects who mounts the overlay and the limits to write. */
export interface BundleOptions {
  /** 'overlay': the spec carries the overlay as its "/" mount; 'prepared': the caller mounts it at rootfsDir. */
  readonly rootMode: 'overlay' | 'prepared';
  readonly user: ResolvedUser;
  /** The rootfs's layers (rootfsTree), as the user was resolved in them. */
  readonly tree: LayeredTree;
  readonly nofile: number;
  /** For runtimes that create the cgroup themselves: its path, written to linux.cgroupsPath with the limits. */
  readonly cgroupsPath?: string;
  /** Give the process a cgroup namespace of its own (see SpecInput.cgroupNamespace). */
  readonly cgroupNamespace?: boolean;
  /** With network 'default': the network namespace made for this exec. */
  readonly netnsPath?: string;
  /** false: no PID namespace of the exec's own, and the current /proc bound in (see SpecInput.processSandbox). */
  readonly processSandbox?: boolean;
  readonly signal: AbortSignal;
}

async function mountKind(m: ExecMount): Promise<'dir' | 'file'> {
  switch (m.kind) {
    case 'tmpfs':
      return 'dir';
    case 'overlay':
      return overlayKind(m);
    case 'bind':
      return (await stat(m.source)).isDirectory() ? 'dir' : 'file';
  }
}

/** overlayKind tells whether the selected path of an overlay is a file, from the topmost layer holding it. */
async function overlayKind(m: OverlayMount): Promise<'dir' | 'file'> {
  if (m.subpath === undefined || m.subpath === '') return 'dir';
  for (const layer of [m.upperdir, ...m.lowerdirs]) {
    try {
      return (await stat(path.join(layer, m.subpath))).isDirectory() ? 'dir' : 'file';
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'ENOTDIR') throw err;
    }
  }
  return 'dir';
}

/** stageOverlays gives each overlay mount an empty directory of the bundle to be mounted on. */
async function stageOverlays(dir: string, mounts: readonly ExecMount[]): Promise<ExecMount[]> {
  return Promise.all(
    mounts.map(async (m, i) => {
      if (m.kind !== 'overlay') return m;
      const stageDir = path.join(dir, `mnt-${i}`);
      await mkdir(stageDir);
      return { ...m, stageDir };
    }),
  );
}

/** preparedBind is the bind of an overlay mount's stage directory (plus subpath), once the caller mounted it there. */
function preparedBind(m: OverlayMount): ExecMount {
  const stage = m.stageDir ?? '';
  const source = m.subpath === undefined || m.subpath === '' ? stage : path.join(stage, m.subpath);
  return { kind: 'bind', source, target: m.target, readonly: m.readonly };
}

/** removeBundleDir removes a bundle directory, refusing to recurse into a rootfs that is still mounted. */
export async function removeBundleDir(dir: string): Promise<void> {
  // rmdir fails while something is still mounted on rootfs: never recurse into a mounted layer.
  try {
    await rmdir(path.join(dir, 'rootfs'));
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  await rm(dir, { recursive: true, force: true });
}

/**
 * createBundle writes config.json, the sandbox's /etc files and the stub layer into a new directory of stateDir, and
 * the runtime's missing mount points into the upperdir.
 */
export async function createBundle(stateDir: string, request: ExecRequest, options: BundleOptions): Promise<Bundle> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  // The pid in the name lets a later executor sweep bundles whose process died (see sweepStateDir).
  const dir = await mkdtemp(path.join(stateDir, `exec-${process.pid}-`));
  try {
    const rootfsDir = path.join(dir, 'rootfs');
    const stubDir = path.join(dir, 'stubs');
    const filesDir = path.join(dir, 'files');
    await Promise.all([mkdir(rootfsDir), mkdir(stubDir), mkdir(filesDir)]);
    const hostname = request.hostname ?? DEFAULT_HOSTNAME;
    const mounts = [...(await writeHostFiles(filesDir, {
        hostname,
        network: request.network,
        ...(request.extraHosts === undefined ? {} : { extraHosts: request.extraHosts }),
      })), ...(await stageOverlays(dir, request.mounts))];
    const targets: StubTarget[] = [];
    for (const m of mounts) targets.push({ path: m.target, kind: await mountKind(m) });
    await createRuntimeMountPoints(request.rootfs.upperdir, options.tree, STANDARD_MOUNT_POINTS, { signal: options.signal });
    await createStubLayer(options.tree, stubDir, targets, { signal: options.signal });
    const lowerdirs = [stubDir, ...request.rootfs.lowerdirs];
    const root: SpecRoot =
      options.rootMode === 'overlay'
        ? { kind: 'overlay', lowerdirs, upperdir: request.rootfs.upperdir, workdir: request.rootfs.workdir }
        : { kind: 'prepared' };
    // An OCI runtime knows no staged overlays (tbuild's helper mounts them itself): the caller mounts them on the host.
    const overlays = options.rootMode === 'prepared' ? mounts.filter((m) => m.kind === 'overlay') : [];
    const spec = buildRuntimeSpec({
      args: request.process.args,
      env: request.process.env,
      cwd: request.process.cwd,
      user: options.user,
      ...(request.terminal === undefined ? {} : { terminal: request.terminal.size() }),
      hostname,
      network: request.network,
      ...(options.netnsPath === undefined ? {} : { netnsPath: options.netnsPath }),
      ...(options.cgroupNamespace === true ? { cgroupNamespace: true } : {}),
      ...(options.processSandbox === false ? { processSandbox: false } : {}),
      root,
      mounts: options.rootMode === 'prepared' ? mounts.map((m) => (m.kind === 'overlay' ? preparedBind(m) : m)) : mounts,
      nofile: options.nofile,
      ...(request.shmSizeBytes === undefined ? {} : { shmSizeBytes: request.shmSizeBytes }),
      ...(request.ulimits === undefined ? {} : { ulimits: request.ulimits }),
      security: request.security ?? 'sandbox',
      ...(request.security === 'insecure' ? { hostCapabilities: await hostBoundingCapabilities() } : {}),
      ...(options.cgroupsPath === undefined ? {} : { cgroup: { path: options.cgroupsPath, resources: request.resources ?? {} } }),
      ...(isRootless() ? { rootless: { ttyGroupMapped: mapsId(userNamespace().gids, TTY_GID) } } : {}),
    });
    await writeFile(path.join(dir, 'config.json'), `${JSON.stringify(spec, null, 2)}\n`);
    return { dir, rootfsDir, lowerdirs, overlays, spec, [Symbol.asyncDispose]: () => removeBundleDir(dir) };
  } catch (err) {
    await removeBundleDir(dir);
    throw err;
  }
}
