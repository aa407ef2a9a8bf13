import { readFile } from 'node:fs/promises';
import { errnoCode } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import { findWatchHelper, TreeWatch } from '../native/index.js';
import type { ContextScan, ContextWatches, WatchedContext } from '../solver/ops/index.js';

/** ContextWatchOptions bound what a builder watches: how many folders, for how long after their last build. */
export interface ContextWatchOptions {
  /** Folders watched at once; the one built least recently stops first (default 8). */
  readonly maxContexts?: number;
  /** Milliseconds a folder stays watched after its last build (default 10 minutes). */
  readonly idleMs?: number;
  /** The inotify watches one folder may take (default: a quarter of fs.inotify.max_user_watches). */
  readonly maxWatches?: number;
  readonly logger?: Logger;
  /** The watcher program (default native/build/tbuild-watch of this package). */
  readonly helper?: string;
}

const DEFAULT_MAX_CONTEXTS = 8;
const DEFAULT_IDLE_MS = 10 * 60_000;

/** Entry is one watched folder: its watch (starting, then started), the scans made of it, and its idle countdown. */
interface Entry {
  readonly started: Promise<TreeWatch | undefined>;
  readonly scans: Map<string, ContextScan>;
  idle: NodeJS.Timeout | undefined;
}

/**
 * ContextWatchRegistry keeps an inotify watch (TreeWatch) on the context folders a resident builder built lately, so
 * that a warm build knows nothing changed without walking the folder. A folder that cannot be watched (watch limit,
 * network file system, no watcher program) is walked, and not tried again for a while.
 */
export class ContextWatchRegistry implements ContextWatches, AsyncDisposable {
  readonly #entries = new Map<string, Entry>();
  /** Folders whose watch could not start, and until when none is tried again. */
  readonly #refused = new Map<string, number>();
  readonly #options: ContextWatchOptions;
  #maxWatches: Promise<number> | undefined;
  #closed = false;
  /** Aborts watches still starting when the registry closes. */
  readonly #closing = new AbortController();

  constructor(options: ContextWatchOptions = {}) {
    this.#options = options;
  }

  async watch(dir: string, options: { readonly signal: AbortSignal }): Promise<WatchedContext | undefined> {
    if (this.#closed) return undefined;
    let entry = this.#entries.get(dir);
    if (entry !== undefined) {
      const watch = await untilAborted(entry.started, options.signal);
      // A watch that stopped (its folder removed, the limit reached as it grew) is started again, and one that could
      // not start is tried again once its refusal has passed.
      if (watch === undefined || watch.failure !== undefined) await this.#drop(dir, entry);
      else entry = this.#touch(dir, entry);
    }
    if (this.#entries.get(dir) === undefined) {
      if ((this.#refused.get(dir) ?? 0) > Date.now()) return undefined;
      // The start is shared by the builds of the folder: one build's cancellation does not end it.
      const started = this.#start(dir).catch((err: unknown) => this.#refuse(dir, err instanceof Error ? err.message : String(err)));
      entry = this.#touch(dir, { started, scans: new Map(), idle: undefined });
      await this.#evict();
    }
    const current = this.#entries.get(dir);
    const watch = current === undefined ? undefined : await untilAborted(current.started, options.signal);
    if (current === undefined || watch === undefined || watch.failure !== undefined) return undefined;
    return { mark: () => watch.mark(), changesSince: (mark, o) => watch.changesSince(mark, o), scans: current.scans };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#closed = true;
    this.#closing.abort(new Error('the builder is closing'));
    const entries = [...this.#entries];
    await Promise.all(entries.map(([dir, entry]) => this.#drop(dir, entry)));
  }

  async #start(dir: string): Promise<TreeWatch | undefined> {
    const helper = this.#options.helper ?? (await findWatchHelper());
    if (helper === undefined) return this.#refuse(dir, 'no native/build/tbuild-watch (npm run build)');
    const watch = await TreeWatch.start(dir, { helper, maxWatches: await this.#watchLimit(), signal: this.#closing.signal });
    if (watch.failure === undefined) return watch;
    const reason = watch.failure;
    await watch[Symbol.asyncDispose]();
    return this.#refuse(dir, reason);
  }

  /** refuse walks a folder that cannot be watched at each build, and tries again only after the idle time. */
  #refuse(dir: string, reason: string): undefined {
    this.#refused.set(dir, Date.now() + (this.#options.idleMs ?? DEFAULT_IDLE_MS));
    this.#options.logger?.info('cannot watch a build context; each build walks it', { dir, reason });
    return undefined;
  }

  /** touch makes a folder the most recently built and restarts its idle countdown. */
  #touch(dir: string, entry: Entry): Entry {
    clearTimeout(entry.idle);
    this.#entries.delete(dir);
    this.#entries.set(dir, entry);
    entry.idle = setTimeout(() => void this.#drop(dir, entry), this.#options.idleMs ?? DEFAULT_IDLE_MS).unref();
    return entry;
  }

  async #evict(): Promise<void> {
    const max = this.#options.maxContexts ?? DEFAULT_MAX_CONTEXTS;
    while (this.#entries.size > max) {
      const [oldest] = this.#entries;
      if (oldest === undefined) return;
      await this.#drop(...oldest);
    }
  }

  async #drop(dir: string, entry: Entry): Promise<void> {
    clearTimeout(entry.idle);
    if (this.#entries.get(dir) === entry) this.#entries.delete(dir);
    const watch = await entry.started;
    await watch?.[Symbol.asyncDispose]();
  }

  #watchLimit(): Promise<number> {
    const given = this.#options.maxWatches;
    if (given !== undefined) return Promise.resolve(given);
    this.#maxWatches ??= readFile('/proc/sys/fs/inotify/max_user_watches', 'utf8').then(
      (text) => Math.max(1, Math.floor(Number(text.trim()) / 4)),
      (err: unknown) => {
        // Without the file (no inotify in this kernel) the watcher fails to start and the folder is walked.
        if (errnoCode(err) !== 'ENOENT') throw err;
        return 8192;
      },
    );
    return this.#maxWatches;
  }
}

/** untilAborted waits for a shared promise, or rejects with the signal's reason once it aborts (the promise goes on). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => reject(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
