import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, lutimes, mkdir, readFile, readlink, rename, rm, symlink, utimes } from 'node:fs/promises';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { ContentError, errnoCode, InternalError } from '../base/errors.js';
import { writeFileAtomic } from './client-state.js';
import type { ClientMessage, ContextStatsMsg, ManifestEntryMsg, ServerMessage } from './messages.js';
import { expectMessage, type MessageReader } from './message-reader.js';

const WANT_BATCH = 8192;

/** SyncedContext is the server's copy of a client context, up to date for one build. */
export interface SyncedContext {
  readonly dir: string;
  readonly stats: ContextStatsMsg;
}

type State = Map<string, ManifestEntryMsg>;

/** contextCopyDir is where the server keeps one client's copy of one context. */
export function contextCopyDir(root: string, clientId: string, key: string): string {
  const safe = (s: string): string => {
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(s)) throw new InternalError(`Cannot use client id or context key "${s.slice(0, 40)}"`);
    return s;
  };
  return join(root, safe(clientId), safe(key));
}

async function loadState(path: string): Promise<State | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw err;
  }
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) return null;
  const state: State = new Map();
  for (const e of parsed) {
    if (typeof e === 'object' && e !== null && typeof Reflect.get(e, 'path') === 'string') {
      const get = (k: string): unknown => Reflect.get(e, k);
      const kind = get('kind');
      if (kind !== 'FILE' && kind !== 'DIR' && kind !== 'SYMLINK') continue;
      state.set(String(get('path')), {
        path: String(get('path')), kind, mode: Number(get('mode')), size: Number(get('size')), mtimeMs: Number(get('mtimeMs')),
        sha256: String(get('sha256')), linkTarget: String(get('linkTarget')),
      });
    }
  }
  return state;
}

function safePath(files: string, rel: string): string {
  const parts = rel.split('/');
  if (rel === '' || rel.startsWith('/') || parts.some((p) => p === '..' || p === '.' || p === '')) {
    throw new InternalError(`Cannot accept context path "${rel}": not a clean relative path`);
  }
  return join(files, rel);
}

/**
 * receiveContext brings the server's copy of a client context up to date: it reads the manifest, asks for the
 * files whose checksum differs from the last build, writes them as they stream in, and removes deleted entries.
 * A crash midway leaves no state file, so the next build sends everything again.
 */
export async function receiveContext(
  reader: MessageReader<ClientMessage>,
  send: (m: ServerMessage) => Promise<void>,
  options: { dir: string; signal: AbortSignal },
): Promise<SyncedContext> {
  const files = join(options.dir, 'files');
  const statePath = join(options.dir, 'state.json');
  let previous = await loadState(statePath);
  if (previous === null) {
    await rm(files, { recursive: true, force: true });
    previous = new Map();
  }
  await rm(statePath, { force: true });
  await mkdir(files, { recursive: true });
  const entries: ManifestEntryMsg[] = [];
  for (;;) {
    const m = await expectMessage(reader, 'manifest');
    for (const e of m.manifest.entries) entries.push(e);
    if (m.manifest.last) break;
  }
  const current = new Map(entries.map((e) => [e.path, e]));
  let removed = 0;
  for (const [path, old] of previous) {
    const now = current.get(path);
    if (now === undefined || now.kind !== old.kind || (now.kind === 'SYMLINK' && now.linkTarget !== old.linkTarget)) {
      await rm(safePath(files, path), { recursive: true, force: true });
      removed++;
    }
  }
  const wants: number[] = [];
  let bytesTotal = 0;
  for (const [i, e] of entries.entries()) {
    options.signal.throwIfAborted();
    const host = safePath(files, e.path);
    const old = previous.get(e.path);
    if (e.kind === 'DIR') await mkdir(host, { recursive: true });
    else if (e.kind === 'SYMLINK') await ensureSymlink(host, e.linkTarget);
    else {
      bytesTotal += e.size;
      if (old === undefined || old.kind !== 'FILE' || old.sha256 !== e.sha256) wants.push(i);
    }
  }
  for (let i = 0; i < wants.length || i === 0; i += WANT_BATCH) {
    await send({ kind: 'want', want: { indices: wants.slice(i, i + WANT_BATCH), last: i + WANT_BATCH >= wants.length } });
  }
  const bytesSent = await receiveFiles(reader, entries, wants, { files, tmp: join(options.dir, 'incoming'), signal: options.signal });
  await applyMetadata(files, entries, previous, new Set(wants));
  await writeFileAtomic(statePath, JSON.stringify(entries));
  return { dir: files, stats: { entries: entries.length, filesSent: wants.length, bytesSent, bytesTotal, removed } };
}

