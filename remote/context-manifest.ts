import { createReadStream } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { mapLimit } from '../base/async.js';
import { readTextIfExists } from '../base/fs.js';
import { readIgnoreFile, walkContext } from '../controller/index.js';
import { writeFileAtomic } from './client-state.js';
import type { ManifestEntryMsg } from './messages.js';

const HASH_PARALLELISM = 8;

/** ContextManifest is what the client offers of a context: the kept entries and the ignore text it applied. */
export interface ContextManifest {
  readonly dir: string;
  readonly entries: readonly ManifestEntryMsg[];
  readonly dockerignore: string;
}

type Memo = Record<string, readonly [string, string]>;

async function loadMemo(path: string): Promise<Memo> {
  const text = await readTextIfExists(path);
  if (text === null) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) return {};
    const out: Memo = {};
    for (const [k, v] of Object.entries(parsed)) {
      if (Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'string') out[k] = [v[0], v[1]];
    }
    return out;
  } catch (err) {
    // A damaged memo only costs re-hashing.
    if (err instanceof SyntaxError) return {};
    throw err;
  }
}

async function sha256File(path: string, signal: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash, { signal });
  return hash.digest('hex');
}

/**
 * buildManifest lists the context entries the ignore text keeps (the one given beside the Dockerfile, else the
 * context's own .dockerignore) with their mode, size, mtime and sha256. Checksums are remembered by stat identity in
 * `memoPath`, so an unchanged file is not read again.
 */
export async function buildManifest(
  dir: string,
  ignore: string | undefined,
  options: { signal: AbortSignal; memoPath: string },
): Promise<ContextManifest> {
  const dockerignore = ignore ?? (await readTextIfExists(join(dir, '.dockerignore'))) ?? '';
  const walked = await walkContext(dir, readIgnoreFile(dockerignore), { signal: options.signal });
  const memo = await loadMemo(options.memoPath);
  const next: Memo = {};
  const described = await mapLimit(walked, HASH_PARALLELISM, async (e): Promise<ManifestEntryMsg | null> => {
    options.signal.throwIfAborted();
    const host = join(dir, e.path);
    const st = await lstat(host);
    const common = { path: e.path, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs, size: 0, sha256: '', linkTarget: '' };
    if (st.isDirectory()) return { ...common, kind: 'DIR' };
    if (st.isSymbolicLink()) return { ...common, kind: 'SYMLINK', linkTarget: await readlink(host) };
    if (!st.isFile()) return null;
    const identity = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    const known = memo[e.path];
    const sha256 = known !== undefined && known[0] === identity ? known[1] : await sha256File(host, options.signal);
    next[e.path] = [identity, sha256];
    return { ...common, kind: 'FILE', size: st.size, sha256 };
  });
  await writeFileAtomic(options.memoPath, JSON.stringify(next));
  return { dir, entries: described.filter((e): e is ManifestEntryMsg => e !== null), dockerignore };
}
