import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { digestOf, type Digest } from '../../base/digest.js';
import { mapLimit } from '../../base/async.js';
import { createDirectoryView } from '../../cache/fs-view.js';
import type { MetadataStore } from '../../cache/metadata.js';
import { expandSource } from './copy-match.js';
import { ContextMemo } from './context-memo.js';
import { walkContextTree, type ContextEntry } from './context-walk.js';
import type { LocalContext } from './ref.js';

const HASH_PARALLELISM = 8;

/** ChecksumOptions: where file digests are memoised, and the memo of the build when it has one. */
export interface ChecksumOptions {
  readonly meta: MetadataStore;
  readonly signal: AbortSignal;
  /** When the context is read (default: now); paths changed just before are not memoised. */
  readonly now?: number;
  /** The build's memo, shared with its COPYs; one for this checksum alone otherwise. */
  readonly memo?: ContextMemo;
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
  // Most files are known by their stat: only the others take a (parallel, asynchronous) read, after the walk.
  const unknown: { entry: ContextEntry; line: number }[] = [];
  const onEntry = (entry: ContextEntry): void => {
    const known = describeKnown(entry, memo);
    if (known === undefined) unknown.push({ entry, line: lines.length });
    lines.push(`${entry.relPath}\0${known ?? ''}`);
  };
  const walk = { isExcluded: context.isExcluded, signal: options.signal, listNames: memo.listNames, onEntry };
  // Every source line comes first: the entries follow in the order the sources name them.
  const selected = sources.length === 0 ? ['.'] : sources;
  const sourceLines = selected.map((src) => `source ${src}`);
  for (const src of selected) {
    for (const m of await expandSource(src, source)) await walkContextTree({ relPath: m.relPath, hostPath: m.entry.hostPath, stats: m.entry.stats }, walk);
  }
  await mapLimit(unknown, HASH_PARALLELISM, async ({ entry, line }) => {
    lines[line] = `${entry.relPath}\0${await hashFile(entry, memo, options.signal)}`;
  });
  await memo.save();
  return digestOf([...sourceLines, ...lines].join('\n'));
}

/** describeKnown describes an entry from its stat and the memo, or returns undefined when its content must be read. */
function describeKnown(entry: ContextEntry, memo: ContextMemo): string | undefined {
  const st = entry.stats;
  const mode = (st.mode & 0o7777).toString(8);
  if (st.isDirectory()) return `dir ${mode}`;
  if (entry.linkTarget !== undefined) return `link ${entry.linkTarget}`;
  if (!st.isFile()) return `special ${st.mode.toString(8)}`;
  const known = memo.get(entry.hostPath, st);
  return known === undefined ? undefined : `file ${mode} ${known}`;
}

async function hashFile(entry: ContextEntry, memo: ContextMemo, signal: AbortSignal): Promise<string> {
  signal.throwIfAborted();
  const hash = createHash('sha256');
  await pipeline(createReadStream(entry.hostPath), hash, { signal });
  const digest = `sha256:${hash.digest('hex')}`;
  memo.set(entry.hostPath, entry.stats, digest);
  return `file ${(entry.stats.mode & 0o7777).toString(8)} ${digest}`;
}
