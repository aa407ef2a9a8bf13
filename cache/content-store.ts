import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Digester, digestHex, isDigest, type Digest } from '../base/digest.js';
import { asDiskFull, ContentError, errnoCode } from '../base/errors.js';
import { readdirOrEmpty } from '../base/fs.js';
import { isProcessAlive } from './process-alive.js';
import type { StoreLease } from './leases.js';

/** BlobInfo is what the store knows of one blob. */
export interface BlobInfo {
  readonly digest: Digest;
  readonly size: number;
}

/** ContentProvider reads blobs by digest. */
export interface ContentProvider {
  info(digest: Digest): Promise<BlobInfo | undefined>;
  readBlob(digest: Digest): Readable;
  blobPath(digest: Digest): string;
}

/** BlobSource is the bytes of a blob: a stream or a buffer. */
export type BlobSource = NodeJS.ReadableStream | Uint8Array | string;

function isStream(source: BlobSource): source is NodeJS.ReadableStream {
  return typeof source !== 'string' && !(source instanceof Uint8Array);
}

/** Expected is what a writer checks a blob against. */
export interface Expected {
  readonly digest?: Digest;
  readonly size?: number;
}

/** ContentIngester writes blobs, verifying them before they become visible. */
export interface ContentIngester {
  writeBlob(source: BlobSource, expected: Expected, options: { signal: AbortSignal }): Promise<BlobInfo>;
}

/** ContentManager lists and removes the blobs of a store: what collection and checks need. */
export interface ContentManager {
  /** walk lists every blob the store holds, with its size; a blob removed while it walks is left out. */
  walk(): AsyncIterable<BlobInfo>;
  /** strays lists the paths of files in the blob folder whose names are not digests: no blob, and nothing reads them. */
  strays(): Promise<string[]>;
  /**
   * deleteBlobSync removes a blob at once. Collection calls it inside the metadata transaction that found nothing
   * keeps the blob, so no build can lease the blob between that decision and its removal.
   */
  deleteBlobSync(digest: Digest): void;
  /** recover removes partial ingests of processes that died. */
  recover(): Promise<void>;
}

/** ContentStore is a local store of blobs addressed by digest. */
export interface ContentStore extends ContentProvider, ContentIngester, ContentManager {}

/** ContentStoreOptions: `lease` is told of every blob a build looks for or writes, before it does. */
export interface ContentStoreOptions {
  readonly lease?: Pick<StoreLease, 'addBlob'>;
}

/** createLocalContentStore returns a content store in `root/blobs/sha256` with ingests in `root/ingest`. */
export function createLocalContentStore(root: string, options: ContentStoreOptions = {}): ContentStore {
  return new LocalContentStore(root, options.lease);
}

class LocalContentStore implements ContentStore {
  readonly #blobs: string;
  readonly #ingest: string;
  readonly #lease: Pick<StoreLease, 'addBlob'> | undefined;
  #ready: Promise<void> | undefined;

  constructor(root: string, lease: Pick<StoreLease, 'addBlob'> | undefined) {
    this.#blobs = join(root, 'blobs', 'sha256');
    this.#ingest = join(root, 'ingest');
    this.#lease = lease;
  }

