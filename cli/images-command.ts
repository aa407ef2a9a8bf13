import { readFile } from 'node:fs/promises';
import { parseDigest } from '../base/digest.js';
import type { ImageManifest } from '../base/oci.js';
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
