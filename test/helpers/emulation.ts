import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll } from 'vitest';
import { REPO_ROOT, run, runTbuild, type CliResult } from './cli.js';

/**
 * useEmulators registers QEMU's arm64 and arm emulators with binfmt_misc before the suite, with `tbuild binfmt
 * --install`, which only adds handlers: those registered already (by Debian's binfmt-support) are kept.
 */
export function useEmulators(): void {
  beforeAll(async () => {
    const res = await runTbuild(['binfmt', '--install', 'arm64,arm']);
    if (res.code !== 0) throw new Error(`Cannot register the arm64 and arm emulators (tbuild binfmt --install arm64,arm):\n${res.stderr}`);
  });
}

/**
 * runIsolated runs tbuild in its own user and mount namespaces over a fresh binfmt_misc (the kernel gives each user
 * namespace its own), so it sees no emulator and may register some without touching the machine's handlers.
 */
export function runIsolated(args: readonly string[]): Promise<CliResult> {
  const script = 'mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc && exec "$@"';
  return run('unshare', ['--user', '--map-root-user', '--mount', 'sh', '-c', script, 'sh', process.execPath, join(REPO_ROOT, 'bin', 'tbuild.js'), ...args]);
}

/** ImageSummary is an OCI archive's one image: its platform and where its rootfs was unpacked. */
export interface UnpackedImage {
  readonly os: string;
  readonly architecture: string;
  readonly variant: string | undefined;
  readonly rootfs: string;
}

interface Layout {
  manifests: { digest: string; annotations?: Record<string, string> }[];
}

/** unpackOciArchive extracts a tbuild type=oci archive into dir, reads its config and unpacks its rootfs with umoci. */
export async function unpackOciArchive(archive: string, dir: string): Promise<UnpackedImage> {
  const layout = join(dir, 'layout');
  await mkdir(layout, { recursive: true });
  const untar = await run('tar', ['-xf', archive, '-C', layout]);
  if (untar.code !== 0) throw new Error(`Cannot extract ${archive}: ${untar.stderr}`);
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as Layout;
  const entry = index.manifests[0];
  if (entry === undefined) throw new Error(`${archive} holds no image`);
  const blob = async <T>(digest: string): Promise<T> => JSON.parse(await readFile(join(layout, 'blobs', 'sha256', digest.slice(7)), 'utf8')) as T;
  const manifest = await blob<{ config: { digest: string } }>(entry.digest);
  const config = await blob<{ os: string; architecture: string; variant?: string }>(manifest.config.digest);
  const tag = entry.annotations?.['org.opencontainers.image.ref.name'] ?? 'latest';
  const bundle = join(dir, 'bundle');
  const unpack = await run('umoci', ['unpack', '--image', `${layout}:${tag}`, bundle]);
  if (unpack.code !== 0) throw new Error(`umoci cannot unpack ${archive}: ${unpack.stderr}`);
  return { os: config.os, architecture: config.architecture, variant: config.variant, rootfs: join(bundle, 'rootfs') };
}
