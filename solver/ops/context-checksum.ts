import { createReadStream, readdirSync, type Stats } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { digestOf, type Digest } from '../../base/digest.js';
import { mapLimit } from '../../base/async.js';
import { createDirectoryView } from '../../cache/fs-view.js';
import type { ChecksumMemo, MetadataStore } from '../../cache/metadata.js';
import { expandSource } from './copy-match.js';
import { walkContextTree, type ContextEntry } from './context-walk.js';
import type { LocalContext } from './ref.js';

const HASH_PARALLELISM = 8;

/**
 * A path changed this recently (by its ctime) is not memoised: timestamps are only as fine as the
 * kernel's clock tick, so a change made right after it was read could leave its stat as it was.
 */
const RACY_MS = 1000;

/** computeContextChecksum digests exactly the context files a COPY selects: paths, types, modes, contents, link targets. */
export async function computeContextChecksum(
  context: LocalContext,
  sources: readonly string[],
  options: { meta: MetadataStore; signal: AbortSignal; now?: number },
): Promise<Digest> {
  const view = createDirectoryView(context.dir);
  const source = { view, isExcluded: context.isExcluded };
  const memo = new DirectoryMemo(options.meta, options.now ?? Date.now());
  const walk = { isExcluded: context.isExcluded, signal: options.signal, listNames: memo.listNames };
  const lines: string[] = [];
  const entries: ContextEntry[] = [];
  for (const src of sources.length === 0 ? ['.'] : sources) {
    lines.push(`source ${src}`);
    for (const m of await expandSource(src, source)) {
      entries.push(...(await walkContextTree({ relPath: m.relPath, hostPath: m.entry.hostPath, stats: m.entry.stats }, walk)));
    }
  }
  // Most files are known by their stat: only the others take a (parallel, asynchronous) read.
  const described = entries.map((entry) => describeKnown(entry, memo));
  const unknown = entries.filter((_, i) => described[i] === undefined);
  const hashed = await mapLimit(unknown, HASH_PARALLELISM, (entry) => hashFile(entry, memo, options.signal));
  let next = 0;
  for (let i = 0; i < entries.length; i++) lines.push(`${entries[i]?.relPath ?? ''}\0${described[i] ?? hashed[next++] ?? ''}`);
  await memo.save();
  return digestOf(lines.join('\n'));
}

/** describeKnown describes an entry from its stat and the memo, or returns undefined when its content must be read. */
function describeKnown(entry: ContextEntry, memo: DirectoryMemo): string | undefined {
  const st = entry.stats;
  const mode = (st.mode & 0o7777).toString(8);
  if (st.isDirectory()) return `dir ${mode}`;
  if (entry.linkTarget !== undefined) return `link ${entry.linkTarget}`;
  if (!st.isFile()) return `special ${st.mode.toString(8)}`;
  const known = memo.get(entry.hostPath, identityOf(st));
  return known === undefined ? undefined : `file ${mode} ${known}`;
}

async function hashFile(entry: ContextEntry, memo: DirectoryMemo, signal: AbortSignal): Promise<string> {
  signal.throwIfAborted();
  const hash = createHash('sha256');
  await pipeline(createReadStream(entry.hostPath), hash, { signal });
  const digest = `sha256:${hash.digest('hex')}`;
  memo.set(entry.hostPath, entry.stats, digest);
  return `file ${(entry.stats.mode & 0o7777).toString(8)} ${digest}`;
}

/** identityOf is what must stay the same for a path's memoised content (or listing) to stand. */
function identityOf(st: Stats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

/**
 * DirectoryMemo reads and writes one record per directory, so a large context costs few database
 * operations: the digests of its files, each under its stat identity, and its sorted names under
 * its own stat identity (creating, removing or renaming an entry changes a directory's times).
 */
class DirectoryMemo {
  readonly #meta: MetadataStore;
  readonly #now: number;
  readonly #loaded = new Map<string, { files: Record<string, readonly [string, string]>; listing?: ChecksumMemo['listing'] }>();
  readonly #dirty = new Set<string>();

  constructor(meta: MetadataStore, now: number) {
    this.#meta = meta;
    this.#now = now;
  }

  #record(dir: string): { files: Record<string, readonly [string, string]>; listing?: ChecksumMemo['listing'] } {
    let rec = this.#loaded.get(dir);
    if (rec === undefined) {
      const stored: ChecksumMemo | undefined = this.#meta.checksums.get(dir);
      rec = { files: { ...stored?.files }, ...(stored?.listing === undefined ? {} : { listing: stored.listing }) };
      this.#loaded.set(dir, rec);
    }
    return rec;
  }

  #settled(st: Stats): boolean {
    return this.#now - st.ctimeMs > RACY_MS;
  }

  get(path: string, identity: string): string | undefined {
    const known = this.#record(dirname(path)).files[basename(path)];
    return known?.[0] === identity ? known[1] : undefined;
  }

  set(path: string, st: Stats, digest: string): void {
    if (!this.#settled(st)) return;
    const dir = dirname(path);
    this.#record(dir).files[basename(path)] = [identityOf(st), digest];
    this.#dirty.add(dir);
  }

  /** listNames lists a directory, from the memo while the directory's stat is what it was. */
  readonly listNames = (dir: string, st: Stats, fresh: boolean): readonly string[] => {
    const rec = this.#record(dir);
    const identity = identityOf(st);
    if (!fresh && rec.listing?.identity === identity) return rec.listing.names;
    const names = readdirSync(dir).sort();
    if (this.#settled(st)) {
      rec.listing = { identity, names };
      // Forget the files that are gone, so a directory's record does not grow without end.
      const kept = new Set(names);
      rec.files = Object.fromEntries(Object.entries(rec.files).filter(([name]) => kept.has(name)));
      this.#dirty.add(dir);
    }
    return names;
  };

  async save(): Promise<void> {
    await Promise.all(
      [...this.#dirty].map((dir) => {
        const rec = this.#loaded.get(dir);
        return this.#meta.checksums.put(dir, { files: rec?.files ?? {}, ...(rec?.listing === undefined ? {} : { listing: rec.listing }) });
      }),
    );
  }
}
