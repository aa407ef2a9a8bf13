import { posix } from 'node:path';
import type { Op } from './graph/index.js';

/** cleanSource normalises a COPY source (or mount selector) to an absolute in-tree path without a trailing slash. */
export function cleanSource(src: string): string {
  return posix.normalize(`/${src}`).replace(/\/+$/, '') || '/';
}

/** hasWildcard tells whether a COPY source uses filepath.Match wildcards. */
export function hasWildcard(path: string): boolean {
  return /[*?[]/.test(path);
}

/**
 * pivotSelector names what a --parents source selects with its pivot kept (`/a/./b/**`, `/./b` without one), so that
 * a content key expands it as the copy does: `**` spans folders below the pivot only.
 */
export function pivotSelector(src: string): string {
  const i = src.indexOf('/./');
  const pivot = i < 0 ? '' : cleanSource(src.slice(0, i)).slice(1);
  const rest = cleanSource(i < 0 ? src : src.slice(i + 3)).slice(1);
  return `${pivot === '' ? '' : `/${pivot}`}/./${rest}`;
}

/**
 * contentSelectors lists the paths an op reads of one input when those are all it reads and it changes none of them
 * (BuildKit's content-based cache); undefined when it depends on the input otherwise. As BuildKit chooses them: the
 * sources of COPY/ADD (not the input copied onto), and bind mounts of other steps' files that are read-only, whose
 * changes are dropped or that show the whole input; never the root filesystem (digesting a whole rootfs costs more
 * than it saves). A RUN keeping its changes to part of an input is keyed as usual: the rest is in its result too.
 */
export function contentSelectors(op: Op, index: number): readonly string[] | undefined {
  const paths = new Set<string>();
  switch (op.kind) {
    case 'file':
      if (op.base === index) return undefined;
      for (const a of op.actions) {
        if (a.action === 'copy' && a.input === index) for (const src of a.sources) paths.add(a.parents ? pivotSelector(src) : cleanSource(src));
      }
      break;
    case 'exec':
      for (const m of op.mounts) {
        if ((m.type !== 'bind' && m.type !== 'cache') || m.input !== index) continue;
        // A cache mount seeded from the input reads all of it, when it makes the cache directory.
        if (m.type === 'cache') return undefined;
        const selector = cleanSource(m.selector ?? '/');
        // A mount's path is never a pattern: one that looks like one is keyed as usual.
        if (m.dest === '/' || hasWildcard(selector) || !(m.output === null || m.readonly || selector === '/')) return undefined;
        paths.add(selector);
      }
      break;
    case 'source':
    case 'merge':
      break;
  }
  return paths.size === 0 ? undefined : [...paths].sort();
}
