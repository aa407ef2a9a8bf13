import { once } from 'node:events';
import { lstat } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { errnoCode, UsageError } from '../base/errors.js';
import type { SshSpec } from '../controller/index.js';
import type { ClientMessage, SshDataMsg } from './messages.js';

interface Tunnel {
  readonly socket: Socket;
  /** Messages of this tunnel are sent in order: data…, close. */
  sending: Promise<void>;
  /** The builder closed its end, so no SshClose goes back. */
  closedByBuilder: boolean;
}

/**
 * resolveAgentSockets maps each `--ssh` id to the agent socket the client forwards: `default` alone means the
 * client's SSH_AUTH_SOCK. Key files would need an agent on the client, so a remote build refuses them.
 */
export async function resolveAgentSockets(specs: readonly SshSpec[], sshAuthSock: string | undefined): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const spec of specs) {
    const paths = spec.paths.length > 0 ? spec.paths : [sshAuthSock ?? ''];
    const path = paths[0] ?? '';
    if (path === '') throw new UsageError(`Cannot use --ssh ${spec.id}: SSH_AUTH_SOCK is not set`, { hint: `pass --ssh ${spec.id}=/path/to/socket` });
    if (paths.length !== 1 || !(await isSocket(path))) {
      throw new UsageError(`Cannot forward --ssh ${spec.id} to a remote builder: expected one agent socket, key files stay on the client`, {
        hint: `load the keys with ssh-add and pass --ssh ${spec.id}=$SSH_AUTH_SOCK`,
      });
    }
    out.set(spec.id, path);
  }
  return out;
}

async function isSocket(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isSocket();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw new UsageError(`Cannot use --ssh: "${path}" does not exist`);
    throw err;
  }
}

/** SshAgentForwarder connects the builder's agent tunnels to local agent sockets and pipes bytes both ways. */
export class SshAgentForwarder implements Disposable {
  readonly #sockets: ReadonlyMap<string, string>;
  readonly #write: (m: ClientMessage) => Promise<void>;
  readonly #tunnels = new Map<number, Tunnel>();
  readonly #warn: (message: string) => void;

  constructor(sockets: ReadonlyMap<string, string>, o: { write: (m: ClientMessage) => Promise<void>; warn: (message: string) => void }) {
    this.#sockets = sockets;
    this.#write = o.write;
    this.#warn = o.warn;
  }

  /** open connects tunnel `conn` to the local agent `id`; an unknown id or unreachable agent closes it at once. */
  open(conn: number, id: string): void {
    const path = this.#sockets.get(id);
    if (path === undefined || this.#tunnels.has(conn)) {
      this.#queueClose(conn, Promise.resolve());
      return;
    }
    const socket = createConnection(path);
    const t: Tunnel = { socket, sending: Promise.resolve(), closedByBuilder: false };
    this.#tunnels.set(conn, t);
    socket.on('data', (data: Buffer) => {
      // One chunk in flight per tunnel: the agent is read again once the call accepted the bytes.
      socket.pause();
      t.sending = t.sending.then(() => this.#write({ kind: 'sshData', sshData: { conn, data } })).then(() => {
        socket.resume();
      });
      t.sending.catch((err: unknown) => {
        this.#warn(`Cannot forward ssh agent "${id}": ${err instanceof Error ? err.message : String(err)}`);
        socket.destroy();
      });
    });
    // A failed connection ends the tunnel (the socket is destroyed); the builder sees it as closed.
    socket.on('error', (err) => this.#warn(`Cannot forward ssh agent "${id}": ${err.message}`));
    socket.on('close', () => {
      this.#tunnels.delete(conn);
      if (!t.closedByBuilder) this.#queueClose(conn, t.sending);
    });
  }

  /** deliver writes the builder's bytes to the local agent, waiting while the agent's socket is full. */
  async deliver(msg: SshDataMsg, signal: AbortSignal): Promise<void> {
    const t = this.#tunnels.get(msg.conn);
    if (t === undefined || t.socket.destroyed) return;
    if (!t.socket.write(msg.data)) await Promise.race([once(t.socket, 'drain', { signal }), once(t.socket, 'close', { signal })]);
  }

  /** close ends tunnel `conn` after the builder's end closed. */
  close(conn: number): void {
    const t = this.#tunnels.get(conn);
    if (t === undefined) return;
    t.closedByBuilder = true;
    t.socket.end();
  }

  /** Closes every tunnel: the build is over. */
  [Symbol.dispose](): void {
    for (const t of this.#tunnels.values()) {
      t.closedByBuilder = true;
      t.socket.destroy();
    }
    this.#tunnels.clear();
  }

  #queueClose(conn: number, after: Promise<void>): void {
    after
      .then(() => this.#write({ kind: 'sshClose', sshClose: { conn } }))
      .catch((err: unknown) => this.#warn(`Cannot close ssh agent tunnel ${conn}: ${err instanceof Error ? err.message : String(err)}`));
  }
}
