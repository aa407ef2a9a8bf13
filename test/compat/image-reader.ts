import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createGunzip } from 'node:zlib';
import { readTar, type TarEntry } from './tar-reader.js';

const execFileAsync = promisify(execFile);

/** ImageConfig is the part of an OCI/Docker image config file the comparison reads. */
export interface ImageConfig {
  readonly created?: string;
  readonly os?: string;
  readonly architecture?: string;
  readonly config?: Readonly<Record<string, unknown>>;
  readonly rootfs?: { readonly diff_ids?: readonly string[] };
  readonly history?: readonly HistoryEntry[];
}

/** HistoryEntry is one entry of an image config's history. */
export interface HistoryEntry {
  readonly created?: string;
  readonly created_by?: string;
  readonly comment?: string;
  readonly empty_layer?: boolean;
}

/** FsNode is one path of an image's root filesystem after applying its layers. */
export interface FsNode extends Omit<TarEntry, 'path' | 'linkname'> {
  /** Symlink target ('' otherwise). */
  readonly linkname: string;
  /** Identity shared by hard links to the same file. */
  readonly inode: number;
}

/** Rootfs maps absolute paths ("/", "/etc/passwd") to their node. */
export type Rootfs = Map<string, FsNode>;

/** Image is what an image archive holds: its config and its root filesystem. */
export interface Image {
  readonly config: ImageConfig;
  readonly diffIds: readonly string[];
  readonly rootfs: Rootfs;
}

interface ArchiveLayout {
  readonly configPath: string;
  readonly layerPaths: readonly string[];
}

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8')) as unknown;
}

function field<T>(value: unknown, key: string): T {
  if (typeof value !== 'object' || value === null || !(key in value)) throw new Error(`Cannot read image archive: no "${key}"`);
  return (value as Record<string, T>)[key] as T;
}

const blob = (dir: string, digest: string): string => join(dir, 'blobs', ...digest.split(':'));

/** Finds the config and layer files of a `docker save` tarball or an OCI image layout, unpacked in dir. */
async function locate(dir: string): Promise<ArchiveLayout> {
  const manifestJson = await readJson(join(dir, 'manifest.json')).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (Array.isArray(manifestJson)) {
    const first: unknown = manifestJson[0];
    return {
      configPath: join(dir, field<string>(first, 'Config')),
      layerPaths: field<string[]>(first, 'Layers').map((l) => join(dir, l)),
    };
  }
  let descriptor: unknown = field<unknown[]>(await readJson(join(dir, 'index.json')), 'manifests')[0];
  for (;;) {
    const doc = await readJson(blob(dir, field<string>(descriptor, 'digest')));
    if (typeof doc === 'object' && doc !== null && 'manifests' in doc) {
      descriptor = field<unknown[]>(doc, 'manifests')[0];
      continue;
    }
    return {
      configPath: blob(dir, field<string>(field<unknown>(doc, 'config'), 'digest')),
      layerPaths: field<unknown[]>(doc, 'layers').map((l) => blob(dir, field<string>(l, 'digest'))),
    };
  }
}

async function isGzip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { buffer } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

function normalize(path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  return `/${parts.join('/')}`;
}

const parentOf = (path: string): string => path.slice(0, path.lastIndexOf('/')) || '/';

function removeTree(rootfs: Rootfs, path: string, keepSelf: boolean): void {
  if (!keepSelf) rootfs.delete(path);
  const prefix = path === '/' ? '/' : `${path}/`;
  for (const key of [...rootfs.keys()]) if (key.startsWith(prefix) && key !== '/') rootfs.delete(key);
}

/** Applies one layer tarball onto rootfs: whiteouts (.wh.*), opaque directories (.wh..wh..opq) and hard links. */
async function applyLayer(rootfs: Rootfs, layerPath: string, nextInode: () => number): Promise<void> {
  const entries: TarEntry[] = [];
  const raw = createReadStream(layerPath);
  const stream = (await isGzip(layerPath)) ? raw.pipe(createGunzip()) : raw;
  await readTar(stream, (e) => entries.push(e));
  // Whiteouts hide lower layers only, so they are applied before this layer's own entries.
  for (const e of entries) {
    const path = normalize(e.path);
    const base = path.slice(path.lastIndexOf('/') + 1);
    if (base === '.wh..wh..opq') removeTree(rootfs, parentOf(path), true);
    else if (base.startsWith('.wh.')) removeTree(rootfs, `${parentOf(path) === '/' ? '' : parentOf(path)}/${base.slice(4)}`, false);
  }
  for (const e of entries) {
    const path = normalize(e.path);
    if (path.slice(path.lastIndexOf('/') + 1).startsWith('.wh.')) continue;
    const existing = rootfs.get(path);
    if (existing?.type === 'dir' && e.type !== 'dir') removeTree(rootfs, path, false);
    if (existing !== undefined && existing.type !== 'dir' && e.type === 'dir') rootfs.delete(path);
    if (e.type === 'hardlink') {
      const target = rootfs.get(normalize(e.linkname));
      if (target === undefined) throw new Error(`Cannot apply layer: hard link ${path} to missing ${e.linkname}`);
      rootfs.set(path, target);
      continue;
    }
    const { path: _path, linkname, ...rest } = e;
    rootfs.set(path, { ...rest, linkname: e.type === 'symlink' ? linkname : '', inode: nextInode() });
  }
}

/**
 * readImageArchive reads a `docker save` tarball, an OCI layout tarball or an OCI layout folder and applies its
 * layers in memory.
 */
export async function readImageArchive(archive: string): Promise<Image> {
  if ((await stat(archive)).isDirectory()) return readLayout(archive);
  const dir = await mkdtemp(join(tmpdir(), 'tbuild-compat-image-'));
  try {
    await execFileAsync('tar', ['-xf', archive, '-C', dir]);
    return await readLayout(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function readLayout(dir: string): Promise<Image> {
  const layout = await locate(dir);
  const config = (await readJson(layout.configPath)) as ImageConfig;
  const rootfs: Rootfs = new Map();
  let inode = 0;
  for (const layer of layout.layerPaths) await applyLayer(rootfs, layer, () => ++inode);
  return { config, diffIds: config.rootfs?.diff_ids ?? [], rootfs };
}
