import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { UsageError } from '../base/errors.js';
import { parseDuration, parseSize } from '../base/units.js';
import { diskUsageRecords, prune, runningJobs } from '../cache/index.js';
import type { Store } from '../controller/index.js';
import { formatBytes } from './progress/plain.js';

/** DU_HELP is the text of `tbuild du --help`. */
export const DU_HELP = `Usage: tbuild du [--verbose] [--root DIR]

Show the disk usage of the build cache
`;

/** PRUNE_HELP is the text of `tbuild prune --help`. */
export const PRUNE_HELP = `Usage: tbuild prune [--all] [--filter until=DURATION] [--keep-storage SIZE] [--root DIR]

Remove build cache: records not used within DURATION (e.g. 24h), or beyond SIZE (e.g. 10GB)
keeping the most recently used; everything with --all. Cache mounts (RUN --mount=type=cache) count as
records; one a running build holds locked is kept. Images in the local store are kept.
`;

/** renderDiskUsage prints cache records, cache mounts among them, like `docker buildx du`. */
export async function renderDiskUsage(store: Store, verbose: boolean): Promise<string> {
  const records = (await diskUsageRecords(storeParts(store))).sort((a, b) => b.size - a.size);
  let total = 0;
  let reclaimable = 0;
  const lines: string[] = [];
  if (!verbose) lines.push(`${'ID'.padEnd(28)}${'RECLAIMABLE'.padEnd(14)}${'SIZE'.padEnd(12)}LAST ACCESSED`);
  for (const r of records) {
    total += r.size;
    if (!r.inUse) reclaimable += r.size;
    const id = r.key.replace(/^(sha256:|layer:sha256:|cache-mount:)/, '').slice(0, 25);
    if (verbose) {
      lines.push(
        `ID:\t\t${r.key}`,
        `Type:\t\t${r.type}`,
        `Snapshot:\t${r.snapshotId ?? '(empty)'}`,
        `Created at:\t${new Date(r.createdAt).toISOString()}`,
        `Last used:\t${new Date(r.lastUsedAt).toISOString()}`,
        `Description:\t${r.description}`,
        `Shared:\t\t${r.shared}`,
        `In use:\t\t${r.inUse}`,
        `Size:\t\t${formatBytes(r.size)}`,
        '',
      );
    } else {
      lines.push(`${(id + (r.inUse ? '*' : '')).padEnd(28)}${String(!r.inUse).padEnd(14)}${formatBytes(r.size).padEnd(12)}${ago(r.lastUsedAt)}`);
    }
  }
  lines.push(`Reclaimable:\t${formatBytes(reclaimable)}`, `Total:\t\t${formatBytes(total)}`);
  return `${lines.join('\n')}\n`;
}

/** runPrune parses `tbuild prune` options and removes cache. */
export async function runPrune(store: Store, args: readonly string[]): Promise<string> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      all: { type: 'boolean', short: 'a' },
      filter: { type: 'string', multiple: true },
      'keep-storage': { type: 'string' },
      force: { type: 'boolean', short: 'f' },
      root: { type: 'string' },
    },
  });
  let keepDurationMs: number | undefined;
  for (const f of values.filter ?? []) {
    const [k, v] = f.split('=');
    if (k !== 'until' || v === undefined) throw new UsageError(`Cannot use --filter "${f}": only until=DURATION is supported`);
    keepDurationMs = parseDuration(v);
  }
  const keepBytes = values['keep-storage'] === undefined ? undefined : parseSize(values['keep-storage']);
  const running = await runningJobs(store.meta);
  if (running > 0) throw new UsageError(`Cannot prune while ${running} build(s) use this store`, { hint: 'wait for them to finish' });
  const report = await prune(storeParts(store), {
    all: values.all === true,
    ...(keepDurationMs === undefined ? {} : { keepDurationMs }),
    ...(keepBytes === undefined ? {} : { keepBytes }),
  });
  return `Deleted ${report.records} cache records, ${report.snapshots} snapshots, ${report.blobs} blobs\nTotal:\t${formatBytes(report.bytes)}\n`;
}

function storeParts(store: Store): Parameters<typeof prune>[0] {
  return { meta: store.meta, snapshotter: store.snapshotter, content: store.content, contentRoot: join(store.root, 'content'), cacheMounts: store.cacheMounts };
}


function ago(time: number): string {
  const s = Math.round((Date.now() - time) / 1000);
  if (s < 60) return `${s} seconds ago`;
  if (s < 3600) return `${Math.round(s / 60)} minutes ago`;
  if (s < 86400) return `${Math.round(s / 3600)} hours ago`;
  return `${Math.round(s / 86400)} days ago`;
}

export { parseDuration, parseSize };
