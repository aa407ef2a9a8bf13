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

/** LocalSshAgentProvider hands out agent sockets of this host as they are, as embedded builds do. */
export class LocalSshAgentProvider implements SshAgentProvider {
  readonly #sockets: ReadonlyMap<string, string>;

  constructor(sockets: ReadonlyMap<string, string>) {
    this.#sockets = sockets;
  }

  /** open returns the socket given for `id`; it belongs to the build, so releasing it does nothing. */
  async open(id: string, options: { owner: SshAgentOwner; signal: AbortSignal }): Promise<SshAgentSocket | undefined> {
    options.signal.throwIfAborted();
    const path = this.#sockets.get(id);
    if (path === undefined) return undefined;
    return { path, [Symbol.asyncDispose]: async () => undefined };
  }
}
