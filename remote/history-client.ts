import type { HistoryRecord } from '../base/build-record.js';
import { InternalError } from '../base/errors.js';
import type { HistoryPruneOptions, LogFrame, StepExplanation } from '../controller/index.js';
import { unaryCall, type BuilderConnection } from './client.js';
import { clientId, type ClientEnv } from './client-state.js';
import { explanationsOf, frameOf, recordsOf, type HistoryCommand, type HistoryRequestMsg } from './history-messages.js';

/** RemoteHistory reads the build history a builder keeps of this client's builds (`tbuild history … --builder`). */
export interface RemoteHistory {
  list(): Promise<HistoryRecord[]>;
  get(ref: string | undefined): Promise<HistoryRecord>;
  explain(ref: string, step: number | undefined): Promise<StepExplanation[]>;
  logs(ref: string, step: number | undefined, signal: AbortSignal): Promise<LogFrame[]>;
  remove(refs: readonly string[]): Promise<string[]>;
  prune(options: Omit<HistoryPruneOptions, 'clientId'>): Promise<string[]>;
}

/** remoteHistory talks to a builder's history as the client this installation is (its client id, as builds send it). */
export function remoteHistory(conn: BuilderConnection, env: ClientEnv): RemoteHistory {
  const ask = async (command: HistoryCommand, fields: Partial<HistoryRequestMsg> = {}) =>
    unaryCall(conn, (m) => m.History, { clientId: await clientId(env), command, ref: '', step: 0, refs: [], keep: -1, keepDurationMs: -1, ...fields });
  return {
    list: async () => recordsOf(await ask('list')),
    async get(ref) {
      const [record] = recordsOf(await ask('get', { ref: ref ?? '' }));
      if (record === undefined) throw new InternalError(`Cannot read build record ${ref ?? '(last)'}: the builder sent none`);
      return record;
    },
    explain: async (ref, step) => explanationsOf(await ask('explain', { ref, step: step ?? 0 })),
    async logs(ref, step, signal) {
      const id = await clientId(env);
      const frames: LogFrame[] = [];
      for (let from = 0; ; ) {
        const page = await unaryCall(conn, (m) => m.HistoryLogs, { clientId: id, ref, step: step ?? 0, from }, { signal });
        frames.push(...page.frames.map(frameOf));
        if (page.done) return frames;
        from = page.next;
      }
    },
    remove: async (refs) => [...(await ask('remove', { refs })).removed],
    prune: async (o) => [...(await ask('prune', { keep: o.keep ?? -1, keepDurationMs: o.keepDurationMs ?? -1 })).removed],
  };
}
