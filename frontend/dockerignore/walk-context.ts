import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { PatternMatcher } from './pattern-matcher.js';

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

const GLOB_META = /[*?[\\]/;

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
  const exceptions = matcher.patterns.filter((p) => p.exclusion).map((p) => p.cleanedPattern);
  const out: ContextEntry[] = [];
  await walkDir(root, '', { matcher, exceptions, signal: options.signal }, out);
  return out;
}

interface WalkState {
  readonly matcher: PatternMatcher;
  readonly exceptions: readonly string[];
  readonly signal: AbortSignal;
}

async function walkDir(root: string, rel: string, state: WalkState, out: ContextEntry[]): Promise<void> {
  state.signal.throwIfAborted();
  const entries = await readdir(path.join(root, rel), { withFileTypes: true });
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
    } else if (couldMatchInside(entryRel, state.exceptions)) {
      const inner: ContextEntry[] = [];
      await walkDir(root, entryRel, state, inner);
      if (inner.length > 0) out.push({ path: entryRel, kind: 'dir' }, ...inner);
    }
  }
}

/** couldMatchInside reports whether an exception pattern might re-include something below dir. */
function couldMatchInside(dir: string, exceptions: readonly string[]): boolean {
  const dirSlash = `${dir}/`;
  return exceptions.some((pattern) => {
    const meta = pattern.search(GLOB_META);
    if (meta < 0) return `${pattern}/`.startsWith(dirSlash);
    // With wildcards, compare only the literal part in front of the first one.
    const literal = pattern.slice(0, meta);
    return dirSlash.startsWith(literal) || literal.startsWith(dirSlash);
  });
}

function kindOf(entry: { isFile(): boolean; isSymbolicLink(): boolean }): ContextEntry['kind'] {
  if (entry.isFile()) return 'file';
  if (entry.isSymbolicLink()) return 'symlink';
  return 'other';
}
