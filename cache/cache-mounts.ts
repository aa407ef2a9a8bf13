import { chmod, chown, mkdir, mkdtemp, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { digestOf } from '../base/digest.js';
import { errnoCode } from '../base/errors.js';
import { pathExists } from '../base/fs.js';
import { isProcessAlive } from './process-alive.js';
import { diskUsage } from './snapshotter.js';
import { unmappedOwnerError } from '../base/user-namespace.js';

/** CacheMountSharing is how concurrent users share one cache mount. */
export type CacheMountSharing = 'shared' | 'private' | 'locked';

/** CacheMountInfo is what `info.json` of a cache mount records. */
export interface CacheMountInfo {
  readonly id: string;
  /** Where the RUN that last used it mounted it; null in records written before targets were kept. */
  readonly target: string | null;
  readonly createdAt: number;
  /** When a RUN last mounted it. */
  readonly lastUsedAt: number;
  /** Bytes of its data directory when the last RUN using it ended; null until one has. */
  readonly recordedSize: number | null;
}

/** CacheMountRecord is one cache mount as `tbuild du` shows it. */
export interface CacheMountRecord extends CacheMountInfo {
  readonly key: string;
  /** Bytes of its data directory. */
  readonly size: number;
  /** True while a running build holds its lock (sharing=locked or private). */
  readonly inUse: boolean;
}

/** CacheMountSpec is how a RUN mounts a cache: the owner of a new directory, and where it goes. */
export interface CacheMountSpec {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly dest: string;
  /** What a new directory starts with (RUN --mount=type=cache,from=STAGE); empty without one. */
  readonly seed?: CacheMountSeed;
}

/**
 * CacheMountSeed fills a new cache mount directory, as BuildKit starts a cache mount from its `from` input. The same
 * id seeded from other content is another cache, and an existing one is never seeded again.
 */
export interface CacheMountSeed {
  /** Identifies the content the seed copies. */
  readonly key: string;
  /** Copies the content into an empty directory, giving the directory itself the metadata of the content's root. */
  populate(dir: string, options: { signal: AbortSignal }): Promise<void>;
}

/** CacheMountLease is a directory to mount; disposing it releases the lock (and removes a throwaway directory). */
export interface CacheMountLease extends AsyncDisposable {
  readonly dir: string;
  /** True when the directory was just created (empty). */
  readonly created: boolean;
}

/** CacheMountStore keeps RUN --mount=type=cache directories under ROOT/cache-mounts/<digest of id>/. */
export interface CacheMountStore {
  acquire(id: string, sharing: CacheMountSharing, owner: CacheMountSpec, options: { signal: AbortSignal }): Promise<CacheMountLease>;
  list(): Promise<CacheMountRecord[]>;
  /** infos lists what each mount's info.json records, without measuring: cheap, for deciding whether to collect. */
  infos(): Promise<CacheMountInfo[]>;
  /** remove deletes a cache mount unless a running build holds its lock; it tells whether it did. */
  remove(key: string): Promise<boolean>;
}

const LOCK_POLL_MS = 100;

/** createCacheMountStore opens the cache mount folder of a store root; tmpDir holds throwaway private copies. */
export function createCacheMountStore(root: string, tmpDir: string): CacheMountStore {
  const base = join(root, 'cache-mounts');
  const keyOf = (id: string): string => digestOf(id).slice('sha256:'.length);
  return {
    async acquire(id, sharing, owner, { signal }) {
      const dir = join(base, keyOf(owner.seed === undefined ? id : `${id}\n${owner.seed.key}`));
      const data = join(dir, 'data');
      await mkdir(dir, { recursive: true });
      const created = owner.seed === undefined ? await makeEmpty(data, owner) : await makeSeeded(dir, data, owner.seed, signal);
      const now = Date.now();
      const info = await readInfo(dir);
      const used: CacheMountInfo = { id, target: owner.dest, createdAt: info?.createdAt ?? now, lastUsedAt: now, recordedSize: info?.recordedSize ?? null };
      await writeInfo(dir, used);
      // What the RUN left is measured as it lets go, so automatic collection can weigh mounts without walking them.
      const measure = async (): Promise<void> => {
        try {
          await writeInfo(dir, { ...used, recordedSize: await diskUsage(data) });
        } catch (err) {
          // A prune may remove a shared mount while a RUN uses it: nothing is left to measure.
          if (errnoCode(err) !== 'ENOENT') throw err;
        }
      };
      const lockFile = join(dir, 'lock');
      const unlock = async (): Promise<void> => {
        await measure();
        await rm(lockFile, { force: true });
      };
      switch (sharing) {
        case 'shared':
          return { dir: data, created, [Symbol.asyncDispose]: measure };
        case 'locked': {
          for (;;) {
            signal.throwIfAborted();
            if (await tryLock(lockFile)) break;
            await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
          }
          return { dir: data, created, [Symbol.asyncDispose]: unlock };
        }
        case 'private': {
          if (await tryLock(lockFile)) return { dir: data, created, [Symbol.asyncDispose]: unlock };
          // Busy: a fresh directory that is dropped afterwards.
          await mkdir(tmpDir, { recursive: true });
          const fresh = await mkdtemp(join(tmpDir, 'cache-mount-'));
          if (owner.seed !== undefined) await owner.seed.populate(fresh, { signal });
          else {
            await chmod(fresh, owner.mode);
            await chown(fresh, owner.uid, owner.gid).catch((err: unknown) => {
              throw unmappedOwnerError(err, fresh, owner);
            });
          }
          return { dir: fresh, created: true, [Symbol.asyncDispose]: () => rm(fresh, { recursive: true, force: true }) };
        }
      }
    },
    async list() {
      const out: CacheMountRecord[] = [];
      for (const key of await mountKeys(base)) {
        const dir = join(base, key);
        const info = await readInfo(dir);
        if (info === undefined) continue;
        out.push({ ...info, key, size: await diskUsage(join(dir, 'data')), inUse: await lockHeld(join(dir, 'lock')) });
      }
      return out;
    },
    async infos() {
      const out: CacheMountInfo[] = [];
      for (const key of await mountKeys(base)) {
        const info = await readInfo(join(base, key));
        if (info !== undefined) out.push(info);
      }
      return out;
    },
    async remove(key) {
      const dir = join(base, key);
      let locked: boolean;
      try {
        // Taking the lock first keeps a build that mounts it locked or private from losing it halfway.
        locked = await tryLock(join(dir, 'lock'));
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') return true;
        throw err;
      }
      if (!locked) return false;
      await rm(dir, { recursive: true, force: true });
      return true;
    },
  };
}

/** makeEmpty creates an empty cache mount directory with the mount's owner; it tells whether it did. */
async function makeEmpty(data: string, owner: CacheMountSpec): Promise<boolean> {
  try {
    await mkdir(data, { mode: owner.mode });
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw err;
  }
  await chmod(data, owner.mode);
  await chown(data, owner.uid, owner.gid).catch((err: unknown) => {
    throw unmappedOwnerError(err, data, owner);
  });
  return true;
}

/** makeSeeded fills a new cache mount directory beside it and renames it in place, so no build sees it half full. */
async function makeSeeded(dir: string, data: string, seed: CacheMountSeed, signal: AbortSignal): Promise<boolean> {
  if (await pathExists(data)) return false;
  const fill = await mkdtemp(join(dir, 'seeding-'));
  try {
    await seed.populate(fill, { signal });
    await rename(fill, data);
    return true;
  } catch (err) {
    await rm(fill, { recursive: true, force: true });
    // Another build seeded it first: use theirs.
    if (errnoCode(err) === 'ENOTEMPTY' || errnoCode(err) === 'EEXIST') return false;
    throw err;
  }
}

async function mountKeys(base: string): Promise<string[]> {
  try {
    return await readdir(base);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

/** writeInfo replaces info.json atomically, so a concurrent reader never sees half of it. */
async function writeInfo(dir: string, info: CacheMountInfo): Promise<void> {
  const tmp = join(dir, `info.json.${process.pid}-${randomBytes(4).toString('hex')}`);
  await writeFile(tmp, JSON.stringify(info));
  await rename(tmp, join(dir, 'info.json'));
}

async function readInfo(dir: string): Promise<CacheMountInfo | undefined> {
  try {
    const v: unknown = JSON.parse(await readFile(join(dir, 'info.json'), 'utf8'));
    if (typeof v !== 'object' || v === null) return undefined;
    const m = new Map<string, unknown>(Object.entries(v));
    const id = m.get('id');
    const createdAt = m.get('createdAt');
    const lastUsedAt = m.get('lastUsedAt');
    const target = m.get('target');
    const recordedSize = m.get('recordedSize');
    if (typeof id !== 'string' || typeof createdAt !== 'number' || typeof lastUsedAt !== 'number') return undefined;
    return {
      id,
      target: typeof target === 'string' ? target : null,
      createdAt,
      lastUsedAt,
      recordedSize: typeof recordedSize === 'number' ? recordedSize : null,
    };
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** tryLock creates the lock file exclusively with our pid; a lock of a dead process is taken over. */
async function tryLock(file: string): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, 'wx', 0o600);
      await fh.writeFile(String(process.pid));
      await fh.close();
      return true;
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
    if (await lockHeld(file)) return false;
    await rm(file, { force: true });
  }
  return false;
}

async function lockHeld(file: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
  const pid = Number.parseInt(text, 10);
  // A lock file still being written (empty) counts as held.
  return !Number.isInteger(pid) || isProcessAlive(pid);
}
