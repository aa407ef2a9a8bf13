import { lstatSync, readdirSync } from 'node:fs';
import { lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { SnapshotError, errnoCode } from '../base/errors.js';
import { isProcessAlive } from './process-alive.js';
import { NO_LEASE, type StoreLease } from './leases.js';
import { raiseSnapshotBytes } from './usage-bounds.js';
import type { MetadataStore, SnapshotRecord } from './metadata.js';

/** CommitOptions: `size`, when the writer knows it, spares a walk of the layer; `createdAt` dates a layer made elsewhere. */
export interface CommitOptions {
  readonly size?: number;
  readonly createdAt?: number;
}

/** ActiveSnapshot is a writable layer directory on top of a committed chain. */
export interface ActiveSnapshot extends AsyncDisposable {
  /** The upper directory: changes land here in overlayfs upper-dir form. */
  readonly dir: string;
  /** Scratch directory overlayfs needs beside the upper directory. */
  readonly workdir: string;
  /** Committed layer directories below, top first (as overlayfs lowerdir wants them). */
  readonly lowerdirs: readonly string[];
  /** commit makes the layer immutable and returns its snapshot id. */
  commit(description: string, options?: CommitOptions): Promise<string>;
}

/** Snapshotter manages layer directories chained by parent. */
export interface Snapshotter {
  prepare(parent: string | null): Promise<ActiveSnapshot>;
  /** chain lists the snapshot ids from the bottom layer up to `id`. */
  chain(id: string | null): readonly string[];
  dir(id: string): string;
  /** exists tells whether a snapshot is committed, adding it to the build's lease when it is. */
  exists(id: string): boolean;
  remove(id: string): Promise<void>;
  /** recover removes half-made layers left by processes that died. */
  recover(): Promise<void>;
}

const ORPHAN_GRACE_MS = 10 * 60 * 1000;

/**
 * createSnapshotter returns a snapshotter keeping layers under `root`. What builds find (exists), build on (prepare)
 * and commit is added to `lease` as they do.
 */
export function createSnapshotter(root: string, meta: MetadataStore, lease: StoreLease = NO_LEASE): Snapshotter {
  return new DirectorySnapshotter(root, meta, lease);
}

class DirectorySnapshotter implements Snapshotter {
  readonly #root: string;
  readonly #meta: MetadataStore;
  readonly #lease: StoreLease;

  constructor(root: string, meta: MetadataStore, lease: StoreLease) {
    this.#root = root;
    this.#meta = meta;
    this.#lease = lease;
  }

  dir(id: string): string {
    return join(this.#root, id, 'fs');
  }

  exists(id: string): boolean {
    // A snapshot the lease names is kept: it still exists.
    if (this.#lease.has('snapshot', id)) return true;
    if (this.#meta.snapshots.get(id) === undefined) return false;
    return this.#lease.useSync((add) => {
      const found = this.#meta.snapshots.get(id) !== undefined;
      if (found) add('snapshot', id);
      return found;
    });
  }

  chain(id: string | null): readonly string[] {
    const ids: string[] = [];
    for (let cur = id; cur !== null; ) {
      const rec: SnapshotRecord | undefined = this.#meta.snapshots.get(cur);
      if (rec === undefined) throw new SnapshotError(`Cannot find snapshot "${cur}": its record is missing`);
      ids.push(cur);
      cur = rec.parent;
    }
    return ids.reverse();
  }

  async prepare(parent: string | null): Promise<ActiveSnapshot> {
    if (parent !== null && !this.exists(parent)) throw new SnapshotError(`Cannot find snapshot "${parent}": its record is missing`);
    const lowerdirs = this.chain(parent).map((id) => this.dir(id)).reverse();
    const key = `active-${process.pid}-${randomBytes(6).toString('hex')}`;
    const base = join(this.#root, key);
    const dir = join(base, 'fs');
    const workdir = join(base, 'work');
    await mkdir(dir, { recursive: true });
    await mkdir(workdir, { recursive: true });
    let done = false;
    const commit = async (description: string, options: CommitOptions = {}): Promise<string> => {
      const id = randomBytes(8).toString('hex');
      await rm(workdir, { recursive: true, force: true });
      const size = options.size ?? (await diskUsage(dir));
      await rename(base, join(this.#root, id));
      const record: SnapshotRecord = { id, parent, createdAt: options.createdAt ?? Date.now(), description, size };
      // Leased as it is recorded: collection in another process could otherwise take a layer no record keeps yet. The
      // transaction is queued with the asynchronous writes: the step waits for it, this thread (other builds) does not.
      try {
        await this.#lease.use((add) => {
          this.#meta.snapshots.putSync(id, record);
          raiseSnapshotBytes(this.#meta, size);
          add('snapshot', id);
        });
      } catch (err) {
        // No record names the folder (a full disk refused it): it goes, as an uncommitted one would.
        await rm(join(this.#root, id), { recursive: true, force: true });
        throw err;
      }
      done = true;
      return id;
    };
    return {
      dir,
      workdir,
      lowerdirs,
      commit,
      [Symbol.asyncDispose]: async () => {
        if (!done) await rm(base, { recursive: true, force: true });
      },
    };
  }

  async remove(id: string): Promise<void> {
    await this.#meta.snapshots.remove(id);
    await rm(join(this.#root, id), { recursive: true, force: true });
  }

  async recover(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.#root);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw err;
    }
    const now = Date.now();
    for (const name of names) {
      const m = /^active-(\d+)-/.exec(name);
      if (m?.[1] !== undefined) {
        if (!isProcessAlive(Number(m[1]))) await rm(join(this.#root, name), { recursive: true, force: true });
        continue;
      }
      // A layer renamed into place whose record never got written (the process died in between).
      // Another process may be between those two steps right now, so only old ones go.
      if (this.#meta.snapshots.get(name) === undefined) {
        const st = await lstat(join(this.#root, name));
        if (now - st.mtimeMs > ORPHAN_GRACE_MS) await rm(join(this.#root, name), { recursive: true, force: true });
      }
    }
  }
}


/**
 * diskUsage sums the bytes of the files under a directory (each inode once).
 *
 * It stats synchronously, yielding to the event loop every few hundred entries: a layer of 20,000
 * files is otherwise bound by one thread-pool round trip per file.
 */
export async function diskUsage(dir: string): Promise<number> {
  let total = 0;
  let budget = YIELD_EVERY;
  const seen = new Set<number>();
  const stack = [dir];
  for (let path = stack.pop(); path !== undefined; path = stack.pop()) {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) stack.push(child);
      else if (entry.isFile()) {
        const st = lstatSync(child);
        if (st.nlink > 1) {
          if (seen.has(st.ino)) continue;
          seen.add(st.ino);
        }
        total += st.size;
      }
      if (--budget <= 0) {
        budget = YIELD_EVERY;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }
  return total;
}

const YIELD_EVERY = 512;
