import { parseArgs } from 'node:util';
import { UsageError } from '../base/errors.js';
import { parseDuration, parseSize } from '../base/units.js';
import type { PruneOptions, PruneReport, UsageRecord } from '../controller/index.js';
import { formatAgo, formatBytes } from './progress/plain.js';

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
export function renderDiskUsage(records: readonly UsageRecord[], verbose: boolean): string {
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
      lines.push(`${(id + (r.inUse ? '*' : '')).padEnd(28)}${String(!r.inUse).padEnd(14)}${formatBytes(r.size).padEnd(12)}${formatAgo(r.lastUsedAt)}`);
    }
  }
  lines.push(`Reclaimable:\t${formatBytes(reclaimable)}`, `Total:\t\t${formatBytes(total)}`);
  return `${lines.join('\n')}\n`;
}

/** parsePruneOptions reads the `tbuild prune` filters: --all, --filter until=DURATION, --keep-storage SIZE. */
export function parsePruneOptions(values: { readonly all?: boolean | undefined; readonly filter?: readonly string[] | undefined; readonly 'keep-storage'?: string | undefined }): PruneOptions {
  let keepDurationMs: number | undefined;
  for (const f of values.filter ?? []) {
    const [k, v] = f.split('=');
    if (k !== 'until' || v === undefined) throw new UsageError(`Cannot use --filter "${f}": only until=DURATION is supported`);
    keepDurationMs = parseDuration(v);
  }
  const keepBytes = values['keep-storage'] === undefined ? undefined : parseSize(values['keep-storage']);
  return {
    all: values.all === true,
    ...(keepDurationMs === undefined ? {} : { keepDurationMs }),
    ...(keepBytes === undefined ? {} : { keepBytes }),
  };
}

/** PRUNE_FLAGS are the options `tbuild prune` takes, locally or against a builder. */
export const PRUNE_FLAGS = {
  all: { type: 'boolean', short: 'a' },
  filter: { type: 'string', multiple: true },
  'keep-storage': { type: 'string' },
  force: { type: 'boolean', short: 'f' },
  root: { type: 'string' },
} as const;

/** readPruneArgs parses a `tbuild prune` command line into prune options. */
export function readPruneArgs(args: readonly string[]): PruneOptions {
  return parsePruneOptions(parseArgs({ args: [...args], options: PRUNE_FLAGS }).values);
}

/** renderPruneReport prints what a prune removed. */
export function renderPruneReport(report: PruneReport): string {
  return `Deleted ${report.records} cache records, ${report.snapshots} snapshots, ${report.blobs} blobs\nTotal:\t${formatBytes(report.bytes)}\n`;
}

export { parseDuration, parseSize };
