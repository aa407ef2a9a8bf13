import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { BUILD_RECORD_VERSION, type ChecksumListing, type HistoryRecord, type HistorySummary } from '../base/build-record.js';
import { UsageError } from '../base/errors.js';
import { isProcessAlive } from './process-alive.js';
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
  /**
   * putAndPrune writes a finished record and prunes in the same commit; it returns the refs removed. The reading and
   * writing wait for `until` to settle (the caller has answered its client: a resident builder, a server), then for
   * `after` (the earlier writes of the record), whose failure fails this call; the record shows in this process from
   * the call on.
   */
  putAndPrune(record: HistoryRecord, policy: HistoryPolicy, now?: number, options?: { readonly until?: Promise<unknown>; readonly after?: () => Promise<void> }): Promise<string[]>;
}

/** createHistoryStore keeps records in the metadata database and logs under `root/history`. */
export function createHistoryStore(root: string, meta: MetadataStore): HistoryStore & { readonly dir: string; ensureDir(): Promise<void> } {
  const dir = join(root, 'history');
  const logPath = (ref: string): string => join(dir, `${ref}.log.gz`);
  const readable = (r: HistoryRecord): HistoryRecord => (r.status === 'running' && !isProcessAlive(r.pid) ? { ...r, status: 'interrupted' } : r);
  // Written or removed and not yet committed: readers in this process see them at once, as if committed.
  const pending = new Map<string, HistoryRecord>();
  let indexed: Promise<void> | undefined;
  const removing = new Set<string>();
  const list = (): HistoryRecord[] => {
    const byRef = new Map<string, HistoryRecord>();
    for (const { key, value } of meta.buildHistory.getRange()) if (value.version <= BUILD_RECORD_VERSION) byRef.set(key, value);
    for (const [ref, record] of pending) byRef.set(ref, record);
    for (const ref of removing) byRef.delete(ref);
    return [...byRef.values()].map(readable).sort((a, b) => b.createdAt - a.createdAt || (a.ref < b.ref ? 1 : -1));
  };
  const settle = <T>(write: Promise<T>, done: () => void): Promise<T> => {
    write.then(done, done);
    return write;
  };
  const put = (record: HistoryRecord): Promise<unknown> => {
    pending.set(record.ref, record);
    const write = Promise.all([meta.buildHistory.put(record.ref, record), meta.historyIndex.put(record.ref, summaryOf(record))]);
    return settle(write, () => {
      if (pending.get(record.ref) === record) pending.delete(record.ref);
    });
  };
  // The summaries of finished records this process read or wrote: they never change, so retention decodes only the others.
  const finished = new Map<string, HistorySummary>();
  /** summaries lists every record's summary, by ref. */
  const summaries = (): { key: string; value: HistorySummary }[] => {
    const entries: { key: string; value: HistorySummary }[] = [];
    const seen = new Set<string>();
    for (const key of meta.historyIndex.getKeys()) {
      let value = finished.get(key);
      if (value === undefined) {
        value = meta.historyIndex.get(key);
        if (value === undefined) continue;
        if (value.status !== 'running') finished.set(key, value);
      }
      seen.add(key);
      entries.push({ key, value });
    }
    // Records another process removed.
    for (const key of finished.keys()) if (!seen.has(key)) finished.delete(key);
    return entries;
  };
  /**
   * remove deletes records and the file lists no record that stays mentions (`kept`: the summaries of those records,
   * when the caller has them; `dropped`: the summaries of the removed ones), in one commit with a record written
   * alongside (which may be one of them); then their logs. Given the removed records' summaries, all of them finished,
   * only the lists they named are candidates; else every list the store keeps is (an interrupted build's lists are
   * named by no summary, nor are those of a build whose record could not be written).
   */
  const remove = async (refs: readonly string[], alongside?: { readonly ref: string; readonly write: Promise<unknown> }, summarized?: { readonly kept: readonly HistorySummary[]; readonly dropped?: readonly HistorySummary[] }): Promise<string[]> => {
    const removed = [...new Set(refs)].filter((ref) => ref === alongside?.ref || pending.has(ref) || meta.buildHistory.doesExist(ref));
    const stay = summarized?.kept ?? [...meta.historyIndex.getRange()].filter((e) => !removed.includes(e.key)).map((e) => e.value);
    const dropped = summarized?.dropped;
    const named = dropped !== undefined && dropped.every((d) => d.status !== 'running') ? dropped.flatMap((d) => d.checksums) : undefined;
    const listings = removed.length > 0 ? unusedListings(meta, stay, named) : [];
    const gone = removed.filter((ref) => ref !== alongside?.ref && !removing.has(ref));
    for (const ref of gone) removing.add(ref);
    const write = Promise.all([
      alongside?.write,
      ...removed.flatMap((ref) => [meta.buildHistory.remove(ref), meta.historyIndex.remove(ref)]),
      ...listings.map((key) => meta.checksumListings.remove(key)),
    ]);
    await settle(write, () => {
      for (const ref of gone) removing.delete(ref);
    });
    for (const ref of removed) finished.delete(ref);
    await Promise.all(removed.map((ref) => rm(logPath(ref), { force: true })));
    return removed;
  };
  /** beyond lists the records the policy does not keep, counting `written` as already stored, with the summaries of those it keeps and drops. */
  const beyond = async (policy: HistoryPolicy, now: number, written?: HistoryRecord): Promise<{ drop: string[]; kept: HistorySummary[]; dropped: HistorySummary[] }> => {
    // Records of a tbuild that kept no index are indexed once per process: this one writes its summaries itself.
    indexed ??= indexUnindexed(meta).catch((err: unknown) => {
      indexed = undefined;
      throw err;
    });
    await indexed;
    const all = summaries().filter((e) => e.key !== written?.ref);
    if (written !== undefined) all.push({ key: written.ref, value: summaryOf(written) });
    all.sort((a, b) => b.value.createdAt - a.value.createdAt || (a.key < b.key ? 1 : -1));
    const drop: string[] = [];
    const kept: HistorySummary[] = [];
    const dropped: HistorySummary[] = [];
    let counted = 0;
    let bytes = 0;
    for (const { key, value } of all) {
      if (value.status === 'running' && isProcessAlive(value.pid)) kept.push(value);
      else if (counted >= policy.maxEntries || now - value.createdAt > policy.maxAgeMs || bytes + value.bytes > policy.maxBytes) {
        drop.push(key);
        dropped.push(value);
      } else {
        counted++;
        bytes += value.bytes;
        kept.push(value);
      }
    }
    return { drop, kept, dropped };
  };
  // Made once per process; a failure is tried again by the next caller.
  let dirMade: Promise<void> | undefined;
  return {
    dir,
    ensureDir: () =>
      (dirMade ??= mkdir(dir, { recursive: true, mode: 0o700 }).then(
        () => undefined,
        (err: unknown) => {
          dirMade = undefined;
          throw err;
        },
      )),
    put: async (record) => void (await put(record)),
    list,
    find(ref) {
      const known = (key: string): HistoryRecord | undefined => (removing.has(key) ? undefined : (pending.get(key) ?? meta.buildHistory.get(key)));
      const exact = known(ref);
      if (exact !== undefined) return readable(exact);
      const keys = new Set([...meta.buildHistory.getKeys(), ...pending.keys()]);
      const matches = [...keys].filter((k) => k.startsWith(ref) && !removing.has(k));
      if (matches.length > 1) throw new UsageError(`Cannot pick a build record: "${ref}" names ${matches.length} of them`, { hint: 'give more characters of the ref' });
      const found = matches[0] === undefined ? undefined : known(matches[0]);
      return found === undefined ? undefined : readable(found);
    },
    logPath,
    remove,
    async prune(policy, now = Date.now()) {
      // A prune of its own looks at every file list: those of builds that ended without a record go here.
      const { drop, kept } = await beyond(policy, now);
      return remove(drop, undefined, { kept });
    },
    async putAndPrune(record, policy, now = Date.now(), options = {}) {
      // Shown at once in this process, whenever its commit comes.
      pending.set(record.ref, record);
      try {
        await options.until?.then(undefined, () => undefined);
        await options.after?.();
        const { drop, kept, dropped } = await beyond(policy, now, record);
        return await remove(drop, { ref: record.ref, write: put(record) }, { kept, dropped });
      } catch (err) {
        // Not written: what the database holds is what this process shows again.
        if (pending.get(record.ref) === record) pending.delete(record.ref);
        throw err;
      }
    },
  };
}