async function ensureSymlink(host: string, target: string): Promise<void> {
  try {
    if ((await readlink(host)) === target) return;
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'EINVAL') throw err;
  }
  await rm(host, { recursive: true, force: true });
  await mkdir(dirname(host), { recursive: true });
  await symlink(target, host);
}

async function receiveFiles(
  reader: MessageReader<ClientMessage>,
  entries: readonly ManifestEntryMsg[],
  wants: readonly number[],
  o: { files: string; tmp: string; signal: AbortSignal },
): Promise<number> {
  await rm(o.tmp, { recursive: true, force: true });
  await mkdir(o.tmp, { recursive: true });
  let bytes = 0;
  try {
    for (const index of wants) {
      const entry = entries[index];
      if (entry === undefined) throw new InternalError(`Cannot receive file ${index}: not in the manifest`);
      const tmp = join(o.tmp, String(index));
      const out = createWriteStream(tmp, { mode: 0o600 });
      const hash = createHash('sha256');
      try {
        for (;;) {
          o.signal.throwIfAborted();
          const { file } = await expectMessage(reader, 'file');
          if (file.index !== index) throw new InternalError(`Cannot receive file ${index}: the client sent file ${file.index}`);
          hash.update(file.data);
          bytes += file.data.length;
          if (file.data.length > 0 && !out.write(file.data)) await once(out, 'drain', { signal: o.signal });
          if (file.eof) break;
        }
      } finally {
        out.end();
        await once(out, 'close');
      }
      const got = hash.digest('hex');
      if (got !== entry.sha256) {
        throw new ContentError(`Cannot accept context file "${entry.path}": sha256 ${got} does not match ${entry.sha256}`, { code: 'DIGEST_MISMATCH' });
      }
      const dest = safePath(o.files, entry.path);
      await rm(dest, { recursive: true, force: true });
      await rename(tmp, dest);
    }
  } finally {
    await rm(o.tmp, { recursive: true, force: true });
  }
  return bytes;
}

async function applyMetadata(files: string, entries: readonly ManifestEntryMsg[], previous: State, written: ReadonlySet<number>): Promise<void> {
  const dirs: ManifestEntryMsg[] = [];
  for (const [i, e] of entries.entries()) {
    const host = join(files, e.path);
    const old = previous.get(e.path);
    const changed = written.has(i) || old === undefined || old.mode !== e.mode || old.mtimeMs !== e.mtimeMs || old.kind !== e.kind;
    if (e.kind === 'DIR') dirs.push(e);
    else if (e.kind === 'SYMLINK') {
      if (changed) await lutimes(host, e.mtimeMs / 1000, e.mtimeMs / 1000);
    } else if (changed) {
      await chmod(host, e.mode);
      await utimes(host, e.mtimeMs / 1000, e.mtimeMs / 1000);
    }
  }
  // Deepest first: setting a child's times must not disturb its parent's afterwards.
  for (const d of dirs.reverse()) {
    const host = join(files, d.path);
    await chmod(host, d.mode);
    await utimes(host, d.mtimeMs / 1000, d.mtimeMs / 1000);
  }
}
