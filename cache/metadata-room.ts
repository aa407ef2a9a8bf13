import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { RootDatabase } from 'lmdb';
import { DiskFullError, isDiskFull } from '../base/errors.js';
import { isRecord } from '../base/is-record.js';

/**
 * The metadata database keeps this much written space past the last page it uses, so that its commits overwrite blocks
 * the disk already gave it instead of growing the file. LMDB writes a commit's new pages at the end of its data file;
 * on a full disk that write fails, and lmdb-js 3.5.6 then overruns a 100-byte buffer while composing its message
 * ("Attempting to write page at position …", mdb_page_flush in its mdb.c), which corrupts the heap and aborts the
 * process later, wherever it next allocates. With this room taken ahead, a disk that fills up mid-build is found
 * by the room's own write, which fails cleanly, before the database itself needs a new block.
 */
export const METADATA_ROOM_TARGET = 1 << 20;
/** Below this much room at a write transaction, the room is written again up to the target first. */
export const METADATA_ROOM_LOW = 512 << 10;
/**
 * Below this much room, a write transaction fails with a DiskFullError once the disk cannot give more. It is kept low, so
 * that on a full disk the small transactions of collection (tbuild prune, which frees space) still commit.
 */
export const METADATA_ROOM_MIN = 128 << 10;
/** What a transaction that mostly removes (dropping a lease, collection) asks of the room on a full disk. */
export const METADATA_ROOM_FREEING = 32 << 10;
/** Zeroes appended per write while refilling the room. */
const CHUNK = 64 << 10;

/** EnvInfo is what the database's environment tells of its pages (lmdb-js's Env, not in its typings). */
interface EnvInfo {
  info(): unknown;
  stat(): unknown;
}

/**
 * MetadataRoom keeps the room past the end of one database's data file. `ensure` runs inside a write transaction,
 * which holds the database's writer lock across processes: nothing else writes the file's end meanwhile.
 */
export class MetadataRoom {
  readonly #dir: string;
  readonly #env: EnvInfo;
  #pageSize: number | undefined;
  #fd: number | undefined;

  constructor(root: RootDatabase, dir: string) {
    this.#dir = dir;
    this.#env = envOf(root);
  }

  /**
   * ensure refills the room when it is low; it throws a DiskFullError naming the database when the disk cannot give
   * the room back and less than `min` bytes of it are left, before the transaction writes anything.
   */
  ensure(min = METADATA_ROOM_MIN): void {
    const fd = this.#file();
    const used = (numberField(this.#env.info(), 'lastPageNumber') + 1) * this.#pageSizeOf();
    let size = fstatSync(fd).size;
    if (size - used >= METADATA_ROOM_LOW) return;
    const zeros = Buffer.alloc(CHUNK);
    try {
      while (size - used < METADATA_ROOM_TARGET) size += writeSync(fd, zeros, 0, Math.min(CHUNK, used + METADATA_ROOM_TARGET - size), size);
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      const room = Math.max(0, fstatSync(fd).size - used);
      if (room >= min) return;
      throw new DiskFullError(
        `Cannot write the metadata database: the disk holding "${this.#dir}" is full (${Math.floor(room / 1024)} KiB of room left in the database, a write needs ${min / 1024} KiB)`,
        { path: this.#dir, cause: err },
      );
    }
  }

  /** room is how many bytes of the data file lie past its last used page. */
  room(): number {
    const used = (numberField(this.#env.info(), 'lastPageNumber') + 1) * this.#pageSizeOf();
    return fstatSync(this.#file()).size - used;
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  #file(): number {
    this.#fd ??= openSync(join(this.#dir, 'data.mdb'), 'r+');
    return this.#fd;
  }

  #pageSizeOf(): number {
    this.#pageSize ??= numberField(this.#env.stat(), 'pageSize');
    return this.#pageSize;
  }
}

function envOf(root: RootDatabase): EnvInfo {
  const env: unknown = Reflect.get(root, 'env');
  if (isRecord(env) && typeof env.info === 'function' && typeof env.stat === 'function') return env as unknown as EnvInfo;
  throw new Error('The metadata database does not expose its environment (lmdb-js changed): its room cannot be kept');
}

function numberField(value: unknown, field: string): number {
  const n = isRecord(value) ? value[field] : undefined;
  if (typeof n !== 'number') throw new Error(`The metadata database reported no ${field}`);
  return n;
}
