import { chmod, chown as fsChown, copyFile, lchown, lutimes, mkdir, readlink, symlink, utimes, writeFile, constants } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { posix } from 'node:path';
import { FileOpError } from '../../base/errors.js';
import type { FsEntry, FsView } from '../../cache/fs-view.js';
import type { CopyAction, MkdirAction, MkfileAction } from '../graph/index.js';
import { resolveChown, type Owner } from './chown.js';
import { globComponentRegExp, hasWildcard } from './glob.js';

/** CopySource is where a COPY reads from, with the paths it must skip. */
export interface CopySource {
  readonly view: FsView;
  /** Tells whether an in-tree path (no leading slash) is left out (.dockerignore, --exclude). */
  readonly isExcluded: (relPath: string) => boolean;
}

/** FileTarget is the layer being written and the merged view of what lies below it. */
export interface FileTarget {
  readonly upperdir: string;
  readonly base: FsView;
}

/** Match is one source path a COPY selected. */
export interface Match {
  readonly relPath: string;
  readonly entry: FsEntry;
}

const ROOT_OWNER: Owner = { uid: 0, gid: 0 };
const PARALLEL_COPIES = 16;

/** applyCopy carries out one COPY/ADD action into the target layer. */
export async function applyCopy(action: CopyAction, source: CopySource, target: FileTarget): Promise<void> {
  const owner = action.chown === undefined ? ROOT_OWNER : await resolveChown(action.chown, target.base);
  const mode = action.chmod === undefined ? undefined : parseChmod(action.chmod);
  const matches: Match[] = [];
  for (const src of action.sources) matches.push(...(await expandSource(src, source)));
  const destDirHint = action.dest.endsWith('/') || action.dest === '.' || action.dest === '';
  const destResolved = await target.base.resolvePath(action.dest);
  const destEntry = await target.base.lookup(destResolved, { followLast: true });
  const destIsDir = destDirHint || (destEntry?.stats.isDirectory() ?? false) || matches.length > 1 || action.parents;
  if (matches.length > 1 && !destDirHint && !(destEntry?.stats.isDirectory() ?? false)) {
    throw new FileOpError('Cannot copy several sources to a file: when using COPY with more than one source file, the destination must be a directory and end with a /');
  }
  const writer = new LayerWriter(target, owner, mode);
  for (const m of matches) {
    const name = m.relPath === '' ? '' : posix.basename(m.relPath);
    let to: string;
    if (action.parents) to = posix.join(destResolved, m.relPath);
    else if (m.entry.stats.isDirectory()) to = destResolved;
    else to = destIsDir ? posix.join(destResolved, name) : destResolved;
    await writer.copyTree(m, to, source);
  }
  await writer.finish();
}

/** applyMkdir creates a directory (and parents) in the target layer. */
export async function applyMkdir(action: MkdirAction, target: FileTarget): Promise<void> {
  const owner = action.chown === undefined ? ROOT_OWNER : await resolveChown(action.chown, target.base);
  const path = await target.base.resolvePath(action.path);
  const existing = await target.base.lookup(path, { followLast: true });
  if (existing?.stats.isDirectory()) return;
  const writer = new LayerWriter(target, owner, undefined);
  await writer.ensureDir(path, action.mode, owner);
  await writer.finish();
}

/** applyMkfile writes a file with given content into the target layer. */
export async function applyMkfile(action: MkfileAction, target: FileTarget): Promise<void> {
  const owner = action.chown === undefined ? ROOT_OWNER : await resolveChown(action.chown, target.base);
  const path = await target.base.resolvePath(action.path);
  const writer = new LayerWriter(target, owner, undefined);
  await writer.ensureParents(path);
  const host = posix.join(target.upperdir, path);
  await writeFile(host, action.data, { mode: action.mode });
  await chmod(host, action.mode);
  await fsChown(host, owner.uid, owner.gid);
  await writer.finish();
}

/** expandSource finds the paths one COPY source names, expanding wildcards. */
export async function expandSource(src: string, source: CopySource): Promise<Match[]> {
  const clean = posix.normalize(`/${src}`).replace(/\/+$/, '') || '/';
  if (!hasWildcard(clean)) {
    const entry = await source.view.lookup(clean, { followLast: true });
    const rel = clean.slice(1);
    if (entry === undefined || (rel !== '' && source.isExcluded(rel))) {
      throw new FileOpError(`Cannot copy "${src}": not found`, { hint: 'check the path and that .dockerignore does not exclude it' });
    }
    return [{ relPath: rel, entry }];
  }
  const parts = clean.split('/').filter((p) => p.length > 0);
  let current: Match[] = [{ relPath: '', entry: await rootEntry(source.view) }];
  for (const part of parts) {
    const next: Match[] = [];
    const re = hasWildcard(part) ? globComponentRegExp(part) : undefined;
    for (const m of current) {
      if (!m.entry.stats.isDirectory()) continue;
      const children = await source.view.list(`/${m.relPath}`);
      for (const [name, entry] of [...children].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        if (re ? !re.test(name) : name !== part) continue;
        const relPath = m.relPath === '' ? name : `${m.relPath}/${name}`;
        if (source.isExcluded(relPath)) continue;
        const resolved = entry.stats.isSymbolicLink() ? await source.view.lookup(`/${relPath}`, { followLast: true }) : entry;
        if (resolved !== undefined) next.push({ relPath, entry: resolved });
      }
    }
    current = next;
  }
  if (current.length === 0) throw new FileOpError(`Cannot copy "${src}": no source files were specified`);
  return current;
}

