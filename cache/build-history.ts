import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { BUILD_RECORD_VERSION, type HistoryRecord, type ChecksumListing } from '../base/build-record.js';
import { UsageError } from '../base/errors.js';
import { isProcessAlive } from './jobs.js';
import type { MetadataStore } from './metadata.js';

/** HistoryPolicy bounds the build history: records beyond any bound are removed, oldest first. */
export interface HistoryPolicy {
  readonly maxEntries: number;
  readonly maxAgeMs: number;
  /** Bytes of records and their compressed logs. */
  readonly maxBytes: number;
}

/** HistoryStore keeps the build records of a store and their log files (see base/build-record.ts). */
export interface HistoryStore {
  /** put writes a record (a build's start, progress or end). */
  put(record: HistoryRecord): Promise<void>;
  /** list returns every readable record, newest first; a running record of a dead process reads `interrupted`. */
  list(): HistoryRecord[];
  /** find returns the record a ref names: the whole ref or a unique prefix; undefined for none. */
  find(ref: string): HistoryRecord | undefined;
  /** logPath is where a record's compressed log file is. */
  logPath(ref: string): string;
  /** remove deletes records and their logs; it returns the refs removed. */
  remove(refs: readonly string[]): Promise<string[]>;
  /** prune removes what the policy does not keep (never a running build's record); it returns the refs removed. */
  prune(policy: HistoryPolicy, now?: number): Promise<string[]>;
}

/** createHistoryStore keeps records in the metadata database and logs under `root/history`. */
export function createHistoryStore(root: string, meta: MetadataStore): HistoryStore & { readonly dir: string; ensureDir(): Promise<void> } {
  const dir = join(root, 'history');
  const logPath = (ref: string): string => join(dir, `${ref}.log.gz`);
  const readable = (r: HistoryRecord): HistoryRecord => (r.status === 'running' && !isProcessAlive(r.pid) ? { ...r, status: 'interrupted' } : r);
  const list = (): HistoryRecord[] => {
    const out: HistoryRecord[] = [];
    for (const { value } of meta.buildHistory.getRange()) if (value.version <= BUILD_RECORD_VERSION) out.push(readable(value));
    return out.sort((a, b) => b.createdAt - a.createdAt || (a.ref < b.ref ? 1 : -1));
  };
  const remove = async (refs: readonly string[]): Promise<string[]> => {
    const removed: string[] = [];
    for (const ref of refs) {
      if (meta.buildHistory.get(ref) === undefined) continue;
      await meta.buildHistory.remove(ref);
      await rm(logPath(ref), { force: true });
      removed.push(ref);
    }
    if (removed.length > 0) await dropUnusedListings(meta, list());
    return removed;
  };
  return {
    dir,
    ensureDir: async () => void (await mkdir(dir, { recursive: true, mode: 0o700 })),
    put: async (record) => void (await meta.buildHistory.put(record.ref, record)),
    list,
    find(ref) {
      const exact = meta.buildHistory.get(ref);
      if (exact !== undefined) return readable(exact);
      const matches = list().filter((r) => r.ref.startsWith(ref));
      if (matches.length > 1) throw new UsageError(`Cannot pick a build record: "${ref}" names ${matches.length} of them`, { hint: 'give more characters of the ref' });
      return matches[0];
    },
    logPath,
    remove,
    async prune(policy, now = Date.now()) {
      const drop: string[] = [];
      let kept = 0;
      let bytes = 0;
      for (const r of list()) {
        if (r.status === 'running') continue;
        const size = r.logFileBytes + recordSize(r);
        if (kept >= policy.maxEntries || now - r.createdAt > policy.maxAgeMs || bytes + size > policy.maxBytes) drop.push(r.ref);
        else {
          kept++;
          bytes += size;
        }
      }
      return remove(drop);
    },
  };
}

/** recordSize approximates the bytes a record takes in the database. */
function recordSize(r: HistoryRecord): number {
  return r.request.dockerfileText.length + JSON.stringify(r.keys).length + r.steps.length * 200 + 1024;
}

/** recordChecksumListing keeps the files a context checksum covered, once per checksum. */
export async function recordChecksumListing(meta: MetadataStore, checksum: string, listing: ChecksumListing): Promise<void> {
  if (meta.checksumListings.doesExist(checksum)) return;
  await meta.checksumListings.put(checksum, gzipSync(listing.join('\n')));
}

/** checksumListing returns the files a context checksum covered, or undefined when they were not kept. */
export function checksumListing(meta: MetadataStore, checksum: string): ChecksumListing | undefined {
  const packed = meta.checksumListings.get(checksum);
  if (packed === undefined) return undefined;
  const text = gunzipSync(packed).toString('utf8');
  return text === '' ? [] : text.split('\n');
}

/** dropUnusedListings removes the listings of checksums no kept record mentions. */
async function dropUnusedListings(meta: MetadataStore, records: readonly HistoryRecord[]): Promise<void> {
  const mentioned = new Set<string>();
  for (const r of records) for (const m of JSON.stringify(r.keys).matchAll(/"checksum":"(sha256:[0-9a-f]{64})"/g)) if (m[1] !== undefined) mentioned.add(m[1]);
  for (const key of meta.checksumListings.getKeys()) if (!mentioned.has(key)) await meta.checksumListings.remove(key);
}