  blobPath(digest: Digest): string {
    return join(this.#blobs, digestHex(digest));
  }

  async info(digest: Digest): Promise<BlobInfo | undefined> {
    // Leased first: a blob found after is kept until the build ends; one collected before is simply not found.
    await this.#lease?.addBlob(digest);
    return this.#stat(digest);
  }

  async #stat(digest: Digest): Promise<BlobInfo | undefined> {
    try {
      const st = await stat(this.blobPath(digest));
      return { digest, size: st.size };
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  readBlob(digest: Digest): Readable {
    return createReadStream(this.blobPath(digest));
  }

  async writeBlob(source: BlobSource, expected: Expected, options: { signal: AbortSignal }): Promise<BlobInfo> {
    if (expected.digest !== undefined) {
      const existing = await this.info(expected.digest);
      if (existing !== undefined && (expected.size === undefined || existing.size === expected.size)) {
        if (isStream(source) && 'destroy' in source && typeof source.destroy === 'function') source.destroy();
        return existing;
      }
    }
    await this.#ensureDirs();
    const tmp = join(this.#ingest, `${process.pid}-${randomBytes(8).toString('hex')}`);
    const digester = new Digester();
    const hashing = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        digester.update(chunk);
        cb(null, chunk);
      },
    });
    const input = isStream(source) ? source : Readable.from([typeof source === 'string' ? Buffer.from(source) : source]);
    const out = createWriteStream(tmp);
    try {
      await pipeline(input, hashing, out, { signal: options.signal });
      const digest = digester.digest();
      if (expected.digest !== undefined && digest !== expected.digest) {
        throw new ContentError(`Cannot store blob: expected digest ${expected.digest}, got ${digest}`, { code: 'DIGEST_MISMATCH' });
      }
      if (expected.size !== undefined && digester.size !== expected.size) {
        throw new ContentError(`Cannot store blob ${digest}: expected ${expected.size} bytes, got ${digester.size}`, {
          code: 'DIGEST_MISMATCH',
        });
      }
      await syncPath(tmp, 'data');
      if (expected.digest === undefined) await this.#lease?.addBlob(digest);
      await rename(tmp, this.blobPath(digest));
      // The rename is durable only once its folder is: a crash could otherwise lose a blob a record already names.
      await syncPath(this.#blobs, 'entries');
      return { digest, size: digester.size };
    } catch (err) {
      throw asDiskFull(err, 'store a blob', this.#ingest);
    } finally {
      // An abort can reject before the file is even opened: wait until the stream lets go, or the file outlives the rm.
      if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()).destroy());
      await rm(tmp, { force: true });
    }
  }

  async strays(): Promise<string[]> {
    return (await readdirOrEmpty(this.#blobs)).filter((name) => !isDigest(`sha256:${name}`)).map((name) => join(this.#blobs, name));
  }

  async *walk(): AsyncIterable<BlobInfo> {
    for (const hex of await readdirOrEmpty(this.#blobs)) {
      const digest = `sha256:${hex}`;
      if (!isDigest(digest)) continue;
      const found = await this.#stat(digest);
      if (found !== undefined) yield found;
    }
  }

  deleteBlobSync(digest: Digest): void {
    rmSync(this.blobPath(digest), { force: true });
  }

  async recover(): Promise<void> {
    for (const name of await readdirOrEmpty(this.#ingest)) {
      const pid = Number(name.split('-')[0]);
      if (!Number.isInteger(pid) || !isProcessAlive(pid)) await rm(join(this.#ingest, name), { force: true });
    }
  }

  #ensureDirs(): Promise<void> {
    this.#ready ??= Promise.all([mkdir(this.#blobs, { recursive: true }), mkdir(this.#ingest, { recursive: true })]).then(() => undefined);
    return this.#ready;
  }
}

/** syncPath makes a file's data (datasync) or a folder's entries (a full sync, which covers renames) durable. */
async function syncPath(path: string, what: 'data' | 'entries'): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await (what === 'data' ? fh.datasync() : fh.sync());
  } finally {
    await fh.close();
  }
}

/**
 * createDigestOnlyStore returns a store that keeps nothing: writing a blob only digests it.
 *
 * It serves the local image store, which needs the layers' digests but not their bytes: the
 * snapshots already hold the content, and blobs are made when an image leaves the store. It
 * reports every blob as present so memoised layer digests stay valid from build to build.
 */
export function createDigestOnlyStore(): ContentIngester & Pick<ContentProvider, 'info'> {
  return {
    info: (digest) => Promise.resolve({ digest, size: 0 }),
    async writeBlob(source, expected, options) {
      const digester = new Digester();
      const input = isStream(source) ? source : Readable.from([typeof source === 'string' ? Buffer.from(source) : source]);
      await pipeline(
        input,
        new Transform({
          transform(chunk: Buffer, _enc, cb) {
            digester.update(chunk);
            cb();
          },
        }),
        { signal: options.signal },
      );
      const digest = digester.digest();
      if (expected.digest !== undefined && expected.digest !== digest) {
        throw new ContentError(`Cannot digest blob: expected ${expected.digest}, got ${digest}`, { code: 'DIGEST_MISMATCH' });
      }
      return { digest, size: digester.size };
    },
  };
}
