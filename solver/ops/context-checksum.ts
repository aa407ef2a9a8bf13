import { createReadStream, type Stats } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { digestOf, type Digest } from '../../base/digest.js';
import { mapLimit } from '../../base/async.js';
import { createDirectoryView, type FsView } from '../../cache/fs-view.js';
import type { MetadataStore } from '../../cache/metadata.js';
import { expandSource, type Match } from './copy-match.js';
import type { LocalContext } from './ref.js';

const HASH_PARALLELISM = 16;

interface Leaf {
  readonly relPath: string;
  readonly hostPath: string;
  readonly stats: Stats;
}

/** computeContextChecksum digests exactly the context files a COPY selects: paths, types, modes, contents, link targets. */
export async function computeContextChecksum(
  context: LocalContext,
  sources: readonly string[],
  options: { meta: MetadataStore; signal: AbortSignal },
): Promise<Digest> {
  const view = createDirectoryView(context.dir);
  const source = { view, isExcluded: context.isExcluded };
  const leaves: Leaf[] = [];
  const lines: string[] = [];
  for (const src of sources.length === 0 ? ['.'] : sources) {
    lines.push(`source ${src}`);
    for (const m of await expandSource(src, source)) await collect(view, context, m, leaves);
  }
  const writes: Promise<unknown>[] = [];
  const digests = await mapLimit(leaves, HASH_PARALLELISM, async (leaf) => {
    options.signal.throwIfAborted();
    return describe(leaf, options.meta, writes);
  });
  await Promise.all(writes);
  for (let i = 0; i < leaves.length; i++) lines.push(`${leaves[i]?.relPath ?? ''}\0${digests[i] ?? ''}`);
  return digestOf(lines.join('\n'));
}

async function collect(view: FsView, context: LocalContext, m: Match, out: Leaf[]): Promise<void> {
  out.push({ relPath: m.relPath, hostPath: m.entry.hostPath, stats: m.entry.stats });
  if (!m.entry.stats.isDirectory()) return;
  const children = [...(await view.list(`/${m.relPath}`))].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, entry] of children) {
    const relPath = m.relPath === '' ? name : `${m.relPath}/${name}`;
    if (context.isExcluded(relPath)) continue;
    await collect(view, context, { relPath, entry }, out);
  }
}

async function describe(leaf: Leaf, meta: MetadataStore, writes: Promise<unknown>[]): Promise<string> {
  const st = leaf.stats;
  const mode = (st.mode & 0o7777).toString(8);
  if (st.isDirectory()) return `dir ${mode}`;
  if (st.isSymbolicLink()) return `link ${await readlink(leaf.hostPath)}`;
  if (!st.isFile()) return `special ${st.mode.toString(8)}`;
  return `file ${mode} ${await fileDigest(leaf, meta, writes)}`;
}

/** Hashes a file's content, remembering the digest under its stat identity so unchanged files are not read again. */
async function fileDigest(leaf: Leaf, meta: MetadataStore, writes: Promise<unknown>[]): Promise<string> {
  const st = leaf.stats;
  const identity = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  const memo = meta.checksums.get(leaf.hostPath);
  if (memo?.stat === identity) return memo.digest;
  const hash = createHash('sha256');
  await pipeline(createReadStream(leaf.hostPath), hash);
  const digest = `sha256:${hash.digest('hex')}`;
  writes.push(meta.checksums.put(leaf.hostPath, { stat: identity, digest }));
  return digest;
}
