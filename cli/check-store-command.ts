import { resolve } from 'node:path';
import { CancelledError, UsageError } from '../base/errors.js';
import type { StoreCheckResult, StoreFinding } from '../controller/index.js';
import { defaultRoot, type CommandIO } from './command-io.js';
import { parseCommandArgs } from './command-line.js';
import { CHECK_STORE_OPTIONS } from './command-table.js';

/** CHECK_STORE_HELP is `tbuild debug check-store --help`. */
export const CHECK_STORE_HELP = `Usage: tbuild debug check-store [OPTIONS]

Check the store of a tbuild root for inconsistencies: cache records whose snapshot is missing, snapshots whose files
or parent are missing, snapshot folders no record names, snapshots nothing keeps, blobs whose bytes do not match
their digest, images whose manifest, config, layers or snapshots are missing, and what dead processes left (partial
writes, writable layers, build records, temporary folders). It changes nothing unless --repair is given.
Exit status: 0 when the store is consistent, 1 when something is reported (after --repair: left).

Options:
      --root DIR       State folder to check (default: $TBUILD_ROOT, /var/lib/tbuild as root)
      --format FORMAT  "json" prints a list of {kind, path or key, detail, removed}
      --all-blobs      Hash every blob (default: every blob up to 1 MiB and 8 larger ones picked at random)
      --repair         Remove what is safe to remove: what dead processes left always, orphans, corrupt blobs and
                       records pointing at nothing only while no running process holds a lease on the store
`;

/** checkStoreCommand runs `tbuild debug check-store` and returns its exit status. */
export async function checkStoreCommand(args: readonly string[], io: CommandIO): Promise<number> {
  const { values } = parseCommandArgs('debug check-store', args, CHECK_STORE_OPTIONS, { positionals: false });
  if (values.help === true) {
    io.stdout.write(CHECK_STORE_HELP);
    return 0;
  }
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError(`Cannot use --format "${format}": expected "json"`);
  const root = values.root === undefined ? defaultRoot(io.env) : resolve(io.cwd, values.root);
  const { checkStoreRoot } = await import('../controller/index.js');
  const abort = new AbortController();
  using _interrupt = io.onInterrupt(() => abort.abort(new CancelledError('Store check cancelled')));
  const result = await checkStoreRoot(root, { verification: values['all-blobs'] === true ? 'all' : 'sample', repair: values.repair === true, signal: abort.signal });
  io.stdout.write(format === 'json' ? renderJson(result) : renderText(result));
  const { check } = result;
  io.stderr.write(`Hashed ${check.blobsHashed} of ${check.blobsTotal} blobs (${check.verification === 'all' ? 'all' : 'sample: every blob up to 1 MiB and some larger ones'})\n`);
  if (check.leaseHolders.length > 0) {
    io.stderr.write(`The store is in use (a live lease of process ${check.leaseHolders.join(', ')}): what its builds are writing may be reported, and --repair removes only what dead processes left\n`);
  }
  return result.after.findings.length === 0 ? 0 : 1;
}

/** CheckStoreEntry is one line of the JSON report. */
interface CheckStoreEntry {
  readonly kind: string;
  readonly path?: string;
  readonly key?: string;
  readonly detail: string;
  readonly removed: boolean;
}

function entry(finding: StoreFinding, removed: boolean): CheckStoreEntry {
  // Files are named by absolute path, metadata records as table/key.
  const where = finding.where.startsWith('/') ? { path: finding.where } : { key: finding.where };
  return { kind: finding.kind, ...where, detail: finding.detail, removed };
}

function entries(result: StoreCheckResult): CheckStoreEntry[] {
  return [...result.removed.map((f) => entry(f, true)), ...result.after.findings.map((f) => entry(f, false))];
}

function renderJson(result: StoreCheckResult): string {
  return `${JSON.stringify(entries(result), null, 2)}\n`;
}

function renderText(result: StoreCheckResult): string {
  return entries(result)
    .map((e) => `${e.removed ? 'removed ' : ''}${e.kind} ${e.path ?? e.key ?? ''}: ${e.detail}\n`)
    .join('');
}
