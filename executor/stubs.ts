import { chmod, chown, mkdir, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LayeredTree } from '../native/index.js';

/** StubTarget is a mount point the rootfs must contain. */
export interface StubTarget {
  readonly path: string;
  readonly kind: 'dir' | 'file';
}

/**
 * createRuntimeMountPoints creates, in the upperdir, the directories of the runtime's own mounts (/proc, /dev, /sys)
 * that no layer has, empty, root-owned and mode 0755, so they land in the RUN's layer. BuildKit's layers get them the
 * same way: runc creates the mount points in the rootfs and BuildKit's mount-stub cleanup (executor/stubs.go) never
 * covers them, in Docker 20.10's BuildKit 0.8 as in current BuildKit.
 */
export async function createRuntimeMountPoints(
  upperdir: string,
  tree: LayeredTree,
  targets: readonly string[],
  options: { signal: AbortSignal },
): Promise<void> {
  for (const target of targets) {
    options.signal.throwIfAborted();
    if ((await tree.lookup(target)).kind !== 'missing') continue;
    const hostPath = path.join(upperdir, target);
    await mkdir(hostPath);
    // Not subject to the umask, as runc's MkdirAll(0755) on a root-owned rootfs gives.
    await chmod(hostPath, 0o755);
    tree.forget(target);
  }
}

/**
 * createStubLayer fills `stubDir`, used as the topmost lowerdir, with the mount points the image lacks. The stubs
 * are seen through the overlay but never written to the upperdir, so the committed diff does not gain empty
 * /etc/hosts or RUN --mount targets, nor the parents made for them. That is what current BuildKit leaves: its
 * recursive mount-stub cleanup removes every empty stub it created and each missing parent it made for one. Docker
 * 20.10 (BuildKit 0.8) differs: it removes only empty files and keeps the directories (/etc, /run/secrets, a cache
 * or bind target and its parents). Parent directories copy the image's owner, mode and times, because overlay copies
 * a directory up from its topmost lower layer when the process writes into it.
 */
export async function createStubLayer(
  tree: LayeredTree,
  stubDir: string,
  targets: readonly StubTarget[],
  options: { signal: AbortSignal },
): Promise<void> {
  const created = new Map<string, { atime: Date; mtime: Date } | null>();
  // Stubs go to stubDir, outside the tree's layers: what the tree found stays true while they are made.
  for (const target of targets) {
    options.signal.throwIfAborted();
    // A target below the image's symlinks is stubbed where they lead inside the root, as runc resolves it (securejoin):
    // the mount lands there and the stubs stay out of the layer as BuildKit's cleanup keeps them out.
    const resolved = await tree.resolve(target.path);
    if (resolved === undefined) continue; // a loop or a file on the way: the sandbox reports it as it mounts
    if ((await tree.lookup(resolved)).kind !== 'missing') continue;
    const parts = resolved.split('/').filter((p) => p !== '');
    for (let i = 0; i < parts.length - 1; i++) await stubDirectory(tree, stubDir, parts.slice(0, i + 1).join('/'), created);
    const hostPath = path.join(stubDir, ...parts);
    if (target.kind === 'dir') await mkdir(hostPath, { recursive: true, mode: 0o755 });
    else await writeFile(hostPath, '', { mode: 0o644, flag: 'a' });
  }
  // Directory times last, deepest first, since creating children moved them.
  const dirs = [...created.entries()].sort((a, b) => b[0].length - a[0].length);
  for (const [rel, times] of dirs) if (times !== null) await utimes(path.join(stubDir, rel), times.atime, times.mtime);
}

async function stubDirectory(
  tree: LayeredTree,
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
  const found = await tree.lookup(rel);
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
