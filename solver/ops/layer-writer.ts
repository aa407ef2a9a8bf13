import { chmodSync, chownSync, closeSync, fchmodSync, fchownSync, futimesSync, linkSync, lstatSync, mkdirSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { chmod, chown as fsChown, copyFile, lchown, lutimes, mkdir, readlink, utimes, constants } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { posix } from 'node:path';
import { FileOpError } from '../../base/errors.js';
import type { FsEntry, FsView } from '../../cache/index.js';
import { applyModeSpec, type ModeSpec } from './chmod.js';
import type { Owner } from './chown.js';
import type { CopySource, Match } from './copy-match.js';
import { linkReplacing, openExclusive, runCp, symlinkReplacing } from './layer-nodes.js';
import { SMALL_FILE, SmallFileReader } from './small-file.js';
import { copyXattrs } from './xattrs.js';
import { unmappedOwnerError } from '../../base/user-namespace.js';

/** FileTarget is the layer being written and the merged view of what lies below it. */
export interface FileTarget {
  readonly upperdir: string;
  readonly base: FsView;
  /** A layer an earlier run of the same COPY made: its unchanged files are shared by hard link. */
  readonly linkSource?: LinkSource;
  /** Tallies the regular files written, so committing the layer need not walk it again. */
  readonly usage?: LayerUsage;
}

/** LayerUsage sums the sizes of the regular files written into a layer, counting each path once. */
export class LayerUsage {
  readonly #sizes = new Map<string, number>();
  #total = 0;

  /** record notes that the file at `hostPath` now holds `size` bytes. */
  record(hostPath: string, size: number): void {
    this.#total += size - (this.#sizes.get(hostPath) ?? 0);
    this.#sizes.set(hostPath, size);
  }

  /** total is the bytes of regular files in the layer, as diskUsage would count them. */
  get total(): number {
    return this.#total;
  }
}

/** LinkSource is an immutable earlier layer of the same COPY and when that copy started. */
export interface LinkSource {
  readonly dir: string;
  readonly startedAt: number;
}

const PARALLEL_COPIES = 16;

/** LayerWriter writes files into an upper directory, creating parents like the lower layers have them. */
export class LayerWriter {
  readonly #target: FileTarget;
  /** Owner of copied entries; undefined keeps the source's owner (archive extraction). */
  readonly #owner: Owner | undefined;
  readonly #mode: ModeSpec | undefined;
  /** Mode of the directories the copy creates: an octal --chmod, else 0755 (BuildKit's copy does the same). */
  readonly #createdDirMode: number;
  readonly #madeDirs = new Set<string>();
  /** Times to give directories once their children are written, by host path; a later entry wins. */
  readonly #dirTimes = new Map<string, Stats>();
  readonly #pending = new Set<Promise<void>>();
  /** The first copy of each source file with several names, by device and inode: later names link to it. */
  readonly #hardLinks = new Map<string, { readonly host: string; readonly done: Promise<void> }>();
  /** The first failure of a file copied in the background: thrown once every copy has settled. */
  #failure: { readonly error: unknown } | undefined;
  /** Reads the small files copied (their size known from the source's stat). */
  readonly #reader = new SmallFileReader();
  /** The process's umask: a file created with a mode it keeps whole needs no chmod after. */
  readonly #umask = process.umask();

  constructor(target: FileTarget, owner: Owner | undefined, mode: ModeSpec | undefined) {
    this.#target = target;
    this.#owner = owner;
    this.#mode = mode;
    this.#createdDirMode = mode?.kind === 'octal' ? mode.mode & 0o777 : 0o755;
  }

  async ensureParents(path: string): Promise<void> {
    const parent = posix.dirname(path);
    if (parent !== path) await this.ensureExistingDir(parent);
  }

  /**
   * Makes a directory visible in the upper layer, copying the lower layer's metadata when it exists. A missing one
   * is created with the copy's directory mode and owned by the --chown owner (root without one).
   */
  async ensureExistingDir(path: string): Promise<void> {
    if (path === '/' || this.#madeDirs.has(path)) return;
    await this.ensureParents(path);
    const lower = await this.#target.base.lookup(path, { followLast: false });
    const host = posix.join(this.#target.upperdir, path);
    await mkdir(host, { recursive: true });
    if (lower?.stats.isDirectory()) {
      await chmod(host, lower.stats.mode & 0o7777);
      await fsChown(host, lower.stats.uid, lower.stats.gid);
      this.#dirTimes.set(host, lower.stats);
    } else {
      await chmod(host, this.#createdDirMode);
      if (this.#owner !== undefined) await fsChown(host, this.#owner.uid, this.#owner.gid);
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

  /** copyDirEntry makes `to` the directory `entry` is, with its metadata, replacing anything else there (an archive's entry). */
  async copyDirEntry(entry: FsEntry, to: string): Promise<void> {
    await this.ensureParents(to);
    const host = posix.join(this.#target.upperdir, to);
    if (lstatSync(host, { throwIfNoEntry: false })?.isDirectory() === false) unlinkSync(host);
    this.#makeDirLike(entry, to);
  }

  /** Makes the directory `to` (and any missing parents) with the metadata of the source directory `entry`. */
  #makeDirLike(entry: FsEntry, to: string): void {
    const host = posix.join(this.#target.upperdir, to);
    mkdirSync(host, { recursive: true });
    this.#madeDirs.add(to);
    this.#applyDirMetadata(host, entry);
  }

  /**
   * ensureCopiedDir makes a missing directory `to` like the source directory `entry`. An existing one keeps its
   * owner and times and takes the source's permission bits, without --chmod, as BuildKit's copy treats the
   * folders it passes through to reach a match.
   */
  async ensureCopiedDir(entry: FsEntry, to: string): Promise<void> {
    if (this.#madeDirs.has(to)) return;
    const there = await this.#target.base.lookup(to, { followLast: false });
    if (there?.stats.isDirectory() !== true) return this.copyDirEntry(entry, to);
    await this.ensureExistingDir(to);
    chmodSync(posix.join(this.#target.upperdir, to), entry.stats.mode & 0o7777);
  }

  /**
   * ensureImpliedDir makes sure of a directory an archive holds entries in without listing it: an existing one stays
   * as it is, a missing one is made 0755 and root's, as an untar makes it.
   */
  async ensureImpliedDir(path: string): Promise<void> {
    if (path === '/' || this.#madeDirs.has(path)) return;
    const there = await this.#target.base.lookup(path, { followLast: false });
    if (there !== undefined && !there.stats.isDirectory()) throw new FileOpError(`Cannot extract an archive into "${path}": not a directory`);
    if (there !== undefined) return this.ensureExistingDir(path);
    await this.ensureParents(path);
    const host = posix.join(this.#target.upperdir, path);
    await mkdir(host);
    await chmod(host, 0o755);
    await fsChown(host, 0, 0);
    this.#madeDirs.add(path);
  }

  async copyTree(from: Match, to: string, source: CopySource): Promise<void> {
    await this.queueTree(from, to, source);
    await this.#settle();
  }

  /** queueTree starts copying like copyTree; files may still be written when it returns, until finish. */
  async queueTree(from: Match, to: string, source: CopySource): Promise<void> {
    await this.ensureParents(to);
    await this.#copyEntry(from.entry, from.relPath, to, source);
  }

  /**
   * copyChildren copies what a directory of the source holds into `to`. The directory `to` keeps its owner and mode
   * when it exists; when missing it is created like a missing parent. Only what is copied takes the source's metadata.
   */
  async copyChildren(from: Match, to: string, source: CopySource): Promise<void> {
    await this.ensureExistingDir(to);
    for (const [name, child] of await source.view.list(`/${from.relPath}`, from.entry)) {
      const childRel = from.relPath === '' ? name : `${from.relPath}/${name}`;
      await this.#copyUnlessExcluded(child, childRel, posix.join(to, name), source);
    }
    await this.#settle();
  }

  #modeFor(st: Stats): number {
    return this.#mode === undefined ? st.mode & 0o7777 : applyModeSpec(this.#mode, st.mode, st.isDirectory());
  }

  async #chown(host: string, st: Stats, link: boolean): Promise<void> {
    const uid = this.#owner?.uid ?? st.uid;
    const gid = this.#owner?.gid ?? st.gid;
    await (link ? lchown(host, uid, gid) : fsChown(host, uid, gid)).catch((err: unknown) => {
      throw unmappedOwnerError(err, host, { uid, gid });
    });
  }

  /**
   * Copies an entry the source does not exclude. Below an excluded folder, exception patterns (`!path`) may bring
   * entries back: the walk goes on there, and the excluded folders on the way are made, like the source folders,
   * only for what is copied, as BuildKit's copy makes them.
   */
  async #copyUnlessExcluded(entry: FsEntry, relPath: string, to: string, source: CopySource, skipped: readonly (readonly [FsEntry, string])[] = []): Promise<void> {
    if (!source.isExcluded(relPath)) {
      for (const [dir, dirTo] of skipped) if (!this.#madeDirs.has(dirTo)) this.#makeDirLike(dir, dirTo);
      return this.#copyEntry(entry, relPath, to, source);
    }
    if (source.hasExceptions !== true || !entry.stats.isDirectory()) return;
    for (const [name, child] of await source.view.list(`/${relPath}`, entry)) {
      await this.#copyUnlessExcluded(child, `${relPath}/${name}`, posix.join(to, name), source, [...skipped, [entry, to]]);
    }
  }

  async #copyEntry(entry: FsEntry, relPath: string, to: string, source: CopySource): Promise<void> {
    const host = posix.join(this.#target.upperdir, to);
    const st = entry.stats;
    if (st.isDirectory()) {
      // Directory changes are metadata only: synchronous calls beat a thread-pool round trip each.
      mkdirSync(host, { recursive: true });
      this.#madeDirs.add(to);
      const children = await source.view.list(`/${relPath}`, entry);
      for (const [name, child] of children) {
        const childRel = relPath === '' ? name : `${relPath}/${name}`;
        await this.#copyUnlessExcluded(child, childRel, posix.join(to, name), source);
      }
      this.#applyDirMetadata(host, entry);
      return;
    }
    await this.#throttle();
    // A failure is kept for #settle: a copy rejecting before anyone awaits it would be an unhandled rejection.
    const task = this.#linkOrCopy(entry, host, source.rootOwned === true).then(
      () => {
        this.#pending.delete(task);
      },
      (error: unknown) => {
        this.#pending.delete(task);
        this.#failure ??= { error };
      },
    );
    this.#pending.add(task);
  }

  #applyDirMetadata(host: string, entry: FsEntry): void {
    const st = entry.stats;
    chmodSync(host, this.#modeFor(st));
    chownOwned(host, () => chownSync(host, this.#owner?.uid ?? st.uid, this.#owner?.gid ?? st.gid), this.#owner ?? st);
    copyXattrs(entry.hostPath, host);
    this.#dirTimes.set(host, st);
  }

  /** Copies a file, or links it to the copy of another name of the same source file, as BuildKit's copy keeps hard links. */
  #linkOrCopy(entry: FsEntry, host: string, fromContext: boolean): Promise<void> {
    const st = entry.stats;
    if (!st.isFile() || st.nlink < 2) return this.#copyLeaf(entry, host, fromContext);
    const key = `${st.dev}:${st.ino}`;
    const first = this.#hardLinks.get(key);
    if (first !== undefined) return first.done.then(() => linkReplacing(first.host, host));
    const done = this.#copyLeaf(entry, host, fromContext);
    this.#hardLinks.set(key, { host, done });
    return done;
  }

  async #throttle(): Promise<void> {
    while (this.#pending.size >= PARALLEL_COPIES) await Promise.race(this.#pending);
    if (this.#failure !== undefined) await this.#settle();
  }

  /** Waits for every background copy, then throws the first failure among them. */
  async #settle(): Promise<void> {
    await Promise.all(this.#pending);
    if (this.#failure !== undefined) throw this.#failure.error;
  }

  async #copyLeaf(entry: FsEntry, host: string, fromContext: boolean): Promise<void> {
    const st = entry.stats;
    if (st.isSymbolicLink()) {
      await symlinkReplacing(await readlink(entry.hostPath), host);
      await this.#chown(host, st, true);
      copyXattrs(entry.hostPath, host);
      await lutimes(host, st.atime, st.mtime);
      return;
    }
    // A socket in the build context arrives as an empty file, as BuildKit's context transfer writes it.
    if (st.isSocket() && fromContext) {
      this.#target.usage?.record(host, 0);
      this.#copySmallFile(entry, host);
      return;
    }
    if (!st.isFile()) {
      await this.#copySpecial(entry, host);
      return;
    }
    this.#target.usage?.record(host, st.size);
    if (this.#linkUnchanged(entry, host)) return;
    if (st.size <= SMALL_FILE) {
      this.#copySmallFile(entry, host);
      return;
    }
    await copyFile(entry.hostPath, host, constants.COPYFILE_FICLONE);
    await chmod(host, this.#modeFor(st));
    await this.#chown(host, st, false);
    copyXattrs(entry.hostPath, host);
    await utimes(host, st.atime, st.mtime);
  }

  /**
   * Shares a file with the layer an earlier run of this COPY made, when the source has not changed
   * since that run started (its ctime is older) and the copy there has the size, time, mode and owner
   * this copy would give it. Layers are immutable, so sharing the inode is safe; a one-file change
   * to a large context then costs a link per file instead of a copy.
   */
  #linkUnchanged(entry: FsEntry, host: string): boolean {
    const link = this.#target.linkSource;
    const st = entry.stats;
    if (link === undefined || st.ctimeMs >= link.startedAt) return false;
    const earlier = link.dir + host.slice(this.#target.upperdir.length);
    const prev = lstatSync(earlier, { throwIfNoEntry: false });
    // Copies get their time through a Date: equal within a millisecond is the same time.
    if (prev === undefined || !prev.isFile() || prev.size !== st.size || Math.abs(prev.mtimeMs - st.mtimeMs) >= 1) return false;
    if ((prev.mode & 0o7777) !== this.#modeFor(st) || prev.uid !== (this.#owner?.uid ?? st.uid) || prev.gid !== (this.#owner?.gid ?? st.gid)) return false;
    linkSync(earlier, host);
    return true;
  }

  /**
   * Copies a small file with synchronous calls on one descriptor: for a COPY of many small files,
   * four thread-pool round trips per file (copy, chmod, chown, utimes) cost far more than the I/O.
   * The file is created with its final mode when the umask keeps it whole and it has no set-id or
   * sticky bit (which a chown would clear): then no chmod follows.
   */
  #copySmallFile(entry: FsEntry, host: string): void {
    const st = entry.stats;
    const mode = this.#modeFor(st);
    const createdFinal = (mode & ~0o777) === 0 && (mode & this.#umask) === 0;
    const fd = openExclusive(host, createdFinal ? mode : 0o600);
    try {
      if (st.size > 0) writeFileSync(fd, this.#reader.read(entry.hostPath, st.size));
      chownOwned(host, () => fchownSync(fd, this.#owner?.uid ?? st.uid, this.#owner?.gid ?? st.gid), this.#owner ?? st);
      // After chown, which clears set-id bits.
      if (!createdFinal) fchmodSync(fd, mode);
      futimesSync(fd, st.atime, st.mtime);
    } finally {
      closeSync(fd);
    }
    // After chown, which clears security.capability.
    copyXattrs(entry.hostPath, host);
  }

  /** keepTimes gives the directory `to` the times of `stats` when the copy finishes. */
  keepTimes(to: string, stats: Stats): void {
    this.#dirTimes.set(posix.join(this.#target.upperdir, to), stats);
  }

  /** Recreates a fifo, device or socket node (cp makes the node, which Node cannot), then applies --chown and --chmod. */
  async #copySpecial(entry: FsEntry, host: string): Promise<void> {
    const st = entry.stats;
    await runCp(['-a', '--no-dereference', '--', entry.hostPath, host]);
    await this.#chown(host, st, true);
    await chmod(host, this.#modeFor(st));
    copyXattrs(entry.hostPath, host);
    await utimes(host, st.atime, st.mtime);
  }

  /** Restores directory times last, since writing children changes them. */
  async finish(): Promise<void> {
    await this.#settle();
    for (const [host, stats] of this.#dirTimes) utimesSync(host, stats.atime, stats.mtime);
  }
}

/** chownOwned runs a synchronous chown, saying so when the owner is one a rootless namespace does not map. */
function chownOwned(host: string, chown: () => void, owner: { readonly uid: number; readonly gid: number }): void {
  try {
    chown();
  } catch (err) {
    throw unmappedOwnerError(err, host, owner);
  }
}
