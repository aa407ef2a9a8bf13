import { UsageError } from '../base/errors.js';

/** DEFAULT_PORT is the TCP port of `tbuild serve` when an address names none. */
export const DEFAULT_PORT = 8375;

/** BuilderAddress is a parsed `unix://PATH` or `tcp://HOST:PORT`. */
export type BuilderAddress =
  | { readonly kind: 'unix'; readonly path: string; readonly text: string; readonly target: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly text: string; readonly target: string };

/** parseAddress reads a builder address as given to --addr or --builder. */
export function parseAddress(text: string): BuilderAddress {
  if (text.startsWith('unix://')) {
    const path = text.slice('unix://'.length);
    if (!path.startsWith('/')) throw new UsageError(`Cannot use address "${text}": expected unix:///absolute/path`);
    return { kind: 'unix', path, text, target: `unix://${path}` };
  }
  if (text.startsWith('tcp://')) {
    const rest = text.slice('tcp://'.length).replace(/\/$/, '');
    const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]/]+)(?::(\d+))?$/.exec(rest);
    if (m === null || m[1] === undefined) throw new UsageError(`Cannot use address "${text}": expected tcp://HOST:PORT`);
    const port = m[2] === undefined ? DEFAULT_PORT : Number(m[2]);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`Cannot use address "${text}": bad port`);
    return { kind: 'tcp', host: m[1], port, text, target: `${m[1]}:${port}` };
  }
  throw new UsageError(`Cannot use address "${text}": expected unix:///PATH or tcp://HOST:PORT`);
}

/** NodeAddress is a builder node's address: a BuilderAddress, or `dns+tcp://NAME:PORT` (every address NAME resolves to). */
export type NodeAddress = BuilderAddress | { readonly kind: 'dns'; readonly host: string; readonly port: number; readonly text: string };

/** parseNodeAddress reads the address of a builder node, as given to --node or --builder. */
export function parseNodeAddress(text: string): NodeAddress {
  if (text.startsWith('tcp://') || text.startsWith('unix://')) return parseAddress(text);
  if (!text.startsWith('dns+tcp://')) throw new UsageError(`Cannot use address "${text}": expected tcp://HOST:PORT, unix:///PATH or dns+tcp://NAME:PORT`);
  const m = /^([a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?)(?::(\d+))?\/?$/.exec(text.slice('dns+tcp://'.length));
  if (m === null || m[1] === undefined) throw new UsageError(`Cannot use address "${text}": expected dns+tcp://NAME:PORT`);
  const port = m[3] === undefined ? DEFAULT_PORT : Number(m[3]);
  if (port < 1 || port > 65535) throw new UsageError(`Cannot use address "${text}": bad port`);
  return { kind: 'dns', host: m[1], port, text };
}

/** isAddress tells an address (`tcp://…`, `unix://…`, `dns+tcp://…`) from a builder's name. */
export function isAddress(text: string): boolean {
  return text.includes('://');
}
