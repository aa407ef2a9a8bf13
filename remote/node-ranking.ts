import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ConfigError } from '../base/errors.js';
import { parseNodeAddress } from './address.js';
import type { TlsFiles } from './auth.js';
import type { BuilderNode } from './builder-store.js';
import type { BuilderConnection } from './client.js';

/** BuilderSpec is the builder a command uses: a named builder's nodes, or one address given directly (no name). */
export interface BuilderSpec {
  readonly name: string | undefined;
  readonly nodes: readonly BuilderNode[];
  readonly tls: TlsFiles;
  readonly token: string | undefined;
}

/** NodeTarget is one server a build can go to: a node, or one of the addresses a dns+tcp node's name resolved to. */
export interface NodeTarget {
  /** The node's name (`NAME@ADDRESS` for an address of a dns+tcp node). */
  readonly node: string;
  readonly connection: BuilderConnection;
}

/** LookupAll answers every address (A and AAAA) a host name resolves to. */
export type LookupAll = (host: string) => Promise<readonly string[]>;

/** systemLookup resolves a name as the system does (hosts file, then DNS), every address of both families. */
export const systemLookup: LookupAll = async (host) => (await lookup(host, { all: true, family: 0, verbatim: true })).map((a) => a.address);

/** NodeFailure is a node that cannot take builds now, and why. */
export interface NodeFailure {
  readonly node: string;
  readonly endpoint: string;
  readonly error: Error;
}

/** ResolvedNodes are a builder's servers as of now: those it has, and the dns+tcp names that did not resolve. */
export interface ResolvedNodes {
  readonly targets: readonly NodeTarget[];
  readonly failures: readonly NodeFailure[];
}

/** resolveNodes lists the servers of a builder, resolving each dns+tcp node's name again (every A and AAAA address). */
export async function resolveNodes(spec: BuilderSpec, o: { lookup?: LookupAll } = {}): Promise<ResolvedNodes> {
  const targets: NodeTarget[] = [];
  const failures: NodeFailure[] = [];
  const connection = (address: string, node: string, serverName?: string): BuilderConnection => ({
    address,
    tls: spec.tls,
    token: spec.token,
    ...(spec.name === undefined ? {} : { node: `${node} of builder ${spec.name}` }),
    ...(serverName === undefined ? {} : { serverName }),
  });
  for (const n of spec.nodes) {
    const a = parseNodeAddress(n.endpoint);
    if (a.kind !== 'dns') {
      targets.push({ node: n.name, connection: connection(n.endpoint, n.name) });
      continue;
    }
    let addresses: readonly string[];
    try {
      addresses = await (o.lookup ?? systemLookup)(a.host);
    } catch (err) {
      failures.push({ node: n.name, endpoint: n.endpoint, error: new ConfigError(`Cannot resolve "${a.host}" of node ${n.name}${spec.name === undefined ? '' : ` of builder ${spec.name}`}: ${err instanceof Error ? err.message : String(err)}`, { cause: err }) });
      continue;
    }
    // Each address once, in a stable order, so that the same answer gives the same nodes.
    for (const ip of [...new Set(addresses)].sort()) {
      const address = `tcp://${isIP(ip) === 6 ? `[${ip}]` : ip}:${a.port}`;
      targets.push({ node: `${n.name}@${ip}`, connection: connection(address, `${n.name}@${ip}`, a.host) });
    }
  }
  return { targets, failures };
}

function score(key: string, endpoint: string): bigint {
  return createHash('sha256').update(key).update('\0').update(endpoint).digest().readBigUInt64BE(0);
}

/**
 * rankNodes orders servers for one build by rendezvous hashing: each server scores hash(key, address), the highest
 * first. A build's key always ranks the servers the same way, and removing a server moves only the builds it ranked
 * first (to their second), so the other builds keep their cache.
 */
export function rankNodes<T extends NodeTarget>(targets: readonly T[], key: string): T[] {
  const scored = targets.map((t) => ({ t, s: score(key, t.connection.address) }));
  scored.sort((a, b) => (a.s === b.s ? a.t.connection.address.localeCompare(b.t.connection.address) : a.s > b.s ? -1 : 1));
  return scored.map((x) => x.t);
}
