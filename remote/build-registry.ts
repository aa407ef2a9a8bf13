import { randomBytes } from 'node:crypto';
import { CancelledError } from '../base/errors.js';
import type { BuildInfoMsg } from './admin-messages.js';

/** BuildState is where a build is in its life. */
export type BuildState = 'queued' | 'syncing' | 'running' | 'completed' | 'failed' | 'cancelled';

interface Entry {
  info: BuildInfoMsg;
  readonly abort: AbortController;
}

const KEEP_FINISHED = 100;

/** BuildRegistry tracks the builds of one server for Status, ListBuilds and Cancel. */
export class BuildRegistry {
  readonly #builds = new Map<string, Entry>();

  /** add records a new build and returns its id. */
  add(clientId: string, abort: AbortController): string {
    const buildId = randomBytes(8).toString('hex');
    this.#builds.set(buildId, { abort, info: { buildId, clientId, state: 'syncing', createdMs: Date.now(), finishedMs: 0, error: '' } });
    this.#trim();
    return buildId;
  }

  /** update changes the state of a build. */
  update(buildId: string, state: BuildState, error = ''): void {
    const e = this.#builds.get(buildId);
    if (e === undefined) return;
    const done = state === 'completed' || state === 'failed' || state === 'cancelled';
    e.info = { ...e.info, state, error, finishedMs: done ? Date.now() : 0 };
  }

  /** get describes one build. */
  get(buildId: string): BuildInfoMsg | undefined {
    return this.#builds.get(buildId)?.info;
  }

  /** list describes every known build, oldest first. */
  list(): BuildInfoMsg[] {
    return [...this.#builds.values()].map((e) => e.info);
  }

  /** count returns how many builds are in a state. */
  count(state: BuildState): number {
    return this.list().filter((b) => b.state === state).length;
  }

  /** cancel aborts a build that has not finished; it answers whether there was one. */
  cancel(buildId: string, reason: string): boolean {
    const e = this.#builds.get(buildId);
    if (e === undefined || e.info.finishedMs !== 0) return false;
    e.abort.abort(new CancelledError(reason));
    return true;
  }

  /** cancelAll aborts every unfinished build. */
  cancelAll(reason: string): void {
    for (const id of this.#builds.keys()) this.cancel(id, reason);
  }

  #trim(): void {
    const finished = this.list().filter((b) => b.finishedMs !== 0);
    for (const b of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.#builds.delete(b.buildId);
  }
}
