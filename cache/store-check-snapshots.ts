import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../base/errors.js';
import { readdirOrEmpty } from '../base/fs.js';
import { isProcessAlive } from './process-alive.js';
import type { SnapshotRecord } from './metadata.js';
import type { StoreFinding, StoreLayout } from './store-finding.js';

/** SnapshotGraph answers, after a check, whether a snapshot and every layer below it are there. */
export interface SnapshotGraph {
  /** recorded: the snapshot has a record (its files may still be missing). */
  recorded(id: string): boolean;
  /** intact: the snapshot and each parent down its chain have a record and a folder. */
  intact(id: string): boolean;
  /** chain lists a snapshot and its recorded parents, top first, as far as records go. */
  chain(id: string): readonly string[];
  /** ids lists every recorded snapshot. */
  ids(): readonly string[];
  /** explain says where the chain of a snapshot that is not intact breaks. */
  explain(id: string): string;
}

/**
 * checkSnapshots reports snapshot records whose folder or parent is missing, folders without a record (orphans) and
 * the writable layers of processes that died, and returns the graph the other checks look snapshots up in.
 */
export async function checkSnapshots(layout: Pick<StoreLayout, 'meta' | 'snapshotsDir'>, findings: StoreFinding[]): Promise<SnapshotGraph> {
  const records = new Map<string, SnapshotRecord>();
  for (const { key, value } of layout.meta.snapshots.getRange()) records.set(key, value);
  const folders = new Set<string>();
  for (const name of await readdirOrEmpty(layout.snapshotsDir)) {
    const path = join(layout.snapshotsDir, name);
    const pid = /^active-(\d+)-/.exec(name)?.[1];
    if (pid !== undefined) {
      if (!isProcessAlive(Number(pid))) {
        findings.push({ kind: 'stale-active-snapshot', where: path, detail: `writable layer of process ${pid}, which is not running`, repair: { paths: [path], keys: [], whenIdle: false } });
      }
      continue;
    }
    if (await hasFsFolder(path)) folders.add(name);
    // Looked up again: a build may have committed this layer since the records were read.
    if (!records.has(name) && layout.meta.snapshots.get(name) === undefined) {
      findings.push({ kind: 'orphan-snapshot-folder', where: path, detail: 'no snapshot record names this folder', repair: { paths: [path], keys: [], whenIdle: true } });
    }
  }
  for (const [id, rec] of records) {
    const path = join(layout.snapshotsDir, id);
    const repair = { paths: [path], keys: [{ table: 'snapshots' as const, key: id }], whenIdle: true };
    // A layer committed since the listing has its folder now: only one still missing counts.
    if (!folders.has(id) && (await hasFsFolder(path))) folders.add(id);
    if (!folders.has(id)) findings.push({ kind: 'snapshot-folder-missing', where: path, detail: `the files of snapshot ${id} (${rec.description}) are missing`, repair });
    if (rec.parent !== null && !records.has(rec.parent)) {
      findings.push({ kind: 'snapshot-parent-missing', where: `snapshots/${id}`, detail: `parent snapshot ${rec.parent} has no record`, repair });
    }
  }
  return snapshotGraph(records, folders);
}

/** snapshotGraph answers chain questions over snapshot records and the folders found on disk. */
export function snapshotGraph(records: ReadonlyMap<string, Pick<SnapshotRecord, 'parent'>>, folders: ReadonlySet<string>): SnapshotGraph {
  const breakOf = (id: string): string | undefined => {
    const seen = new Set<string>();
    for (let cur: string | null = id; cur !== null; ) {
      if (seen.has(cur)) return `snapshot ${cur} is its own ancestor`;
      seen.add(cur);
      const rec = records.get(cur);
      if (rec === undefined) return cur === id ? `snapshot ${cur} has no record` : `snapshot ${cur} below ${id} has no record`;
      if (!folders.has(cur)) return cur === id ? `the files of snapshot ${cur} are missing` : `the files of snapshot ${cur} below ${id} are missing`;
      cur = rec.parent;
    }
    return undefined;
  };
  const memo = new Map<string, string | undefined>();
  const broken = (id: string): string | undefined => {
    if (!memo.has(id)) memo.set(id, breakOf(id));
    return memo.get(id);
  };
  return {
    recorded: (id) => records.has(id),
    chain: (id) => {
      const out: string[] = [];
      for (let cur: string | null = id; cur !== null && records.has(cur) && !out.includes(cur); cur = records.get(cur)?.parent ?? null) out.push(cur);
      return out;
    },
    ids: () => [...records.keys()],
    intact: (id) => broken(id) === undefined,
    explain: (id) => broken(id) ?? `snapshot ${id} is intact`,
  };
}

async function hasFsFolder(path: string): Promise<boolean> {
  try {
    return (await lstat(join(path, 'fs'))).isDirectory();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return false;
    throw err;
  }
}
