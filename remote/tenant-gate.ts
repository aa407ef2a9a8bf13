import { LimitError } from '../base/errors.js';

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

  /** admit resolves once the tenant may run one more build, with the function that gives its slot back. */
  async admit(tenant: string, signal: AbortSignal): Promise<() => void> {
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
