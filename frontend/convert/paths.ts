import { posix } from 'node:path';
import type { Chown } from '../../solver/graph/index.js';

/** resolveInWorkdir makes a path absolute against the working directory, keeping a trailing slash. */
export function resolveInWorkdir(workdir: string, p: string): string {
  const keepSlash = p === '' || p === '.' || p.endsWith('/');
  const abs = posix.normalize(posix.isAbsolute(p) ? p : posix.join(workdir, p === '' ? '.' : p));
  const trimmed = abs.length > 1 ? abs.replace(/\/+$/, '') : abs;
  return keepSlash && trimmed !== '/' ? `${trimmed}/` : trimmed;
}

/** parseChown reads `user[:group]`. */
export function parseChown(spec: string): Chown {
  const i = spec.indexOf(':');
  return i < 0 ? { user: spec } : { user: spec.slice(0, i), group: spec.slice(i + 1) };
}

/** contextIncludePattern turns a COPY source into a context include pattern (`.` for the whole context). */
export function contextIncludePattern(src: string): string {
  const p = posix.normalize(`/${src}`);
  return p === '/' ? '.' : p.replace(/^\/+/, '').replace(/\/+$/, '');
}
