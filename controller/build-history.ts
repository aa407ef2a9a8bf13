import { randomBytes } from 'node:crypto';
import { CancelledError } from '../base/errors.js';

/** BuildState is where a build is in its life: its inputs are made ready (syncing), it waits for a slot, runs, ends. */
export type BuildState = 'queued' | 'syncing' | 'running' | 'completed' | 'failed' | 'cancelled';

/** BuildRecord describes one build of a controller. */
export interface BuildRecord {
  readonly buildId: string;
  /** Who asked for the build (a remote client's id; empty when the caller gave none). */
  readonly clientId: string;
  /** The tenant it came from, when a server named one. */
  readonly tenant?: string;
  readonly state: BuildState;
  readonly createdMs: number;
  /** When the build ended; 0 while it has not. */
  readonly finishedMs: number;
  /** The error it failed with; empty unless it failed or was cancelled. */
  readonly error: string;
}

/** BuildHistory answers what builds a controller ran and runs, and cancels one. */
export interface BuildHistory {
  /** get describes one build. */
  get(buildId: string): BuildRecord | undefined;
  /** list describes every build known, oldest first (the last hundred finished ones are kept). */
  list(): BuildRecord[];
  /** cancel aborts a build that has not finished; it answers whether there was one. */
  cancel(buildId: string, reason: string): boolean;
  /** cancelAll aborts every build that has not finished. */
  cancelAll(reason: string): void;
}

interface Entry {
  info: BuildRecord;
  readonly abort: AbortController;
}

const KEEP_FINISHED = 100;

/** BuildRecords tracks the builds of one controller, in memory. */
export class BuildRecords implements BuildHistory {
  readonly #builds = new Map<string, Entry>();

  /** add records a new build, cancelled through abort, and returns its id. */
  add(clientId: string, abort: AbortController, tenant?: string): string {
    const buildId = randomBytes(8).toString('hex');
    this.#builds.set(buildId, { abort, info: { buildId, clientId, ...(tenant === undefined ? {} : { tenant }), state: 'syncing', createdMs: Date.now(), finishedMs: 0, error: '' } });
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
  get(buildId: string): BuildRecord | undefined {
    return this.#builds.get(buildId)?.info;
  }

  /** list describes every known build, oldest first. */
  list(): BuildRecord[] {
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
