import type { Digest } from '../../base/digest.js';
import { computeContextChecksum, type ChecksumOptions } from './context-checksum.js';
import { ContextMemo } from './context-memo.js';
import { patchScan } from './context-patch.js';
import type { LocalContext } from './ref.js';

/** ContextScan is what a context checksum found: its lines, the bytes of files it selected, from a watch's mark on. */
export interface ContextScan {
  /** The watch's mark taken before the walk began: a change after it is among the watch's changes since. */
  readonly mark: number;
  readonly checksum: Digest;
  readonly lines: readonly string[];
  readonly selectedBytes: number;
  /** For a scan of the whole context: each line's file size, so that changed paths are described again without a walk. */
  readonly sizes?: Float64Array;
}

/** WatchedContext is the watch of one context folder, with the scans made of it while it watched. */
export interface WatchedContext {
  /** mark is the point a walk starting now covers, or undefined when the watch cannot tell changes after it. */
  mark(): number | undefined;
  /** changesSince lists the paths that may have changed since a mark (every change made before the call), or undefined when not all are known. */
  changesSince(mark: number, options: { readonly signal: AbortSignal }): Promise<readonly string[] | undefined>;
  /** The latest scan of the folder, by what it selected (ignore patterns, excludes, include patterns). */
  readonly scans: Map<string, ContextScan>;
}

/** ContextWatches lends op runners the watch of a context folder: a resident builder keeps them between builds. */
export interface ContextWatches {
  /** watch returns the folder's watch, every directory watched before it returns; undefined when it cannot be watched. */
  watch(dir: string, options: { readonly signal: AbortSignal }): Promise<WatchedContext | undefined>;
}

/**
 * checksumWithWatch is computeContextChecksum that reuses the last scan of a watched folder while its watch tells that
 * nothing in it changed since that scan began. The watch starts (and covers the folder) before the walk that seeds it,
 * and the mark is taken before the walk: a change during the walk makes the next build walk again. Lost events, a
 * failed watch or an unwatched folder mean a walk.
 */
export async function checksumWithWatch(
  context: LocalContext,
  sources: readonly string[],
  options: ChecksumOptions & { readonly watches: ContextWatches | undefined },
): Promise<Digest> {
  const { watches, ...checksumOptions } = options;
  const watched = watches === undefined || context.scanKey === undefined ? undefined : await watches.watch(context.dir, options);
  if (watched === undefined || context.scanKey === undefined) return computeContextChecksum(context, sources, checksumOptions);
  const key = JSON.stringify([context.scanKey, sources]);
  const known = watched.scans.get(key);
  if (known !== undefined) {
    const changed = await watched.changesSince(known.mark, options);
    // Taken before the changed paths are read: a change made meanwhile is among the next build's changes.
    const mark = watched.mark();
    if (changed?.length === 0) {
      options.onSelected?.(known.selectedBytes, 0);
      options.onListing?.(known.checksum, known.lines);
      return known.checksum;
    }
    watched.scans.delete(key);
    const memo = options.memo ?? new ContextMemo(options.meta, options.now ?? Date.now());
    const patched = changed === undefined || known.sizes === undefined ? undefined : await patchScan({ lines: known.lines, sizes: known.sizes }, changed, { dir: context.dir, memo, signal: options.signal, ...(context.isSurelyExcluded === undefined ? {} : { isSurelyExcluded: context.isSurelyExcluded }) });
    if (patched !== undefined) {
      options.onSelected?.(patched.selectedBytes, patched.readBytes);
      options.onRead?.(patched.readBytes);
      options.onListing?.(patched.checksum, patched.lines);
      if (mark !== undefined) watched.scans.set(key, { mark, checksum: patched.checksum, lines: patched.lines, sizes: patched.sizes, selectedBytes: patched.selectedBytes });
      return patched.checksum;
    }
  }
  const mark = watched.mark();
  let lines: readonly string[] = [];
  let selectedBytes = 0;
  let sizes: Float64Array | undefined;
  // Only a scan of the whole context lists paths as they are in the folder: its lines can be patched by path.
  const whole = sources.length === 0 || (sources.length === 1 && sources[0] === '.');
  const checksum = await computeContextChecksum(context, sources, {
    ...checksumOptions,
    ...(whole ? { onSizes: (listed: Float64Array) => void (sizes = listed) } : {}),
    onSelected: (bytes, unread) => {
      selectedBytes = bytes;
      options.onSelected?.(bytes, unread);
    },
    onListing: (digest, listed) => {
      lines = listed;
      options.onListing?.(digest, listed);
    },
  });
  if (mark !== undefined) watched.scans.set(key, { mark, checksum, lines, selectedBytes, ...(sizes === undefined ? {} : { sizes }) });
  return checksum;
}
