import { once } from 'node:events';
import type { Server, Socket } from 'node:net';
import { listenAgentSocket, type AgentListener, type SshAgentOwner, type SshAgentProvider, type SshAgentSocket } from '../controller/index.js';
import type { Logger } from '../base/log.js';
import type { ServerMessage, SshDataMsg } from './messages.js';

interface Tunnel {
  readonly server: Server;
  readonly socket: Socket;
  /** Messages of this tunnel are sent in order: open, data…, close. */
  sending: Promise<void>;
  /** The client closed its end, so no SshClose goes back. */
  closedByClient: boolean;
}

/**
 * StreamSshAgentProvider forwards the client's SSH agents over the open Build call. A RUN mounting an agent gets a
 * fresh unix socket in a private temporary directory; every connection on it becomes a tunnel to the client's agent.
 * Nothing of the agent is stored on the server, and the socket is removed when the RUN ends.
 */
export class StreamSshAgentProvider implements SshAgentProvider, AsyncDisposable {
  readonly #ids: ReadonlySet<string>;
  readonly #send: (m: ServerMessage) => Promise<void>;
  readonly #logger: Logger;
  readonly #tunnels = new Map<number, Tunnel>();
  readonly #listeners = new Set<AgentListener>();
  #next = 1;

  constructor(ids: readonly string[], send: (m: ServerMessage) => Promise<void>, logger: Logger) {
    this.#ids = new Set(ids);
    this.#send = send;
    this.#logger = logger;
  }

  /** open listens on a new socket for agent `id`; ids the client did not offer are absent. */
  async open(id: string, options: { owner: SshAgentOwner; signal: AbortSignal }): Promise<SshAgentSocket | undefined> {
    if (!this.#ids.has(id)) return undefined;
    options.signal.throwIfAborted();
    const listener = await listenAgentSocket(options.owner, options.signal, (socket, server) => this.#accept(id, server, socket));
    this.#listeners.add(listener);
    const release = async (): Promise<void> => {
      this.#listeners.delete(listener);
      const closed = listener.close();
      for (const [conn, t] of this.#tunnels) if (t.server === listener.server) this.#end(conn, t);
      await closed;
    };
    return { path: listener.path, [Symbol.asyncDispose]: release };
  }

  /** deliver writes bytes from the client's agent into the RUN's connection, waiting while it is full. */
  async deliver(msg: SshDataMsg, signal: AbortSignal): Promise<void> {
    const t = this.#tunnels.get(msg.conn);
    if (t === undefined || t.socket.destroyed) return;
    if (!t.socket.write(msg.data)) await Promise.race([once(t.socket, 'drain', { signal }), once(t.socket, 'close', { signal })]);
  }

  /** closeFromClient ends the RUN's connection after the client's end closed. */
  closeFromClient(conn: number): void {
    const t = this.#tunnels.get(conn);
    if (t === undefined) return;
    t.closedByClient = true;
    t.socket.end();
  }

  /** Closes every tunnel and socket still open: the build is over. */
  async [Symbol.asyncDispose](): Promise<void> {
    for (const [conn, t] of this.#tunnels) this.#end(conn, t);
    await Promise.all([...this.#listeners].map((l) => l.close()));
    this.#listeners.clear();
  }

  #accept(id: string, server: Server, socket: Socket): void {
    const conn = this.#next++;
    const t: Tunnel = { server, socket, sending: this.#send({ kind: 'sshOpen', sshOpen: { conn, id } }), closedByClient: false };
    this.#tunnels.set(conn, t);
    const queue = (m: ServerMessage, after?: () => void): void => {
      t.sending = t.sending.then(() => this.#send(m)).then(after);
      t.sending.catch((err: unknown) => {
        this.#logger.warn('ssh tunnel failed', { conn, error: err instanceof Error ? err.message : String(err) });
        socket.destroy();
      });
    };
    socket.on('data', (data: Buffer) => {
      // One chunk in flight per tunnel: the socket reads again once the Build call accepted the bytes.
      socket.pause();
      queue({ kind: 'sshData', sshData: { conn, data } }, () => socket.resume());
    });
    socket.on('error', (err) => this.#logger.warn('ssh tunnel connection failed', { conn, error: err.message }));
    socket.on('close', () => {
      this.#tunnels.delete(conn);
      if (!t.closedByClient) queue({ kind: 'sshClose', sshClose: { conn } });
    });
    socket.resume();
  }

  #end(conn: number, t: Tunnel): void {
    this.#tunnels.delete(conn);
    t.socket.destroy();
  }
}