async function rootEntry(view: FsView): Promise<FsEntry> {
  const e = await view.lookup('/', { followLast: true });
  if (e === undefined) throw new FileOpError('Cannot read the copy source: its root is missing');
  return e;
}

/** parseChmod accepts an octal mode like 755 or 0644. */
function parseChmod(value: string): number {
  if (!/^[0-7]{3,4}$/.test(value)) throw new FileOpError(`Cannot use --chmod=${value}: expected an octal mode such as 755`);
  return Number.parseInt(value, 8);
}

/** LayerWriter writes files into an upper directory, creating parents like the lower layers have them. */
class LayerWriter {
  readonly #target: FileTarget;
  readonly #owner: Owner;
  readonly #mode: number | undefined;
  readonly #madeDirs = new Set<string>();
  readonly #dirTimes: { host: string; stats: Stats }[] = [];
  readonly #pending = new Set<Promise<void>>();

  constructor(target: FileTarget, owner: Owner, mode: number | undefined) {
    this.#target = target;
    this.#owner = owner;
    this.#mode = mode;
  }

  async ensureParents(path: string): Promise<void> {
    const parent = posix.dirname(path);
    if (parent !== path) await this.#ensureExistingDir(parent);
  }

  /** Makes a directory visible in the upper layer, copying the lower layer's metadata when it exists. */
  async #ensureExistingDir(path: string): Promise<void> {
    if (path === '/' || this.#madeDirs.has(path)) return;
    await this.ensureParents(path);
    const lower = await this.#target.base.lookup(path, { followLast: false });
    const host = posix.join(this.#target.upperdir, path);
    await mkdir(host, { recursive: true });
    if (lower?.stats.isDirectory()) {
      await chmod(host, lower.stats.mode & 0o7777);
      await fsChown(host, lower.stats.uid, lower.stats.gid);
      this.#dirTimes.push({ host, stats: lower.stats });
    } else {
      await chmod(host, 0o755);
    }
    this.#madeDirs.add(path);
  }

  async ensureDir(path: string, mode: number, owner: Owner): Promise<void> {
    await this.ensureParents(path);
    const host = posix.join(this.#target.upperdir, path);
    await mkdir(host, { recursive: true });
    await chmod(host, mode);
    await fsChown(host, owner.uid, owner.gid);
    this.#madeDirs.add(path);
  }

  async copyTree(from: Match, to: string, source: CopySource): Promise<void> {
    await this.ensureParents(to);
    await this.#copyEntry(from.entry, from.relPath, to, source);
    await Promise.all(this.#pending);
  }

  async #copyEntry(entry: FsEntry, relPath: string, to: string, source: CopySource): Promise<void> {
    const host = posix.join(this.#target.upperdir, to);
    const st = entry.stats;
    if (st.isDirectory()) {
      await mkdir(host, { recursive: true });
      this.#madeDirs.add(to);
      const children = await source.view.list(`/${relPath}`);
      for (const [name, child] of children) {
        const childRel = relPath === '' ? name : `${relPath}/${name}`;
        if (source.isExcluded(childRel)) continue;
        await this.#copyEntry(child, childRel, posix.join(to, name), source);
      }
      await chmod(host, this.#mode ?? st.mode & 0o7777);
      await fsChown(host, this.#owner.uid, this.#owner.gid);
      this.#dirTimes.push({ host, stats: st });
      return;
    }
    await this.#throttle();
    const task = this.#copyLeaf(entry, host).finally(() => this.#pending.delete(task));
    this.#pending.add(task);
  }

  async #throttle(): Promise<void> {
    while (this.#pending.size >= PARALLEL_COPIES) await Promise.race(this.#pending);
  }

  async #copyLeaf(entry: FsEntry, host: string): Promise<void> {
    const st = entry.stats;
    if (st.isSymbolicLink()) {
      await symlink(await readlink(entry.hostPath), host);
      await lchown(host, this.#owner.uid, this.#owner.gid);
      await lutimes(host, st.atime, st.mtime);
      return;
    }
    if (!st.isFile()) throw new FileOpError(`Cannot copy "${entry.hostPath}": only files, directories and symlinks can be copied`);
    await copyFile(entry.hostPath, host, constants.COPYFILE_FICLONE);
    await chmod(host, this.#mode ?? st.mode & 0o7777);
    await fsChown(host, this.#owner.uid, this.#owner.gid);
    await utimes(host, st.atime, st.mtime);
  }

  /** Restores directory times last, since writing children changes them. */
  async finish(): Promise<void> {
    await Promise.all(this.#pending);
    for (const { host, stats } of this.#dirTimes.reverse()) await utimes(host, stats.atime, stats.mtime);
  }
}
