import { parseArgs } from 'node:util';
import { UsageError } from '../base/errors.js';
import type { Controller, ImageSummary } from '../controller/index.js';
import { formatAgo, formatBytes } from './progress/plain.js';

/** renderImages renders the local image store as a table, in the order given (newest first). */
export function renderImages(images: readonly ImageSummary[]): string {
  const rows: string[][] = [['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']];
  for (const image of images) {
    const at = image.name.lastIndexOf(':');
    const slash = image.name.lastIndexOf('/');
    const [repo, tag] = at > slash ? [image.name.slice(0, at), image.name.slice(at + 1)] : [image.name, '<none>'];
    rows.push([repo, tag, image.configDigest.slice(7, 19), formatAgo(image.createdAt), formatBytes(image.size)]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 3))).join('')).join('\n') + '\n';
}

export const RMI_HELP = `Usage: tbuild rmi [--force] IMAGE [IMAGE...] [--root DIR]

Remove images from the local image store: a name untags that name; an image ID (or a prefix of it)
removes every name of the image (with --force when it has several). Their layers are freed by
'tbuild prune' or the automatic collection after a build.
`;

/** runRemoveImages parses `tbuild rmi` and prints what it removed, as docker rmi does. */
export async function runRemoveImages(controller: Controller, args: readonly string[]): Promise<string> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { force: { type: 'boolean', short: 'f' }, root: { type: 'string' } },
  });
  if (positionals.length === 0) throw new UsageError('Cannot remove images: name at least one', { hint: 'tbuild rmi IMAGE [IMAGE...]' });
  const removed = await controller.removeImages(positionals, { force: values.force === true });
  return removed.flatMap((r) => [...r.untagged.map((n) => `Untagged: ${n}`), ...r.deleted.map((d) => `Deleted: ${d}`)]).join('\n') + '\n';
}
