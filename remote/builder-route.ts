import { ConfigError } from '../base/errors.js';
import { holdChannels, remoteHealth, type BuilderConnection } from './client.js';
import { rankNodes, resolveNodes, type BuilderSpec, type LookupAll, type NodeFailure, type NodeTarget } from './node-ranking.js';

/** Probe checks that a server takes builds now, or throws why not. */
export type Probe = (c: BuilderConnection, o: { signal: AbortSignal }) => Promise<void>;

const PROBE_TIMEOUT_MS = 5000;

/** healthProbe asks a server's Health call, giving it five seconds to answer SERVING. */
export const healthProbe: Probe = async (c, o) => {
  const status = await remoteHealth(c, { signal: o.signal, timeoutMs: PROBE_TIMEOUT_MS });
  if (status !== 'SERVING') throw new ConfigError(`Cannot build on builder ${c.address}: its health is ${status}`);
};

/** PickOptions are how pickNode resolves, checks and reports the servers it passes over. */
export interface PickOptions {
  readonly signal: AbortSignal;
  readonly lookup?: LookupAll;
  readonly probe?: Probe;
  /** Called for each server passed over (down, or its name did not resolve), before the next is tried. */
  readonly onSkip?: (failure: NodeFailure) => void;
  /** Servers already found down, by address, with why: they are passed over and named if none answers. */
  readonly skip?: ReadonlyMap<string, Error>;
}

/**
 * pickNode chooses the server of a builder a command goes to: the first in the ranking of `key` (the declared order
 * without one) that answers a health check; one server alone is used without a check, its errors being the command's.
 */
export async function pickNode(spec: BuilderSpec, key: string | undefined, o: PickOptions): Promise<NodeTarget> {
  return (await pickRanked(spec, key, o)).target;
}

async function pickRanked(spec: BuilderSpec, key: string | undefined, o: PickOptions): Promise<{ target: NodeTarget; others: number }> {
  const { targets: all, failures } = await resolveNodes(spec, o.lookup === undefined ? {} : { lookup: o.lookup });
  for (const f of failures) o.onSkip?.(f);
  const skip = o.skip ?? new Map<string, Error>();
  const targets = all.filter((t) => !skip.has(t.connection.address));
  const only = targets[0];
  if (all.length === 1 && only !== undefined && failures.length === 0) return { target: only, others: 0 };
  const ranked = key === undefined ? targets : rankNodes(targets, key);
  const down: NodeFailure[] = [...failures, ...all.flatMap((t) => {
    const error = skip.get(t.connection.address);
    return error === undefined ? [] : [{ node: t.node, endpoint: t.connection.address, error }];
  })];
  for (const [i, t] of ranked.entries()) {
    try {
      await (o.probe ?? healthProbe)(t.connection, { signal: o.signal });
      return { target: t, others: ranked.length - i - 1 };
    } catch (err) {
      o.signal.throwIfAborted();
      const failure = { node: t.node, endpoint: t.connection.address, error: err instanceof Error ? err : new Error(String(err)) };
      down.push(failure);
      o.onSkip?.(failure);
    }
  }
  const what = spec.name === undefined ? `builder ${spec.nodes[0]?.endpoint ?? ''}` : `builder "${spec.name}"`;
  const why = down.length === 0 ? 'it has no nodes' : `no node answers: ${down.map((f) => f.error.message).join('; ')}`;
  throw new ConfigError(`Cannot use ${what}: ${why}`, { hint: 'start tbuild serve on its nodes, or check them with tbuild builder inspect' });
}

/** RunOnNodeOptions are pickNode's, and which failures of the work mean it never reached its server. */
export interface RunOnNodeOptions extends Omit<PickOptions, 'skip'> {
  /** True for an error of work that did not start on its server (no connection), so that another server may do it. */
  readonly unreached: (err: unknown) => boolean;
}

/**
 * runOnNode does work (a build) on the server pickNode picks; when the work cannot reach it (the server went down
 * after its health check), the next server in the ranking gets it, and the one passed over is reported as onSkip says.
 */
export async function runOnNode<R>(spec: BuilderSpec, key: string | undefined, o: RunOnNodeOptions, work: (t: NodeTarget) => Promise<R>): Promise<{ target: NodeTarget; result: R }> {
  // The work reuses the connection its server's health check opened.
  using _channels = holdChannels();
  const skip = new Map<string, Error>();
  for (;;) {
    const { target, others } = await pickRanked(spec, key, { ...o, skip });
    try {
      return { target, result: await work(target) };
    } catch (err) {
      if (others === 0 || !o.unreached(err) || !(err instanceof Error)) throw err;
      skip.set(target.connection.address, err);
      o.onSkip?.({ node: target.node, endpoint: target.connection.address, error: err });
    }
  }
}
