import { DEFAULT_TENANT, type HistoryRecord } from '../base/build-record.js';
import { UsageError } from '../base/errors.js';
import { readHistoryLog, type HistoryStore, type LogFrame, type MetadataStore } from '../cache/index.js';
import { explainRecord, type StepExplanation } from './history-explain.js';

/** HistoryScope limits what a caller sees of the history: a remote client sees its own builds only. */
export interface HistoryScope {
  /** The client whose builds are seen; every build when absent. */
  readonly clientId?: string;
  /** The tenant whose builds are seen (a record naming none is DEFAULT_TENANT's); every tenant's when absent. */
  readonly tenant?: string;
}

/** HistoryPruneOptions are what `tbuild history prune` keeps: the newest N records, and those younger than a duration. */
export interface HistoryPruneOptions extends HistoryScope {
  readonly keep?: number;
  readonly keepDurationMs?: number;
}

/** HistoryAccess reads and trims the build history of a store. */
export interface HistoryAccess {
  /** list returns the records a scope sees, newest first. */
  list(scope?: HistoryScope): HistoryRecord[];
  /** get returns the record a ref names (a unique prefix is enough), or the newest when ref is absent. */
  get(ref: string | undefined, scope?: HistoryScope): HistoryRecord;
  /** logs returns a record's log frames, of one step or of all, byte for byte as the steps wrote them. */
  logs(record: HistoryRecord, options: { readonly step?: number; readonly signal: AbortSignal }): Promise<LogFrame[]>;
  /** explain says, for each step that ran (or the one asked for), why it did not come from the cache. */
  explain(record: HistoryRecord, options?: { readonly step?: number; readonly scope?: HistoryScope }): StepExplanation[];
  /** remove deletes records by ref (unique prefixes allowed); it returns the refs removed. */
  remove(refs: readonly string[], scope?: HistoryScope): Promise<string[]>;
  /** prune removes finished records beyond the newest `keep` or older than `keepDurationMs`; it returns the refs removed. */
  prune(options: HistoryPruneOptions): Promise<string[]>;
}

/** createHistoryAccess reads the history kept in a store. */
export function createHistoryAccess(store: HistoryStore, meta: MetadataStore): HistoryAccess {
  const visible = (r: HistoryRecord, scope: HistoryScope | undefined): boolean =>
    (scope?.clientId === undefined || r.clientId === scope.clientId) && (scope?.tenant === undefined || (r.tenant ?? DEFAULT_TENANT) === scope.tenant);
  const list = (scope?: HistoryScope): HistoryRecord[] => store.list().filter((r) => visible(r, scope));
  const get = (ref: string | undefined, scope?: HistoryScope): HistoryRecord => {
    if (ref === undefined) {
      const [last] = list(scope);
      if (last === undefined) throw new UsageError('Cannot find a build record: no build was recorded', { hint: 'run a build first; [history] enabled = false in the settings file turns records off' });
      return last;
    }
    const found = store.find(ref);
    if (found === undefined || !visible(found, scope)) throw new UsageError(`Cannot find build record "${ref}"`, { hint: "'tbuild history ls' lists the records" });
    return found;
  };
  return {
    list,
    get,
    async logs(record, options) {
      if (options.step !== undefined && !record.steps.some((s) => s.index === options.step)) {
        throw new UsageError(`Cannot show the logs of step ${options.step}: build ${record.ref} has steps 1 to ${record.steps.length}`);
      }
      const frames = await readHistoryLog(store.logPath(record.ref), { signal: options.signal, ...(options.step === undefined ? {} : { step: options.step }) });
      // A build whose steps wrote nothing has no log file.
      if (frames === undefined && record.steps.every((s) => s.logBytes === 0)) return [];
      if (frames === undefined) throw new UsageError(`Cannot show the logs of build ${record.ref}: its log file is gone`);
      return frames;
    },
    explain: (record, options = {}) => explainRecord(record, list(options.scope), { meta, ...(options.step === undefined ? {} : { step: options.step }) }),
    remove: (refs, scope) => store.remove(refs.map((ref) => get(ref, scope).ref)),
    async prune(options) {
      const now = Date.now();
      const drop: string[] = [];
      // Without a bound, every finished record goes.
      const all = options.keep === undefined && options.keepDurationMs === undefined;
      let kept = 0;
      for (const r of list(options)) {
        if (r.status === 'running') continue;
        const tooMany = options.keep !== undefined && kept >= options.keep;
        const tooOld = options.keepDurationMs !== undefined && now - r.createdAt > options.keepDurationMs;
        if (all || tooMany || tooOld) drop.push(r.ref);
        else kept++;
      }
      return store.remove(drop);
    },
  };
}
