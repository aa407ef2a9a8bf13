import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** TreeBounds are the sizes from which a tree counts as large. */
export interface TreeBounds {
  readonly bytes: number;
  readonly entries: number;
}

/**
 * isSmallTree tells whether a directory holds fewer than `bounds.entries` entries and `bounds.bytes` bytes of regular
 * files. It stops at the first bound passed, so a large tree costs only the start of a walk: it decides where a tar
 * is made, and nothing else relies on it.
 */
export function isSmallTree(dir: string, bounds: TreeBounds): boolean {
  let bytes = 0;
  let entries = 0;
  const stack = [dir];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    for (const child of readdirSync(next, { withFileTypes: true })) {
      if (++entries >= bounds.entries) return false;
      const path = join(next, child.name);
      if (child.isDirectory()) stack.push(path);
      else if (child.isFile() && (bytes += lstatSync(path).size) >= bounds.bytes) return false;
    }
  }
  return true;
}
