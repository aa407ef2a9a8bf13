import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { digestOf, type Digest } from '../../base/digest.js';
import { mapLimit } from '../../base/async.js';
import { createDirectoryView } from '../../cache/fs-view.js';
import type { ChecksumMemo, MetadataStore } from '../../cache/metadata.js';
import { expandSource } from './copy-match.js';
import { walkContextTree, type ContextEntry } from './context-walk.js';
import type { LocalContext } from './ref.js';

const HASH_PARALLELISM = 8;

/** computeContextChecksum digests exactly the context files a COPY selects: paths, types, modes, contents, link targets. */
export async function computeContextChecksum(
  context: LocalContext,
  sources: readonly string[],
  options: { meta: MetadataStore; signal: AbortSignal },
): Promise<Digest> {
  const view = createDirectoryView(context.dir);
  const source = { view, isExcluded: context.isExcluded };
  const lines: string[] = [];
  const entries: ContextEntry[] = [];
  for (const src of sources.length === 0 ? ['.'] : sources) {
    lines.push(`source ${src}`);
    for (const m of await expandSource(src, source)) {
      entries.push(...(await walkContextTree({ relPath: m.relPath, hostPath: m.entry.hostPath, stats: m.entry.stats }, context.isExcluded, options.signal)));
    }
  }
  const memo = new DirectoryMemo(options.meta);
  const described = await mapLimit(entries, HASH_PARALLELISM, (entry) => describe(entry, memo, options.signal));
  await memo.save();
  for (let i = 0; i < entries.length; i++) lines.push(`${entries[i]?.relPath ?? ''}\0${described[i] ?? ''}`);
  return digestOf(lines.join('\n'));
}

async function describe(entry: ContextEntry, memo: DirectoryMemo, signal: AbortSignal): Promise<string> {
  const st = entry.stats;
  const mode = (st.mode & 0o7777).toString(8);
  if (st.isDirectory()) return `dir ${mode}`;
  if (entry.linkTarget !== undefined) return `link ${entry.linkTarget}`;
  if (!st.isFile()) return `special ${st.mode.toString(8)}`;
  const identity = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  const known = memo.get(entry.hostPath, identity);
  if (known !== undefined) return `file ${mode} ${known}`;
  signal.throwIfAborted();
  const hash = createHash('sha256');
  await pipeline(createReadStream(entry.hostPath), hash, { signal });
  const digest = `sha256:${hash.digest('hex')}`;
  memo.set(entry.hostPath, identity, digest);
  return `file ${mode} ${digest}`;
}

/** DirectoryMemo reads and writes file digests one directory record at a time, so a large context costs few database operations. */
class DirectoryMemo {
  readonly #meta: MetadataStore;
  readonly #loaded = new Map<string, Record<string, readonly [string, string]>>();
  readonly #dirty = new Set<string>();

  constructor(meta: MetadataStore) {
    this.#meta = meta;
  }

  #files(dir: string): Record<string, readonly [string, string]> {
    let files = this.#loaded.get(dir);
    if (files === undefined) {
      const rec: ChecksumMemo | undefined = this.#meta.checksums.get(dir);
      files = rec === undefined ? {} : { ...rec.files };
      this.#loaded.set(dir, files);
    }
    return files;
  }

  get(path: string, identity: string): string | undefined {
    const known = this.#files(dirname(path))[basename(path)];
    return known?.[0] === identity ? known[1] : undefined;
  }

  set(path: string, identity: string, digest: string): void {
    const dir = dirname(path);
    this.#files(dir)[basename(path)] = [identity, digest];
    this.#dirty.add(dir);
  }

  async save(): Promise<void> {
    await Promise.all([...this.#dirty].map((dir) => this.#meta.checksums.put(dir, { files: this.#loaded.get(dir) ?? {} })));
  }
}
