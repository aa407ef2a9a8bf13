#!/usr/bin/env node
// Builds an offline, deterministic busybox image as an OCI image layout from Debian's
// busybox-static, and optionally pushes it to a registry with skopeo.
//
//   node scripts/seed-busybox.mjs layout DIR      write the layout into DIR
//   node scripts/seed-busybox.mjs push HOST       push HOST/library/busybox:latest
//
// This file is the single implementation: test/fixtures/busybox-image.ts re-exports it.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';

const execFileAsync = promisify(execFile);

/** BUSYBOX_PATH is the static busybox binary copied into the image. */
export const BUSYBOX_PATH = '/bin/busybox';
/** BUSYBOX_TAG is the tag the layout's manifest is published under. */
export const BUSYBOX_TAG = 'latest';

const EPOCH = new Date(0);
const CREATED = '1970-01-01T00:00:00Z';
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const ARCH = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', s390x: 's390x', ppc64: 'ppc64le', riscv64: 'riscv64' };

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
  'app:x:1000:1000:app:/home/app:/bin/sh',
  '',
].join('\n');
const GROUP = ['root:x:0:', 'app:x:1000:', 'nogroup:x:65534:', ''].join('\n');

/** hostArchitecture returns the OCI architecture name of this machine. */
export function hostArchitecture() {
  return ARCH[process.arch] ?? process.arch;
}

/** listApplets asks a busybox binary this machine can run for the paths of its applet links. */
export async function listApplets(busybox = BUSYBOX_PATH) {
  const { stdout } = await execFileAsync(busybox, ['--list-full']);
  return stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '' && l !== 'bin/busybox');
}

/** Returns every tar entry of the layer, sorted by path, without file contents. */
function layerEntries(busybox, applets) {
  const dirs = new Map([
    ['etc', { mode: 0o755 }],
    ['home', { mode: 0o755 }],
    ['home/app', { mode: 0o755, uid: 1000, gid: 1000 }],
    ['root', { mode: 0o700 }],
    ['tmp', { mode: 0o1777 }],
    ['bin', { mode: 0o755 }],
  ]);
  for (const applet of applets) {
    const parts = applet.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!dirs.has(d)) dirs.set(d, { mode: 0o755 });
    }
  }
  const entries = [...dirs].map(([name, o]) => ({ name: `${name}/`, type: 'directory', mode: o.mode, uid: o.uid ?? 0, gid: o.gid ?? 0 }));
  entries.push({ name: 'bin/busybox', type: 'file', mode: 0o755, uid: 0, gid: 0, source: busybox });
  entries.push({ name: 'etc/passwd', type: 'file', mode: 0o644, uid: 0, gid: 0, content: PASSWD });
  entries.push({ name: 'etc/group', type: 'file', mode: 0o644, uid: 0, gid: 0, content: GROUP });
  for (const applet of applets) {
    entries.push({ name: applet, type: 'symlink', linkname: BUSYBOX_PATH, mode: 0o777, uid: 0, gid: 0 });
  }
  const key = (e) => e.name.replace(/\/$/, '');
  return entries.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

async function writeEntry(pack, e) {
  const header = { name: e.name, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, mtime: EPOCH, uname: '', gname: '' };
  if (e.type === 'symlink') header.linkname = e.linkname;
  if (e.type !== 'file') {
    await new Promise((resolve, reject) => pack.entry(header, (err) => (err ? reject(err) : resolve())));
    return;
  }
  if (e.content !== undefined) {
    await new Promise((resolve, reject) => pack.entry(header, e.content, (err) => (err ? reject(err) : resolve())));
    return;
  }
  const { size } = await stat(e.source);
  await new Promise((resolve, reject) => {
    const sink = pack.entry({ ...header, size }, (err) => (err ? reject(err) : resolve()));
    createReadStream(e.source).on('error', reject).pipe(sink);
  });
}

