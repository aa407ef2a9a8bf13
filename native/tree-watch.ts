import { spawn, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pathExists } from '../base/fs.js';

/** WATCH_HELPER_RELATIVE_PATH is where `make -C native` puts the tree watcher, relative to the package root. */
export const WATCH_HELPER_RELATIVE_PATH = 'native/build/tbuild-watch';

/** Changed paths remembered; a mark older than the oldest of them cannot be answered (the caller walks instead). */
const MAX_LOG = 65_536;

/** TreeWatchOptions: the watcher program and how many inotify watches (directories, multiply linked files) it may use. */
export interface TreeWatchOptions {
  readonly helper: string;
  readonly maxWatches: number;
  readonly signal: AbortSignal;
}

/** findWatchHelper locates native/build/tbuild-watch by walking up from this module to the package root. */
export async function findWatchHelper(from: string = fileURLToPath(import.meta.url)): Promise<string | undefined> {
  for (let dir = path.dirname(from); ; dir = path.dirname(dir)) {
    if (await pathExists(path.join(dir, 'package.json'))) {
      const helper = path.join(dir, WATCH_HELPER_RELATIVE_PATH);
      return (await pathExists(helper)) ? helper : undefined;
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * TreeWatch knows which paths below a folder changed since a mark, from inotify (native/watch/tbuild-watch.c), without
 * walking the folder. It answers "not known" when events were lost (the kernel queue overflowed), when the watch
 * failed (watch limit, unreadable directory, a network file system, the folder removed) or when the mark is too old.
 */
export class TreeWatch implements AsyncDisposable {
  readonly #child: ChildProcess;
  /** Changes received so far; a mark is a value of it. */
  #seq = 0;
  /** The count at the last loss of events, -1 when none. */
  #lostAt = -1;
  /** Whether every directory is watched (false while the watcher watches the tree again after a loss). */
  #ready = false;
  #failure: string | undefined;
  /** The latest changed paths: #log[i] is change number #logStart + i + 1. */
  #log: string[] = [];
  #logStart = 0;
  #pending = Buffer.alloc(0);
  #nextToken = 0;
  readonly #syncs = new Map<string, () => void>();
  readonly #waiters = new Set<() => void>();

  private constructor(child: ChildProcess) {
    this.#child = child;
  }

  /** start watches a folder; it settles once every directory is watched, or with the reason the watch cannot be. */
  static async start(root: string, options: TreeWatchOptions): Promise<TreeWatch> {
    const child = spawn(options.helper, [root, String(options.maxWatches)], { stdio: ['pipe', 'pipe', 'ignore'] });
    const watch = new TreeWatch(child);
    child.stdout?.on('data', (chunk: Buffer) => watch.#receive(chunk));
    child.on('error', (err) => watch.#fail(`cannot start ${WATCH_HELPER_RELATIVE_PATH}: ${err.message}`));
    child.on('close', () => watch.#fail('the watcher exited'));
    // A broken pipe to a watcher that exited is told by its exit.
    child.stdin?.on('error', () => watch.#fail('the watcher exited'));
    // A resident builder that is otherwise idle may exit: its watches do not hold it.
    child.unref();
    for (const stream of [child.stdin, child.stdout]) if (stream instanceof Socket) stream.unref();
    try {
      await watch.#until(() => watch.#ready || watch.#failure !== undefined, options.signal);
    } catch (err) {
      await watch[Symbol.asyncDispose]();
      throw err;
    }
    return watch;
  }

  /** failure is why the watch stopped, once it has. */
  get failure(): string | undefined {
    return this.#failure;
  }

  /** mark is the point a scan starting now covers, or undefined when the watch cannot tell changes after it. */
  mark(): number | undefined {
    return this.#ready && this.#failure === undefined ? this.#seq : undefined;
  }

  /**
   * changesSince lists the paths (relative, slash-separated) that may have changed since a mark, every change made
   * before the call included, or returns undefined when they are not all known.
   */
  async changesSince(mark: number, options: { readonly signal: AbortSignal }): Promise<readonly string[] | undefined> {
    if (this.#failure !== undefined) return undefined;
    await this.#sync(options.signal);
    if (this.#failure !== undefined || !this.#ready || this.#lostAt > mark || mark < this.#logStart) return undefined;
    return this.#log.slice(mark - this.#logStart);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#fail('the watch was closed');
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once('close', () => resolve()));
    this.#child.kill('SIGKILL');
    await exited;
  }

  /** sync waits until the watcher has reported every event queued before this call. */
  async #sync(signal: AbortSignal): Promise<void> {
    const token = String(this.#nextToken++);
    let answered = false;
    this.#syncs.set(token, () => (answered = true));
    try {
      this.#child.stdin?.write(`s${token}\n`);
      await this.#until(() => answered || this.#failure !== undefined, signal);
    } finally {
      this.#syncs.delete(token);
    }
  }

  #receive(chunk: Buffer): void {
    let data = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    for (let end = data.indexOf(0); end >= 0; end = data.indexOf(0)) {
      this.#record(String.fromCharCode(data[0] ?? 0), data.toString('utf8', 1, end));
      data = data.subarray(end + 1);
    }
    this.#pending = Buffer.from(data);
    for (const wake of [...this.#waiters]) wake();
  }

  #record(type: string, text: string): void {
    switch (type) {
      case 'C':
        this.#seq++;
        this.#log.push(text);
        if (this.#log.length > MAX_LOG) {
          const dropped = this.#log.length - MAX_LOG / 2;
          this.#log = this.#log.slice(dropped);
          this.#logStart += dropped;
        }
        return;
      case 'R':
        this.#ready = true;
        return;
      case 'O':
        this.#seq++;
        this.#lostAt = this.#seq;
        this.#ready = false;
        return;
      case 'S':
        this.#syncs.get(text)?.();
        return;
      case 'F':
        this.#fail(text);
        return;
      default:
        this.#fail(`the watcher sent an unknown record "${type}"`);
    }
  }

  #fail(reason: string): void {
    this.#failure ??= reason;
    this.#ready = false;
    for (const wake of [...this.#waiters]) wake();
  }

  /** until waits for a condition the watcher's records make true; the signal's reason is thrown when it aborts first. */
  #until(done: () => boolean, signal: AbortSignal): Promise<void> {
    if (done()) return Promise.resolve();
    signal.throwIfAborted();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!done()) return;
        cleanup();
        resolve();
      };
      const abort = (): void => {
        cleanup();
        reject(signal.reason);
      };
      const cleanup = (): void => {
        this.#waiters.delete(check);
        signal.removeEventListener('abort', abort);
      };
      this.#waiters.add(check);
      signal.addEventListener('abort', abort, { once: true });
    });
  }
}
