import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { isSkippedDirError } from './context-filter.js';
import { mayReincludeBelow, PatternMatcher } from '../frontend/index.js';

/** ContextEntry is one entry of the build context that survived the ignore patterns. */
export interface ContextEntry {
  /** Slash-separated path relative to the context root. */
  readonly path: string;
  readonly kind: 'file' | 'dir' | 'symlink' | 'other';
}

/** WalkContextOptions carries the abort signal of a context walk. */
export interface WalkContextOptions {
  readonly signal: AbortSignal;
}

/**
 * walkContext lists the context entries kept by the exclude patterns, in lexical walk order. A file is kept
 * when it is not excluded; a directory when it is not excluded or holds a kept entry. An excluded directory
 * is read only if some exception pattern could match inside it, so unreadable excluded directories are fine.
 */
export async function walkContext(
  root: string,
  patterns: readonly string[] | PatternMatcher,
  options: WalkContextOptions,
): Promise<ContextEntry[]> {
  const matcher = patterns instanceof PatternMatcher ? patterns : new PatternMatcher(patterns);
  const out: ContextEntry[] = [];
  await walkDir(root, '', { matcher, signal: options.signal }, out);
  return out;
}

interface WalkState {
  readonly matcher: PatternMatcher;
  readonly signal: AbortSignal;
}

async function walkDir(root: string, rel: string, state: WalkState, out: ContextEntry[], inExcluded = false): Promise<void> {
  state.signal.throwIfAborted();
  let entries: Dirent[];
  try {
    entries = await readdir(path.join(root, rel), { withFileTypes: true });
  } catch (err) {
    // Below an excluded directory, what cannot be read is skipped, as BuildKit's walk does.
    if (!inExcluded || !isSkippedDirError(err)) throw err;
    return;
  }
  // Sort by bytes, the order Go's directory walk uses.
  entries.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  for (const entry of entries) {
    const entryRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
    const excluded = state.matcher.matchesOrParentMatches(entryRel);
    if (!entry.isDirectory()) {
      if (!excluded) out.push({ path: entryRel, kind: kindOf(entry) });
      continue;
    }
    if (!excluded) {
      out.push({ path: entryRel, kind: 'dir' });
      await walkDir(root, entryRel, state, out);
    } else if (mayReincludeBelow(state.matcher, entryRel)) {
      const inner: ContextEntry[] = [];
      await walkDir(root, entryRel, state, inner, true);
      if (inner.length > 0) out.push({ path: entryRel, kind: 'dir' }, ...inner);
    }
  }
}

function kindOf(entry: { isFile(): boolean; isSymbolicLink(): boolean }): ContextEntry['kind'] {
  if (entry.isFile()) return 'file';
  if (entry.isSymbolicLink()) return 'symlink';
  return 'other';
}
