import type { HistoryRecord } from '../base/build-record.js';
import type { HistoryAccess, HistoryPruneOptions, LogFrame, StepExplanation } from '../controller/index.js';
import type { CommandIO } from './command-io.js';
import { localBuilder, type ConnectionFlags } from './builder-select.js';

/** HistorySource is the build history a `tbuild history` command reads: a local store's, or a builder's (--builder). */
export interface HistorySource extends AsyncDisposable {
  list(): Promise<HistoryRecord[]>;
  /** get returns the record a ref names (a unique prefix is enough), or the last build's. */
  get(ref: string | undefined): Promise<HistoryRecord>;
  logs(record: HistoryRecord, step: number | undefined, signal: AbortSignal): Promise<LogFrame[]>;
  explain(record: HistoryRecord, step: number | undefined): Promise<StepExplanation[]>;
  remove(refs: readonly string[]): Promise<string[]>;
  prune(options: Omit<HistoryPruneOptions, 'clientId'>): Promise<string[]>;
}

/** OpenHistory opens the build history of a --root. */
export type OpenHistory = (root: string | undefined) => Promise<{ readonly records: HistoryAccess } & AsyncDisposable>;

/** ConnectionValues are the options that pick the history: --root, or --builder and how to reach it. */
export type ConnectionValues = ConnectionFlags & { readonly root?: string | undefined };

/** openHistorySource opens the history the options name: a builder's (this client's builds) or the local store's. */
export async function openHistorySource(v: ConnectionValues, io: CommandIO, open: OpenHistory): Promise<HistorySource> {
  const spec = await localBuilder(v, io.env);
  if (spec !== undefined) return (await import('./builder-history.js')).builderHistory(spec, io);
  const local = await open(v.root);
  const { records } = local;
  return {
    list: async () => records.list(),
    get: async (ref) => records.get(ref),
    logs: (record, step, signal) => records.logs(record, { signal, ...(step === undefined ? {} : { step }) }),
    explain: async (record, step) => records.explain(record, step === undefined ? {} : { step }),
    remove: (refs) => records.remove(refs),
    prune: (o) => records.prune(o),
    [Symbol.asyncDispose]: () => local[Symbol.asyncDispose](),
  };
}
