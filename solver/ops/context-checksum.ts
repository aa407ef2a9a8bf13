import { createReadStream, readFileSync, type Stats } from 'node:fs';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { digestOf, type Digest } from '../../base/digest.js';
import { mapLimit } from '../../base/async.js';
import { createDirectoryView, type MetadataStore } from '../../cache/index.js';
import { expandSource } from './copy-match.js';
import { ContextMemo } from './context-memo.js';
import { walkContextTree, type ContextEntry } from './context-walk.js';
import type { LocalContext } from './ref.js';
import { SMALL_FILE, SmallFileReader } from './small-file.js';

const HASH_PARALLELISM = 8;
/** Bytes of a large file read at a time to digest it. */
const LARGE_FILE_CHUNK = 1024 * 1024;
/** Bytes read between two yields to the event loop. */
const YIELD_BYTES = 4 * 1024 * 1024;

/** Unknown is a file whose content must be read, and the line its description goes to. */
interface Unknown {
  readonly entry: ContextEntry;
  readonly line: number;
}

/** ChecksumOptions: where file digests are memoised, and the memo of the build when it has one. */
export interface ChecksumOptions {
  readonly meta: MetadataStore;
  readonly signal: AbortSignal;
  /** When the context is read (default: now); paths changed just before are not memoised. */
  readonly now?: number;
  /** The build's memo, shared with its COPYs; one for this checksum alone otherwise. */
  readonly memo?: ContextMemo;
  /**
   * onSelected is told the total size of the regular files selected, once they are all found, and how many of those
   * bytes must be read (files the memo does not know by their stat).
   */
  readonly onSelected?: (bytes: number, unread: number) => void;
  /** onRead is told of the bytes of selected files read to digest them, as they are read. */
  readonly onRead?: (bytes: number) => void;
  /** onListing is told the lines the checksum digests (`source` lines, then `path\0description` per file). */
  readonly onListing?: (checksum: Digest, lines: readonly string[]) => void;
  /** onSizes is told the size of each regular file a line of the listing describes (0 for other lines), line by line. */
  readonly onSizes?: (sizes: Float64Array) => void;
}

/** computeContextChecksum digests exactly the context files a COPY selects: paths, types, modes, contents, link targets. */
export async function computeContextChecksum(
  context: LocalContext,
  sources: readonly string[],
  options: ChecksumOptions,
): Promise<Digest> {
  const view = createDirectoryView(context.dir);
  const source = { view, isExcluded: context.isExcluded };
  const memo = options.memo ?? new ContextMemo(options.meta, options.now ?? Date.now());
  const lines: string[] = [];
  // Most files are known by their stat: only the others are read, after the walk.
  const unknown: Unknown[] = [];
  let selectedBytes = 0;
  const sizes: number[] | undefined = options.onSizes === undefined ? undefined : [];
  const onEntry = (entry: ContextEntry): void => {
    const size = entry.stats.isFile() && entry.linkTarget === undefined ? entry.stats.size : 0;
    selectedBytes += size;
    sizes?.push(size);
    const known = describeKnown(entry, memo);
    if (known === undefined) unknown.push({ entry, line: lines.length });
    lines.push(`${entry.relPath}\0${known ?? ''}`);
  };
  const walk = { isExcluded: context.isExcluded, signal: options.signal, listNames: memo.listNames, onEntry };
  // Every source line comes first: the entries follow in the order the sources name them.
  const selected = sources.length === 0 ? ['.'] : sources;
  const sourceLines = selected.map((src) => `source ${src}`);
  for (const src of selected) {
    // Include patterns, as BuildKit's local source takes them: `**` spans folders (a superset of what a COPY reads).
    for (const m of await expandSource(src, source, { globstarDepth: 0 })) await walkContextTree({ relPath: m.relPath, hostPath: m.entry.hostPath, stats: m.entry.stats }, walk);
  }
  options.onSelected?.(selectedBytes, unknown.reduce((n, u) => n + u.entry.stats.size, 0));
  const describe = ({ entry, line }: Unknown, digest: string): void => {
    memo.set(entry.hostPath, entry.stats, digest);
    lines[line] = `${entry.relPath}\0${describeFile(entry.stats, digest)}`;
  };
  const onRead = options.onRead ?? ((): void => undefined);
  await hashSmallFiles(
    unknown.filter((u) => u.entry.stats.size <= SMALL_FILE),
    (u, digest) => {
      describe(u, digest);
      onRead(u.entry.stats.size);
    },
    options.signal,
  );
  await mapLimit(
    unknown.filter((u) => u.entry.stats.size > SMALL_FILE),
    HASH_PARALLELISM,
    async (u) => describe(u, await hashLargeFile(u.entry.hostPath, options.signal, onRead)),
  );
  await memo.save();
  const all = [...sourceLines, ...lines];
  const checksum = digestOf(all.join('\n'));
  options.onListing?.(checksum, all);
  if (sizes !== undefined) options.onSizes?.(Float64Array.from([...sourceLines.map(() => 0), ...sizes]));
  return checksum;
}

