import { mapLimit } from '../base/async.js';
import type { InfoMsg } from './admin-messages.js';
import { resolveNodes, type BuilderSpec, type LookupAll } from './node-ranking.js';
import { remoteInfo } from './client.js';

/** NodeStatus is one server of a builder as `tbuild builder ls` and `inspect` show it: its info, or why there is none. */
export interface NodeStatus {
  readonly node: string;
  readonly endpoint: string;
  readonly info: InfoMsg | undefined;
  readonly error: string | undefined;
}

const STATUS_TIMEOUT_MS = 5000;
/** How many servers are asked at once. */
const STATUS_PARALLEL = 4;

/** builderStatus asks each server of a builder (each address of its dns+tcp nodes) for its info, five seconds each. */
export async function builderStatus(spec: BuilderSpec, o: { signal: AbortSignal; lookup?: LookupAll }): Promise<NodeStatus[]> {
  const { targets, failures } = await resolveNodes(spec, o.lookup === undefined ? {} : { lookup: o.lookup });
  const asked = await mapLimit(targets, STATUS_PARALLEL, async (t): Promise<NodeStatus> => {
    const base = { node: t.node, endpoint: t.connection.address };
    try {
      return { ...base, info: await remoteInfo(t.connection, { signal: o.signal, timeoutMs: STATUS_TIMEOUT_MS }), error: undefined };
    } catch (err) {
      o.signal.throwIfAborted();
      return { ...base, info: undefined, error: err instanceof Error ? err.message : String(err) };
    }
  });
  return [...asked, ...failures.map((f) => ({ node: f.node, endpoint: f.endpoint, info: undefined, error: errorText(f.error) }))];
}

function errorText(err: Error): string {
  return err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message;
}