/** summaryOf is what retention keeps of a record. */
function summaryOf(r: HistoryRecord): HistorySummary {
  const keys = JSON.stringify(r.keys);
  // Records of earlier versions name their contexts only in the preimages they copied.
  const checksums = r.contextChecksums ?? [...new Set(Array.from(keys.matchAll(/"checksum":"(sha256:[0-9a-f]{64})"/g), (m) => m[1] ?? ''))].filter((c) => c !== '');
  // The database's share is approximated by the JSON of what the record holds besides its steps' fixed fields.
  const bytes = r.logFileBytes + r.request.dockerfileText.length + keys.length + r.steps.length * 200 + 1024;
  return { createdAt: r.createdAt, status: r.status, pid: r.pid, bytes, checksums };
}

/** indexUnindexed adds the summaries of records written before the index was kept. */
async function indexUnindexed(meta: MetadataStore): Promise<void> {
  if (meta.historyIndex.getKeysCount() === meta.buildHistory.getKeysCount()) return;
  for (const { key, value } of meta.buildHistory.getRange()) if (meta.historyIndex.get(key) === undefined) await meta.historyIndex.put(key, summaryOf(value));
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

/**
 * unusedListings lists the file lists of checksums no kept record (their summaries) mentions. While a build runs it
 * lists none: the listings of a running build are named by its record only when it ends.
 */
function unusedListings(meta: MetadataStore, kept: readonly HistorySummary[], candidates?: readonly string[]): string[] {
  const mentioned = new Set<string>();
  for (const value of kept) {
    if (value.status === 'running' && isProcessAlive(value.pid)) return [];
    for (const c of value.checksums) mentioned.add(c);
  }
  // A store that keeps more lists than the kept and removed records name has some no summary names (left while a
  // build ran, or by a build without a record): then every list is looked at.
  const named = candidates === undefined ? undefined : new Set([...mentioned, ...candidates]);
  const listed = named === undefined || meta.checksumListings.getKeysCount() > named.size ? [...meta.checksumListings.getKeys()] : [...new Set(candidates)].filter((key) => meta.checksumListings.doesExist(key));
  return listed.filter((key) => !mentioned.has(key));
}
