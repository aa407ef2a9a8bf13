import { ConfigError } from '../base/errors.js';
import { remoteHealth, type BuilderConnection } from './client.js';
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
}

/**
 * pickNode chooses the server of a builder a command goes to: the first in the ranking of `key` (the declared order
 * without one) that answers a health check; one server alone is used without a check, its errors being the command's.
 */
export async function pickNode(spec: BuilderSpec, key: string | undefined, o: PickOptions): Promise<NodeTarget> {
  const { targets, failures } = await resolveNodes(spec, o.lookup === undefined ? {} : { lookup: o.lookup });
  for (const f of failures) o.onSkip?.(f);
  const only = targets[0];
  if (targets.length === 1 && only !== undefined && failures.length === 0) return only;
  const ranked = key === undefined ? targets : rankNodes(targets, key);
  const down: NodeFailure[] = [...failures];
  for (const t of ranked) {
    try {
      await (o.probe ?? healthProbe)(t.connection, { signal: o.signal });
      return t;
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
