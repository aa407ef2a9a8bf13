import { statfsSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { Database, RootDatabase } from 'lmdb';
import { DiskFullError } from '../base/errors.js';
import { isRecord } from '../base/is-record.js';
import { METADATA_ROOM_LOW, MetadataRoom } from './metadata-room.js';

/**
 * MetadataWrites is how the metadata database's tables write: every write transaction, and every asynchronous write
 * before lmdb-js queues it, first makes sure of the database's room (metadata-room.ts), so that no commit finds the disk
 * full; a disk that cannot give the room fails the write with a DiskFullError naming the database instead.
 */
export class MetadataWrites {
  readonly #root: RootDatabase;
  readonly #dir: string;
  readonly #room: MetadataRoom;
  /** lmdb-js's environment: `writeTxn` is set while a write transaction runs (put and remove then write in it). */
  readonly #env: unknown;

  constructor(root: RootDatabase, dir: string) {
    this.#root = root;
    this.#dir = dir;
    this.#room = new MetadataRoom(root, dir);
    this.#env = Reflect.get(root, 'env');
  }

  /** transactSync runs `action` in one write transaction, the room made sure of first (at least `min` bytes of it). */
  transactSync<T>(action: () => T, min?: number): T {
    try {
      return this.#root.transactionSync(() => {
        // The room first: a disk found full there fails the transaction before it writes a page.
        this.#room.ensure(min);
        return action();
      });
    } catch (err) {
      throw metadataWriteError(err, this.#dir);
    }
  }

  /**
   * transact runs `action` in a (child) write transaction of lmdb-js's asynchronous batch: `action` runs on this thread
   * once the batch holds the writer lock, and the commit, with its wait for the disk, happens off it. The promise resolves
   * with what `action` returned once that commit is durable; an `action` that throws writes nothing. The room is made
   * sure of before the batch is queued, as for put.
   */
  transact<T>(action: () => T): Promise<T> {
    return this.#queued(() => this.#root.childTransaction(action));
  }

  /**
   * table makes a table's writes go through here: put and remove make sure of the room before lmdb-js queues them, and
   * reject with the reason their commit failed; putSync and removeSync outside a transaction run in one of ours. Inside a
   * write transaction (ours, or lmdb-js's own, as when it saves msgpack's shared structures with put) they write as
   * lmdb-js does: the transaction made sure of the room, and lmdb-js reads what put returns there.
   */
  table<V>(db: Database<V, string>): Database<V, string> {
    const put = db.put.bind(db);
    const remove = db.remove.bind(db);
    const putSync = db.putSync.bind(db);
    const removeSync = db.removeSync.bind(db);
    return Object.assign(db, {
      put: (...args: Parameters<typeof put>) => (this.#writing() ? put(...args) : this.#queued(() => put(...args))),
      remove: (...args: Parameters<typeof remove>) => (this.#writing() ? remove(...args) : this.#queued(() => remove(...args))),
      putSync: (...args: Parameters<typeof putSync>) => (this.#writing() ? putSync(...args) : this.transactSync(() => putSync(...args))),
      removeSync: (...args: Parameters<typeof removeSync>) => (this.#writing() ? removeSync(...args) : this.transactSync(() => removeSync(...args))),
    });
  }

  close(): void {
    this.#room.close();
  }

  #writing(): boolean {
    return isRecord(this.#env) && Boolean(this.#env.writeTxn);
  }

  /**
   * #queued queues an asynchronous write once the room is there. The writes of one event turn commit together, so it asks
   * for the whole low mark, not a transaction's minimum. A commit that fails anyway rejects with its reason; lmdb-js then
   * also leaves promises of its own rejected and unhandled, which end the process: the room is what keeps that away.
   */
  async #queued<T>(write: () => Promise<T>): Promise<T> {
    if (this.#room.room() < METADATA_ROOM_LOW) this.transactSync(() => this.#room.ensure(METADATA_ROOM_LOW));
    try {
      return await write();
    } catch (err) {
      throw metadataWriteError(await commitFailure(err), this.#dir);
    }
  }
}

/**
 * commitFailure is why an asynchronous commit failed: the error its commitError promise rejects with (lmdb-js rejects it
 * in the same callback that failed the writes), else the error itself. The promise is handled at once, whatever comes.
 */
function commitFailure(err: unknown): Promise<unknown> {
  const reason: unknown = err !== null && typeof err === 'object' && 'commitError' in err ? err.commitError : undefined;
  if (!(reason instanceof Promise)) return Promise.resolve(err);
  const settled = reason.then(
    () => err,
    (cause: unknown) => cause,
  );
  return Promise.race([settled, delay(COMMIT_ERROR_WAIT_MS, err, { ref: false })]);
}

/** How long a failed write waits for the reason of its commit's failure before reporting the failure as it is. */
const COMMIT_ERROR_WAIT_MS = 1000;

/** ENOSPC and EDQUOT: LMDB reports a page it could not write with the errno as a number. */
const DISK_FULL_ERRNOS = new Set([28, 122]);
/** Below this many free bytes, a commit that failed with EIO failed for want of space (LMDB reports it so once a page write failed). */
const NEARLY_FULL_BYTES = 1 << 20;

/** metadataWriteError says that a failed commit found the disk full, naming the database; other errors pass unchanged. */
function metadataWriteError(err: unknown, dir: string): unknown {
  const errno = err !== null && typeof err === 'object' && 'code' in err ? err.code : undefined;
  if (typeof errno !== 'number' || (!DISK_FULL_ERRNOS.has(errno) && errno !== 5)) return err;
  // Only on this failure path, once: the commit that failed was synchronous too.
  const st = statfsSync(dir);
  if (!DISK_FULL_ERRNOS.has(errno) && st.bavail * st.bsize >= NEARLY_FULL_BYTES) return err;
  return new DiskFullError(`Cannot write the metadata database: the disk holding "${dir}" is full (no space left on device)`, { path: dir, cause: err });
}
