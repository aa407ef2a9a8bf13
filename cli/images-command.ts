import { readFile } from 'node:fs/promises';
import { parseDigest } from '../base/digest.js';
import type { ImageManifest } from '../base/oci.js';
import { parseArgs } from 'node:util';
import { UsageError } from '../base/errors.js';
import type { Store } from '../controller/index.js';
import { formatBytes } from './progress/plain.js';

/** listImages renders the local image store as a table, newest first. */
export async function listImages(store: Store): Promise<string> {
  const rows: string[][] = [['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']];
  const records = [...store.meta.images.getRange()].map((e) => e.value).sort((a, b) => b.createdAt - a.createdAt);
  for (const rec of records) {
    const at = rec.name.lastIndexOf(':');
    const slash = rec.name.lastIndexOf('/');
    const [repo, tag] = at > slash ? [rec.name.slice(0, at), rec.name.slice(at + 1)] : [rec.name, '<none>'];
    const manifest = JSON.parse(await readFile(store.content.blobPath(parseDigest(rec.manifestDigest)), 'utf8')) as ImageManifest;
    const size = manifest.layers.reduce((n, l) => n + l.size, 0);
    rows.push([repo, tag, rec.configDigest.slice(7, 19), ago(rec.createdAt), formatBytes(size)]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 3))).join('')).join('\n') + '\n';
}

function ago(time: number): string {
  const s = Math.max(0, Math.round((Date.now() - time) / 1000));
  if (s < 60) return `${s} seconds ago`;
  if (s < 3600) return `${Math.round(s / 60)} minutes ago`;
  if (s < 86400) return `${Math.round(s / 3600)} hours ago`;
  return `${Math.round(s / 86400)} days ago`;
}

export const RMI_HELP = `Usage: tbuild rmi [--force] IMAGE [IMAGE...] [--root DIR]

Remove images from the local image store: a name untags that name; an image ID (or a prefix of it)
removes every name of the image (with --force when it has several). Their layers are freed by
'tbuild prune' or the automatic collection after a build.
`;

/** runRemoveImages parses `tbuild rmi` and prints what it removed, as docker rmi does. */
export async function runRemoveImages(store: Store, args: readonly string[]): Promise<string> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { force: { type: 'boolean', short: 'f' }, root: { type: 'string' } },
  });
  if (positionals.length === 0) throw new UsageError('Cannot remove images: name at least one', { hint: 'tbuild rmi IMAGE [IMAGE...]' });
  const { removeImages } = await import('../controller/index.js');
  const removed = await removeImages(store, positionals, { force: values.force === true });
  return removed.flatMap((r) => [...r.untagged.map((n) => `Untagged: ${n}`), ...r.deleted.map((d) => `Deleted: ${d}`)]).join('\n') + '\n';
}
