import { digestOf } from '../base/digest.js';
import { LimitError } from '../base/errors.js';
import type { ProgressSink } from '../base/progress.js';

/** TenantLimits are how many builds of one tenant are admitted at once, and how many more may wait. */
export interface TenantLimits {
  readonly maxBuilds?: number;
  readonly maxQueued?: number;
}

/** TenantLoad is what a tenant has admitted and waiting now. */
export interface TenantLoad {
  readonly running: number;
  readonly queued: number;
}

interface Waiter {
  readonly admit: () => void;
}

interface Slots {
  running: number;
  readonly waiting: Waiter[];
}

/**
 * TenantGate admits each tenant's builds up to its max-builds; beyond that they wait in the tenant's own queue, in
 * order, and a build that finds max-queued builds already waiting fails at once with a LimitError naming the limit.
 * One tenant's builds never wait behind another's limit.
 */
export class TenantGate {
  readonly #limits: (tenant: string) => TenantLimits;
  readonly #slots = new Map<string, Slots>();

  constructor(limits: (tenant: string) => TenantLimits) {
    this.#limits = limits;
  }

  /**
   * admit resolves once the tenant may run one more build, with the function that gives its slot back; `waiting` is
   * told, with the load it found, when the build has to wait for a slot.
   */
  async admit(tenant: string, signal: AbortSignal, waiting?: (found: TenantLoad) => void): Promise<() => void> {
    signal.throwIfAborted();
    const { maxBuilds = Infinity, maxQueued = Infinity } = this.#limits(tenant);
    const slots = this.#slotsOf(tenant);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.#release(tenant, slots);
    };
    if (slots.running < maxBuilds && slots.waiting.length === 0) {
      slots.running++;
      return release;
    }
    if (slots.waiting.length >= maxQueued) {
      throw new LimitError(`Cannot queue the build: tenant "${tenant}" has ${slots.running} builds running (max-builds = ${maxBuilds}) and ${slots.waiting.length} waiting (max-queued = ${maxQueued})`, {
        hint: 'wait for a build of the tenant to end, or raise [tenants.NAME] max-queued in the builder\'s settings',
      });
    }
    waiting?.({ running: slots.running, queued: slots.waiting.length });
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        admit: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        const at = slots.waiting.indexOf(waiter);
        if (at >= 0) slots.waiting.splice(at, 1);
        this.#forget(tenant, slots);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      slots.waiting.push(waiter);
    });
    return release;
  }

  /** load tells what a tenant has admitted and waiting now. */
  load(tenant: string): TenantLoad {
    const s = this.#slots.get(tenant);
    return { running: s?.running ?? 0, queued: s?.waiting.length ?? 0 };
  }

  #slotsOf(tenant: string): Slots {
    let s = this.#slots.get(tenant);
    if (s === undefined) {
      s = { running: 0, waiting: [] };
      this.#slots.set(tenant, s);
    }
    return s;
  }

  #release(tenant: string, slots: Slots): void {
    // The slot passes straight to the next waiter: a new build arriving meanwhile cannot take it first.
    const next = slots.waiting.shift();
    if (next !== undefined) next.admit();
    else slots.running--;
    this.#forget(tenant, slots);
  }

  #forget(tenant: string, slots: Slots): void {
    if (slots.running === 0 && slots.waiting.length === 0) this.#slots.delete(tenant);
  }
}

/** WAIT_VERTEX is the progress vertex of a build waiting for one of its tenant's slots. */
const WAIT_VERTEX = digestOf('tenant build slot wait');

/**
 * admitReporting admits a build through the gate, and when it has to wait reports the wait as a progress vertex
 * (`[internal] wait for a build slot of tenant "ci"`, with the load it found), done once the build is admitted.
 */
export async function admitReporting(gate: TenantGate, tenant: string, o: { readonly signal: AbortSignal; readonly progress: ProgressSink }): Promise<() => void> {
  const name = `[internal] wait for a build slot of tenant "${tenant}"`;
  let waitedSince: number | undefined;
  const waiting = (found: TenantLoad): void => {
    waitedSince = Date.now();
    o.progress.emit({ type: 'vertex.started', vertex: WAIT_VERTEX, name, time: waitedSince });
    const line = `${found.running} builds of the tenant running, ${found.queued} waiting before this one\n`;
    o.progress.emit({ type: 'vertex.log', vertex: WAIT_VERTEX, stream: 'stdout', data: line, time: waitedSince });
  };
  const done = (error?: string): void => {
    if (waitedSince === undefined) return;
    const now = Date.now();
    o.progress.emit({ type: 'vertex.completed', vertex: WAIT_VERTEX, name, time: now, durationMs: now - waitedSince, ...(error === undefined ? {} : { error }) });
  };
  try {
    const release = await gate.admit(tenant, o.signal, waiting);
    done();
    return release;
  } catch (err) {
    done(err instanceof Error ? err.message : String(err));
    throw err;
  }
}
