import type { HistoryRecord } from '../base/build-record.js';
import { ConfigError } from '../base/errors.js';
import type { BuilderSpec, RemoteHistory } from '../remote/index.js';
import { stderrWarning } from './builder-select.js';
import type { CommandIO } from './command-io.js';
import type { HistorySource } from './history-source.js';

interface NodeHistory {
  readonly node: string;
  readonly history: RemoteHistory;
}

/**
 * builderHistory is the build history of a remote builder: with several nodes, the records of all of them (each build
 * is recorded by the node that ran it), newest first; a node that does not answer is named in a warning and left out.
 */
export async function builderHistory(spec: BuilderSpec, io: CommandIO): Promise<HistorySource> {
  const { remoteHistory, resolveNodes } = await import('../remote/lazy.js');
  const warn = stderrWarning(io.stderr);
  const { targets, failures } = await resolveNodes(spec);
  for (const f of failures) warn(f.error.message);
  const nodes: NodeHistory[] = targets.map((t) => ({ node: t.node, history: remoteHistory(t.connection, io.env) }));
  // Which node holds a record, as list and get found it: logs, explain and rm go there.
  const owners = new Map<string, NodeHistory>();
  /** ask asks every node in turn; a node that cannot be reached is warned about once it is, other errors are kept. */
  const ask = async <R>(fn: (n: NodeHistory) => Promise<R>): Promise<{ answers: { n: NodeHistory; r: R }[]; errors: Error[] }> => {
    const answers: { n: NodeHistory; r: R }[] = [];
    const errors: Error[] = [];
    for (const n of nodes) {
      try {
        answers.push({ n, r: await fn(n) });
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        if (nodes.length > 1 && e instanceof ConfigError) warn(`${e.message}; its build records are left out`);
        errors.push(e);
      }
    }
    return { answers, errors };
  };
  /** newest is the newest record the nodes answered, noted as its node's; none found is the nodes' error. */
  const newest = (answers: readonly { n: NodeHistory; r: HistoryRecord }[], errors: readonly Error[]): { n: NodeHistory; r: HistoryRecord } => {
    const first = [...answers].sort((a, b) => b.r.createdAt - a.r.createdAt)[0];
    if (first === undefined) throw errors.find((e) => !(e instanceof ConfigError)) ?? errors[0] ?? new ConfigError(`Cannot read the build records of builder "${spec.name ?? ''}": it has no nodes`);
    owners.set(first.r.ref, first.n);
    return first;
  };
  const ownerOf = async (ref: string): Promise<NodeHistory> => {
    const known = owners.get(ref);
    if (known !== undefined) return known;
    const { answers, errors } = await ask(async (n) => n.history.get(ref));
    return newest(answers, errors).n;
  };
  return {
    async list() {
      const { answers, errors } = await ask(async (n) => n.history.list());
      if (answers.length === 0 && errors[0] !== undefined) throw errors[0];
      for (const { n, r } of answers) for (const rec of r) owners.set(rec.ref, n);
      return answers.flatMap((a) => a.r).sort((a, b) => b.createdAt - a.createdAt);
    },
    async get(ref) {
      const { answers, errors } = await ask(async (n) => n.history.get(ref));
      return newest(answers, errors).r;
    },
    logs: async (record, step, signal) => (await ownerOf(record.ref)).history.logs(record.ref, step, signal),
    explain: async (record, step) => (await ownerOf(record.ref)).history.explain(record.ref, step),
    async remove(refs) {
      const removed: string[] = [];
      for (const ref of refs) {
        const owner = await ownerOf(ref);
        removed.push(...(await owner.history.remove([ref])));
      }
      return removed;
    },
    async prune(o) {
      const { answers, errors } = await ask(async (n) => n.history.prune(o));
      if (answers.length === 0 && errors[0] !== undefined) throw errors[0];
      return answers.flatMap((a) => a.r);
    },
    [Symbol.asyncDispose]: async () => undefined,
  };
}