function hashing(hash) {
  return new Transform({
    transform(chunk, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
}

/** Writes the gzip layer into the layout's blob dir and returns its digests and size. */
async function writeLayer(blobDir, busybox, applets) {
  const entries = layerEntries(busybox, applets);
  const pack = tar.pack();
  const diffHash = createHash('sha256');
  const blobHash = createHash('sha256');
  const tmp = join(blobDir, `.layer-${process.pid}-${Math.random().toString(36).slice(2)}.tmp`);
  const producing = (async () => {
    for (const e of entries) await writeEntry(pack, e);
    pack.finalize();
  })();
  const consuming = pipeline(pack, hashing(diffHash), createGzip({ level: 9 }), hashing(blobHash), createWriteStream(tmp));
  await Promise.all([producing, consuming]);
  const digest = `sha256:${blobHash.digest('hex')}`;
  await rename(tmp, join(blobDir, digest.slice(7)));
  const { size } = await stat(join(blobDir, digest.slice(7)));
  return { digest, diffId: `sha256:${diffHash.digest('hex')}`, size };
}

async function writeJsonBlob(blobDir, value) {
  const bytes = Buffer.from(JSON.stringify(value));
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  await writeFile(join(blobDir, digest.slice(7)), bytes);
  return { digest, size: bytes.length };
}

/**
 * writeBusyboxImage writes the layer, config and manifest of a busybox image for one platform into blobDir and
 * returns the manifest's descriptor, with its platform.
 */
export async function writeBusyboxImage(blobDir, { busybox, applets, platform }) {
  const layer = await writeLayer(blobDir, busybox, applets);
  const config = {
    created: CREATED,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant === undefined ? {} : { variant: platform.variant }),
    config: { Env: [PATH_ENV], Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    history: [
      { created: CREATED, created_by: 'ADD busybox-static /bin/busybox and its applet links, /etc/passwd, /etc/group' },
      { created: CREATED, created_by: 'CMD ["sh"]', empty_layer: true },
    ],
  };
  const configBlob = await writeJsonBlob(blobDir, config);
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configBlob },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest, size: layer.size }],
  };
  const manifestBlob = await writeJsonBlob(blobDir, manifest);
  return { mediaType: manifest.mediaType, ...manifestBlob, platform };
}

/**
 * writeOciLayout writes the oci-layout file and an index.json whose one entry, tagged "latest", is the manifest given
 * or, for several, an image index of them (the multi-platform image skopeo copy --all pushes).
 */
export async function writeOciLayout(dir, manifests) {
  const tag = { 'org.opencontainers.image.ref.name': BUSYBOX_TAG };
  let entry;
  if (manifests.length === 1) {
    const [{ platform, ...d }] = manifests;
    entry = { ...d, annotations: tag, platform };
  } else {
    const images = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests };
    entry = { mediaType: images.mediaType, ...(await writeJsonBlob(join(dir, 'blobs', 'sha256'), images)), annotations: tag };
  }
  const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [entry] };
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(dir, 'index.json'), JSON.stringify(index));
}

/** makeBusyboxOciLayout writes a deterministic busybox OCI image layout into dir (tag "latest"). */
export async function makeBusyboxOciLayout(dir) {
  const blobDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobDir, { recursive: true });
  const platform = { architecture: hostArchitecture(), os: 'linux' };
  const manifest = await writeBusyboxImage(blobDir, { busybox: BUSYBOX_PATH, applets: await listApplets(), platform });
  await writeOciLayout(dir, [manifest]);
}

/** seedBusybox builds the layout in a temp dir and pushes it as HOST/library/busybox:latest. */
export async function seedBusybox(host) {
  const dir = await mkdtemp(join(tmpdir(), 'tbuild-busybox-'));
  try {
    await makeBusyboxOciLayout(dir);
    await execFileAsync('skopeo', [
      'copy', '--quiet', '--dest-tls-verify=false',
      `oci:${dir}:${BUSYBOX_TAG}`, `docker://${host}/library/busybox:${BUSYBOX_TAG}`,
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(argv) {
  const [command, arg] = argv;
  if (command === 'layout' && arg) return makeBusyboxOciLayout(arg);
  if (command === 'push' && arg) return seedBusybox(arg);
  throw new Error('usage: seed-busybox.mjs layout DIR | push HOST');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`seed-busybox: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
