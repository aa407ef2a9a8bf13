import { once } from 'node:events';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** SshAgentSocket is an agent socket on this host that one RUN mounts; disposing releases it. */
export interface SshAgentSocket extends AsyncDisposable {
  readonly path: string;
}

/** SshAgentOwner is the owner and mode the socket a RUN mounts gets. */
export interface SshAgentOwner {
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
}

/** SshAgentProvider gives a RUN the agent socket of an `--ssh` id when it mounts it. */
export interface SshAgentProvider {
  /** open returns a socket for agent `id`, or undefined when the build was given no agent with that id. */
  open(id: string, options: { owner: SshAgentOwner; signal: AbortSignal }): Promise<SshAgentSocket | undefined>;
}

/** AgentListener is a fresh agent socket one RUN mounts, in a private temporary directory. */
export interface AgentListener {
  readonly server: Server;
  readonly path: string;
  /** close stops listening, waits for the connections to end and removes the socket and its directory. */
  close(): Promise<void>;
}

/**
 * listenAgentSocket listens on a new unix socket with the owner and mode the RUN's mount asks for (`uid`, `gid`,
 * `mode`), as BuildKit's forwarded agent socket has them; `accept` handles each connection.
 */
export async function listenAgentSocket(owner: SshAgentOwner, signal: AbortSignal, accept: (socket: Socket, server: Server) => void): Promise<AgentListener> {
  const dir = await mkdtemp(join(tmpdir(), 'tbuild-ssh-fwd-'));
  const path = join(dir, 'agent.sock');
  const server: Server = createServer({ pauseOnConnect: true }, (socket) => accept(socket, server));
  const close = async (): Promise<void> => {
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await chmod(dir, 0o700);
    server.listen(path);
    await once(server, 'listening', { signal });
    await chown(path, owner.uid, owner.gid);
    await chmod(path, owner.mode);
  } catch (err) {
    await close();
    throw err;
  }
  return { server, path, close };
}

/**
 * LocalSshAgentProvider serves the agent sockets of this host, as embedded builds do. A RUN never gets the agent's own
 * socket: it gets a new one with the owner and mode its mount asks for, each connection on it relayed to the agent.
 */
export class LocalSshAgentProvider implements SshAgentProvider {
  readonly #sockets: ReadonlyMap<string, string>;

  constructor(sockets: ReadonlyMap<string, string>) {
    this.#sockets = sockets;
  }

  /** open listens on a relay socket for agent `id`; disposing it ends its connections and removes it. */
  async open(id: string, options: { owner: SshAgentOwner; signal: AbortSignal }): Promise<SshAgentSocket | undefined> {
    options.signal.throwIfAborted();
    const agent = this.#sockets.get(id);
    if (agent === undefined) return undefined;
    const open = new Set<Socket>();
    const listener = await listenAgentSocket(options.owner, options.signal, (client) => {
      const upstream = connect(agent);
      for (const s of [client, upstream]) {
        open.add(s);
        s.once('close', () => open.delete(s));
        // Either side failing ends the relay; the RUN's ssh client reports the broken connection itself.
        s.once('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
      client.resume();
    });
    const release = async (): Promise<void> => {
      const closed = listener.close();
      for (const s of open) s.destroy();
      await closed;
    };
    return { path: listener.path, [Symbol.asyncDispose]: release };
  }
}
