import { createInterface } from 'node:readline/promises';
import type { Readable } from 'node:stream';
import { UsageError } from '../base/errors.js';
import { parseDuration, parseSize } from '../base/units.js';
import type { PruneOptions, PruneReport, UsageRecord } from '../controller/index.js';
import type { CommandIO } from './command-io.js';
import { formatAgo } from './human-duration.js';
import { formatBytes } from './progress/plain.js';

/** DU_HELP is the text of `tbuild du --help`. */
export const DU_HELP = `Usage: tbuild du [--verbose] [--root DIR | --builder NAME|ADDR]

Show the disk usage of the build cache, of this machine's state folder or of a remote builder

A remote builder is reached with --builder NAME|ADDR [--tlscacert FILE --tlscert FILE --tlskey FILE] [--token TOKEN]
(see tbuild build --help)
`;

/** PRUNE_HELP is the text of `tbuild prune --help`. */
export const PRUNE_HELP = `Usage: tbuild prune [-a|--all] [--filter until=DURATION] [--keep-storage SIZE] [-f|--force] [--root DIR | --builder NAME|ADDR]

Remove build cache: records not used within DURATION (e.g. 24h), or beyond SIZE (e.g. 10GB)
keeping the most recently used; everything with --all. Cache mounts (RUN --mount=type=cache) count as
records; one a running build holds locked is kept. Images in the local store are kept.
On a terminal, tbuild asks before removing anything; -f (--force) does not ask.

A remote builder is reached with --builder NAME|ADDR [--tlscacert FILE --tlscert FILE --tlskey FILE] [--token TOKEN]
(see tbuild build --help)
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

/**
 * confirmPrune asks, when standard input and error are a terminal, whether to go on, as docker builder prune does;
 * elsewhere (scripts, pipes) there is nobody to ask and the prune goes on.
 */
export async function confirmPrune(options: PruneOptions, io: CommandIO): Promise<boolean> {
  const stdin: Readable & { isTTY?: boolean } = io.stdin;
  if (stdin.isTTY !== true || io.stderr.isTTY !== true) return true;
  const what = options.all ? 'all build cache' : options.keepDurationMs !== undefined || options.keepBytes !== undefined ? 'the build cache the filters select' : 'all build cache not in use';
  const rl = createInterface({ input: io.stdin, output: io.stderr });
  try {
    const answer = await rl.question(`WARNING! This will remove ${what}.\nAre you sure you want to continue? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** renderPruneReport prints what a prune removed. */
export function renderPruneReport(report: PruneReport): string {
  return `Deleted ${count(report.records, 'cache record')}, ${count(report.snapshots, 'snapshot')}, ${count(report.blobs, 'blob')}\nTotal:\t${formatBytes(report.bytes)}\n`;
}

export { parseDuration, parseSize };

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
