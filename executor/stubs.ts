import { chown, mkdir, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { lookupLayered } from './layer-lookup.js';

/** StubTarget is a mount point the rootfs must contain. */
export interface StubTarget {
  readonly path: string;
  readonly kind: 'dir' | 'file';
}

/**
 * createStubLayer fills `stubDir`, used as the topmost lowerdir, with the mount points the image lacks. The stubs
 * are seen through the overlay but never written to the upperdir, so the committed diff does not gain empty
 * /etc/hosts, /proc or similar entries. Parent directories copy the image's owner, mode and times, because overlay
 * copies a directory up from its topmost lower layer when the process writes into it.
 */
export async function createStubLayer(
  layers: readonly string[],
  stubDir: string,
  targets: readonly StubTarget[],
  options: { signal: AbortSignal },
): Promise<void> {
  const created = new Map<string, { atime: Date; mtime: Date } | null>();
  for (const target of targets) {
    options.signal.throwIfAborted();
    const found = await lookupLayered(layers, target.path);
    // A target below a symlink in the image is left to the sandbox to create, as runc would.
    if (found.kind !== 'missing') continue;
    const parts = target.path.split('/').filter((p) => p !== '');
    for (let i = 0; i < parts.length - 1; i++) await stubDirectory(layers, stubDir, parts.slice(0, i + 1).join('/'), created);
    const hostPath = path.join(stubDir, ...parts);
    if (target.kind === 'dir') await mkdir(hostPath, { recursive: true, mode: 0o755 });
    else await writeFile(hostPath, '', { mode: 0o644, flag: 'a' });
  }
  // Directory times last, deepest first, since creating children moved them.
  const dirs = [...created.entries()].sort((a, b) => b[0].length - a[0].length);
  for (const [rel, times] of dirs) if (times !== null) await utimes(path.join(stubDir, rel), times.atime, times.mtime);
}

async function stubDirectory(
  layers: readonly string[],
  stubDir: string,
  rel: string,
  created: Map<string, { atime: Date; mtime: Date } | null>,
): Promise<void> {
  if (created.has(rel)) return;
  const hostPath = path.join(stubDir, rel);
  // An earlier target may have created this directory itself (e.g. /dev before /dev/pipes).
  if (await isDirectory(hostPath)) {
    created.set(rel, null);
    return;
  }
  const found = await lookupLayered(layers, rel);
  if (found.kind === 'found' && found.stats.isDirectory()) {
    await mkdir(hostPath, { mode: found.stats.mode & 0o7777 });
    await chown(hostPath, found.stats.uid, found.stats.gid);
    created.set(rel, { atime: found.stats.atime, mtime: found.stats.mtime });
    return;
  }
  await mkdir(hostPath, { mode: 0o755 });
  created.set(rel, null);
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}
