import { chmod, rm, stat, unlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { errnoCode } from '../base/errors.js';
import { createLogger, type Logger } from '../base/log.js';
import type { CommandIO } from './command-io.js';
import { ControllerPool } from './daemon-controllers.js';
import { readCodeIdentity, repoRoot } from './daemon-identity.js';
import type { DaemonRequest } from './daemon-request.js';
import { serveConnection, type Claim, type SessionHost } from './daemon-session.js';
import { ensurePrivateDir, probeSocket } from './daemon-socket.js';

/** RunCommand runs a tbuild command line for a client (cli/main.ts `main`, given the client as its process). */
export type RunCommand = (argv: readonly string[], io: CommandIO) => Promise<number>;

/** ResidentOptions configure `tbuild daemon`. */
export interface ResidentOptions {
  readonly socket: string;
  /** Milliseconds without a build after which the process exits. */
  readonly idleMs: number;
  readonly run: RunCommand;
}

/** How often the process checks its socket file is still its own (another daemon may have replaced it). */
const SOCKET_CHECK_MS = 10_000;

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function inodeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).ino;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * bindSocket listens on the socket path, replacing a leftover file; undefined when another process serves it.
 * Either way it removes the launcher's daemon.starting marker, which holds other launchers back meanwhile.
 */
async function bindSocket(path: string, logger: Logger): Promise<{ server: Server; inode: number } | undefined> {
  await ensurePrivateDir(dirname(path));
  try {
    return await listenOnce(path, logger);
  } finally {
    await rm(join(dirname(path), 'daemon.starting'), { force: true });
  }
}

async function listenOnce(path: string, logger: Logger): Promise<{ server: Server; inode: number } | undefined> {
  const state = await probeSocket(path);
  if (state === 'alive') return undefined;
  if (state === 'leftover') await unlink(path).catch((err: unknown) => { if (errnoCode(err) !== 'ENOENT') throw err; });
  const server = createServer();
  try {
    await listen(server, path);
  } catch (err) {
    if (errnoCode(err) !== 'EADDRINUSE') throw err;
    logger.info('another resident builder bound the socket first', { socket: path });
    return undefined;
  }
  await chmod(path, 0o600);
  const inode = await inodeOf(path);
  return inode === undefined ? undefined : { server, inode };
}

/** ResidentBuilder is the state of `tbuild daemon`: the builds it runs at once, its controllers, and how it stops. */
class ResidentBuilder implements SessionHost {
  readonly logger: Logger;
  readonly #controllers: ControllerPool;
  /** Builds being served; the idle countdown runs only while there are none. */
  readonly #active = new Set<Promise<void>>();
  #stopping: Promise<void> | undefined;
  #idle: NodeJS.Timeout | undefined;
  #stopped = (): void => undefined;
  /** done settles once the builder has stopped. */
  readonly done = new Promise<void>((resolve) => (this.#stopped = resolve));

  constructor(
    private readonly options: ResidentOptions & { readonly repo: string; readonly identity: string; readonly server: Server },
    logger: Logger,
  ) {
    this.logger = logger;
    this.#controllers = new ControllerPool(logger);
  }

  readonly openController: CommandIO['openController'] = (o) => this.#controllers.acquire(o);

  run(argv: readonly string[], io: CommandIO): Promise<number> {
    return this.options.run(argv, io);
  }

  /** armIdle (re)starts the idle countdown, which running builds pause. */
  armIdle(): void {
    clearTimeout(this.#idle);
    if (this.#active.size > 0) return;
    this.#idle = setTimeout(() => void this.stop('idle'), this.options.idleMs);
  }

  async claim(request: DaemonRequest): Promise<Claim> {
    if (this.#stopping !== undefined) return 'busy';
    const { repo, identity } = this.options;
    const current = request.repo === repo && request.node === process.execPath && (await readCodeIdentity(repo)) === identity;
    if (!current) {
      this.logger.info('the code on disk changed, or another checkout asked', { repo: request.repo, node: request.node });
      void this.stop('stale');
      return 'stale';
    }
    if (this.#stopping !== undefined) return 'busy';
    clearTimeout(this.#idle);
    let finish = (): void => undefined;
    const build = new Promise<void>((resolve) => (finish = resolve));
    this.#active.add(build);
    return {
      release: () => {
        this.#active.delete(build);
        finish();
        if (this.#stopping === undefined) this.armIdle();
      },
    };
  }

  /** stop stops accepting builds and settles once the running ones are done; keepSocketFile leaves the file alone. */
  stop(reason: string, o: { readonly keepSocketFile?: boolean } = {}): Promise<void> {
    this.#stopping ??= (async () => {
      this.logger.info('resident builder stopping', { reason, pid: process.pid });
      clearTimeout(this.#idle);
      // Closing a unix server removes its socket file by name: keep a file that is no longer ours.
      if (o.keepSocketFile === true) this.options.server.unref();
      else this.options.server.close();
      await Promise.all([...this.#active]);
      await this.#controllers[Symbol.asyncDispose]();
      this.#stopped();
    })();
    return this.#stopping;
  }
}

/** watchSocketFile stops the builder when its socket file is removed or replaced (another daemon took the path). */
function watchSocketFile(builder: ResidentBuilder, path: string, inode: number): NodeJS.Timeout {
  return setInterval(() => {
    inodeOf(path).then(
      (now) => void (now === inode || builder.stop('socket file replaced', { keepSocketFile: true })),
      (err: unknown) => builder.logger.warn('cannot check the socket file', { error: String(err) }),
    );
  }, SOCKET_CHECK_MS).unref();
}

/**
 * runResident serves launcher connections on a unix socket, builds of several clients at once, until it is idle for idleMs,
 * gets SIGINT/SIGTERM or `tbuild daemon stop`, finds the code on disk changed (stale) or its socket taken over.
 */
export async function runResident(options: ResidentOptions): Promise<number> {
  const logger = createLogger(process.stderr, 'text');
  const repo = await repoRoot();
  const identity = await readCodeIdentity(repo);
  const bound = await bindSocket(options.socket, logger);
  if (bound === undefined) {
    logger.info('a resident builder already serves this socket; exiting', { socket: options.socket });
    return 0;
  }
  const { server, inode } = bound;
  const builder = new ResidentBuilder({ ...options, repo, identity, server }, logger);
  logger.info('resident builder started', { pid: process.pid, socket: options.socket, idleSeconds: options.idleMs / 1000 });
  const onCrash = (err: Error): void => logger.error('resident builder crashed', { error: err.stack ?? err.message });
  const onSignal = (signal: NodeJS.Signals): void => void builder.stop(signal);
  process.on('uncaughtExceptionMonitor', onCrash);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  server.on('connection', (socket) => serveConnection(socket, builder));
  server.on('error', (err) => {
    logger.error('resident builder socket failed', { error: err.message });
    void builder.stop('socket error');
  });
  const socketCheck = watchSocketFile(builder, options.socket, inode);
  // Load what a build needs now, with the parts a direct build loads on first use, so the first build served does not pay for them.
  await Promise.all([import('../controller/index.js').then((c) => c.preloadBuildCode()), import('./progress/plain.js')]);
  builder.armIdle();
  await builder.done;
  clearInterval(socketCheck);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('uncaughtExceptionMonitor', onCrash);
  return 0;
}