/**
 * describeEntry describes one path as a checksum line does (after `path\0`), reading a file's content when the memo
 * does not know it by its stat: what a checksum found for a changed path, without walking the rest.
 */
export async function describeEntry(entry: ContextEntry, memo: ContextMemo, signal: AbortSignal): Promise<string> {
  const known = describeKnown(entry, memo);
  if (known !== undefined) return known;
  const digest = await digestFileContent(entry.hostPath, entry.stats.size, signal);
  memo.set(entry.hostPath, entry.stats, digest);
  return describeFile(entry.stats, digest);
}

/** describeKnown describes an entry from its stat and the memo, or returns undefined when its content must be read. */
function describeKnown(entry: ContextEntry, memo: ContextMemo): string | undefined {
  const st = entry.stats;
  const mode = (st.mode & 0o7777).toString(8);
  if (st.isDirectory()) return `dir ${mode}`;
  if (entry.linkTarget !== undefined) return `link ${entry.linkTarget}`;
  if (!st.isFile()) return `special ${st.mode.toString(8)}`;
  const known = memo.get(entry.hostPath, st);
  return known === undefined ? undefined : describeFile(st, known);
}

function describeFile(st: Stats, digest: string): string {
  return `file ${(st.mode & 0o7777).toString(8)} ${digest}`;
}

/**
 * hashSmallFiles reads and digests small files with synchronous calls, yielding to the event loop every
 * few megabytes: a thread-pool round trip (and a stream) per file costs far more than the read itself,
 * and a new 20,000-file context would otherwise take seconds to key.
 */
async function hashSmallFiles(files: readonly Unknown[], describe: (u: Unknown, digest: string) => void, signal: AbortSignal): Promise<void> {
  let budget = YIELD_BYTES;
  const reader = new SmallFileReader();
  for (const u of files) {
    const data = reader.read(u.entry.hostPath, u.entry.stats.size);
    describe(u, `sha256:${createHash('sha256').update(data).digest('hex')}`);
    budget -= data.length + 4096;
    if (budget <= 0) {
      budget = YIELD_BYTES;
      await nextMacrotask();
      signal.throwIfAborted();
    }
  }
}

/** digestFileContent digests one file's bytes as the checksum does: small files read whole, large ones streamed. */
export async function digestFileContent(path: string, size: number, signal: AbortSignal): Promise<string> {
  if (size > SMALL_FILE) return hashLargeFile(path, signal);
  signal.throwIfAborted();
  return `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
}

async function hashLargeFile(path: string, signal: AbortSignal, onRead?: (bytes: number) => void): Promise<string> {
  signal.throwIfAborted();
  const hash = createHash('sha256');
  // Large chunks: a 20 MiB file is 20 chunks through the stream and the hash, not 320.
  const read = createReadStream(path, { highWaterMark: LARGE_FILE_CHUNK });
  if (onRead !== undefined) read.on('data', (chunk: string | Buffer) => onRead(chunk.length));
  await pipeline(read, hash, { signal });
  return `sha256:${hash.digest('hex')}`;
}
