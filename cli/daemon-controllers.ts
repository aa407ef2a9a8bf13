import type { Logger } from '../base/log.js';
import type { Controller, ControllerOptions } from '../controller/index.js';

/**
 * ControllerPool keeps the resident builder's controllers open across builds, one per state folder, runtime and process
 * sandbox mode: the
 * builds of all clients share a folder's store, executor, shared calls, exec slots and queue. Disposing the pool
 * closes them.
 */
export class ControllerPool implements AsyncDisposable {
  readonly #open = new Map<string, Promise<Controller>>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** acquire returns the folder's controller, opening it on first use; disposing the lease leaves it open. */
  async acquire(options: ControllerOptions): Promise<Controller & AsyncDisposable> {
    const key = JSON.stringify([options.root, options.ociRuntime ?? '', options.processSandbox ?? '', options.settingsFile ?? '']);
    let opened = this.#open.get(key);
    if (opened === undefined) {
      opened = import('../controller/index.js').then((m) => m.createController({ ...options, logger: this.#logger, watchContexts: options.watchContexts ?? true }));
      this.#open.set(key, opened);
      // A folder that cannot be opened now may be openable by the next build.
      opened.catch(() => this.#open.delete(key));
    }
    const controller = await opened;
    return { ...controller, [Symbol.asyncDispose]: async () => undefined };
  }

  /** Closes every controller once its builds are done. */
  async [Symbol.asyncDispose](): Promise<void> {
    const all = [...this.#open.values()];
    this.#open.clear();
    for (const settled of await Promise.allSettled(all)) if (settled.status === 'fulfilled') await settled.value.close();
  }
}
