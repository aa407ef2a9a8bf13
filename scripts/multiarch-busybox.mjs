#!/usr/bin/env node
// Builds a busybox image for several platforms, offline, from Debian's busybox-static packages, as one OCI image
// index in a layout, and optionally pushes it to a registry with skopeo. The .debs and the built layout are cached
// under /var/cache/tbuild ($TBUILD_FIXTURE_CACHE), so only a machine's first run downloads anything; concurrent
// callers share the cache safely (the download takes a lock, the layout is built aside and renamed into place).
//
//   node scripts/multiarch-busybox.mjs layout          print the cached layout's folder (building it if missing)
//   node scripts/multiarch-busybox.mjs push HOST [REPO] push HOST/REPO:latest (default REPO library/busybox-multiarch)
//
// This file is the single implementation: test/fixtures/multiarch-busybox.ts re-exports it.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { BUSYBOX_TAG, hostArchitecture, listApplets, writeBusyboxImage, writeOciLayout } from './seed-busybox.mjs';

const execFileAsync = promisify(execFile);
const DEBS_SCRIPT = fileURLToPath(new URL('./busybox-debs.sh', import.meta.url));
const CACHE = process.env['TBUILD_FIXTURE_CACHE'] ?? '/var/cache/tbuild';

/** MULTIARCH_IMAGES are the platforms of the image, in index order. arm64 carries its v8 variant, as Docker Hub's do. */
export const MULTIARCH_IMAGES = [
  { debianArch: 'amd64', platform: { os: 'linux', architecture: 'amd64' }, machine: 'x86_64' },
  { debianArch: 'arm64', platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, machine: 'aarch64' },
  { debianArch: 'armhf', platform: { os: 'linux', architecture: 'arm', variant: 'v7' }, machine: 'armv7l' },
];

/** MULTIARCH_REPOSITORY is where seedMultiarchBusybox pushes the image by default. */
export const MULTIARCH_REPOSITORY = 'library/busybox-multiarch';

/** fetchBusyboxDebs returns the cached busybox-static .deb of each Debian architecture, downloading missing ones. */
export async function fetchBusyboxDebs(debianArchs) {
  const env = { ...process.env, TBUILD_DEB_CACHE: join(CACHE, 'debs') };
  const { stdout } = await execFileAsync(DEBS_SCRIPT, [...debianArchs], { maxBuffer: 1 << 20, env });
  const debs = stdout.split('\n').filter((l) => l !== '');
  if (debs.length !== debianArchs.length) throw new Error(`busybox-debs.sh printed ${debs.length} packages for ${debianArchs.length} architectures`);
  return debs;
}

async function buildLayout(dir, debs) {
  const blobDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobDir, { recursive: true });
  const roots = await Promise.all(
    debs.map(async (deb, i) => {
      const root = join(dir, `.root-${i}`);
      await execFileAsync('dpkg-deb', ['-x', deb, root]);
      return root;
    }),
  );
  // Every architecture's package is built from one source with one configuration: the native binary lists the applets.
  const native = MULTIARCH_IMAGES.findIndex((m) => m.platform.architecture === hostArchitecture());
  const nativeRoot = roots[native];
  if (nativeRoot === undefined) throw new Error(`The multi-platform busybox image has no platform for this machine's architecture ${hostArchitecture()}`);
  const applets = await listApplets(join(nativeRoot, 'bin', 'busybox'));
  const manifests = [];
  for (const [i, image] of MULTIARCH_IMAGES.entries()) {
    const root = roots[i];
    if (root === undefined) throw new Error(`No package was fetched for ${image.debianArch}`);
    manifests.push(await writeBusyboxImage(blobDir, { busybox: join(root, 'bin', 'busybox'), applets, platform: image.platform }));
  }
  await writeOciLayout(dir, manifests);
  await Promise.all(roots.map((r) => rm(r, { recursive: true, force: true })));
}

async function exists(path) {
  try {
    await access(path);
    return true;
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return false;
    throw err;
  }
}

/** multiarchBusyboxLayout returns an OCI layout holding the image's index (tag "latest"), built once per package set. */
export async function multiarchBusyboxLayout() {
  const debs = await fetchBusyboxDebs(MULTIARCH_IMAGES.map((m) => m.debianArch));
  const key = createHash('sha256').update(debs.map((d) => basename(d)).join('\n')).digest('hex').slice(0, 16);
  const parent = join(CACHE, 'busybox-multiarch');
  const dir = join(parent, key);
  if (await exists(join(dir, 'index.json'))) return dir;
  await mkdir(parent, { recursive: true });
  const building = await mkdtemp(join(parent, '.build-'));
  try {
    await buildLayout(building, debs);
    await rename(building, dir);
  } catch (err) {
    // Another caller renamed its (identical) layout into place first.
    if (!(err instanceof Error && 'code' in err && (err.code === 'ENOTEMPTY' || err.code === 'EEXIST'))) throw err;
  } finally {
    await rm(building, { recursive: true, force: true });
  }
  return dir;
}

/** seedMultiarchBusybox pushes the image's index and its images as HOST/REPOSITORY:latest (plain HTTP registry). */
export async function seedMultiarchBusybox(host, repository = MULTIARCH_REPOSITORY) {
  const layout = await multiarchBusyboxLayout();
  await execFileAsync('skopeo', [
    'copy', '--quiet', '--all', '--preserve-digests', '--dest-tls-verify=false',
    `oci:${layout}:${BUSYBOX_TAG}`, `docker://${host}/${repository}:${BUSYBOX_TAG}`,
  ]);
}

async function main(argv) {
  const [command, host, repository] = argv;
  if (command === 'layout' && host === undefined) return void process.stdout.write(`${await multiarchBusyboxLayout()}\n`);
  if (command === 'push' && host) return seedMultiarchBusybox(host, repository);
  throw new Error('usage: multiarch-busybox.mjs layout | push HOST [REPOSITORY]');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`multiarch-busybox: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
