import { afterEach, describe, expect, it, vi } from 'vitest';
import { ExecError } from '../../../base/errors.js';
import { createNetworkPool, type NetworkPool } from '../../../executor/network-pool.js';
import { NetworkStartFailure, type PreparedNetwork } from '../../../executor/sandbox-network.js';

/** FakeNetwork is a prepared network whose start and end the test decides. */
interface FakeNetwork extends PreparedNetwork {
  readonly id: number;
  held: boolean;
  ended: boolean;
  stops: number;
  start(): void;
  fail(detail: string): void;
}

/** fakeMaker makes fake networks and remembers each, in the order made. */
function fakeMaker(options: { readyAtOnce?: boolean } = {}): { made: FakeNetwork[]; prepare: () => PreparedNetwork } {
  const made: FakeNetwork[] = [];
  const prepare = (): PreparedNetwork => {
    let resolve = (): void => undefined;
    let reject = (_err: unknown): void => undefined;
    const ready = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    ready.catch(() => undefined);
    const network: FakeNetwork = {
      id: made.length,
      nsPath: `/proc/1/fd/${100 + made.length}`,
      ready,
      held: true,
      ended: false,
      stops: 0,
      isEnded: () => network.ended,
      hold: (keep) => void (network.held = keep),
      stop: () => {
        network.stops++;
        network.ended = true;
        return Promise.resolve();
      },
      start: resolve,
      fail: (detail) => {
        network.ended = true;
        reject(new NetworkStartFailure('slirp4netns ended before the network was ready', detail));
      },
    };
    made.push(network);
    if (options.readyAtOnce === true) resolve();
    return network;
  };
  return { made, prepare };
}

/** settle lets the pool's queued work (setImmediate refills, promise callbacks) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

const request = (argv: string[] = ['true']): { signal: AbortSignal; argv: string[] } => ({ signal: new AbortController().signal, argv });

/** useNetwork takes a network as a RUN does: waits for it, runs, gives it back. */
async function useNetwork(pool: NetworkPool): Promise<string> {
  await using network = pool.acquire(request());
  await network.ready();
  network.release();
  return network.nsPath;
}

/** runFirst runs the first RUN of a pool whose networks start when the test says: it gets the first network made. */
async function runFirst(pool: NetworkPool, maker: { made: FakeNetwork[] }): Promise<void> {
  const first = pool.acquire(request());
  maker.made[0]?.start();
  await first.ready();
  await first[Symbol.asyncDispose]();
  await settle();
}

let pools: NetworkPool[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const pool of pools) await pool[Symbol.asyncDispose]();
  pools = [];
});
function poolOf(options: Parameters<typeof createNetworkPool>[0]): NetworkPool {
  const pool = createNetworkPool(options);
  pools.push(pool);
  return pool;
}

describe('createNetworkPool', () => {
  it('makes networks ahead for the RUNs it is told to expect, up to its target, and none for RUNs that never come', async () => {
    const maker = fakeMaker({ readyAtOnce: true });
    const pool = poolOf({ prepare: maker.prepare, targetSize: 2 });
    expect(maker.made).toHaveLength(0); // an unused pool makes nothing
    // A RUN nobody said would come: made when it asks, and nothing made after it.
    await useNetwork(pool);
    await settle();
    expect(pool.stats()).toMatchObject({ madeOnDemand: 1, taken: 0, prepared: 0, idle: 0 });
    // Three RUNs expected (their keys missed): two made at once, the target.
    for (let i = 0; i < 3; i++) pool.expect();
    await settle();
    expect(pool.stats()).toMatchObject({ prepared: 2, idle: 2 });
    expect(maker.made.slice(1).map((n) => n.held)).toEqual([false, false]); // idle ones keep no process alive
    const second = pool.acquire(request());
    expect(second.nsPath).toBe(maker.made[1]?.nsPath);
    expect(maker.made[1]?.held).toBe(true);
    await second.ready();
    await second[Symbol.asyncDispose]();
    await settle();
    // Two RUNs still to come: one more made for them, and nothing after the last.
    expect(pool.stats()).toMatchObject({ prepared: 3, idle: 2 });
    await useNetwork(pool);
    await useNetwork(pool);
    await settle();
    expect(pool.stats()).toMatchObject({ madeOnDemand: 1, taken: 3, prepared: 3, idle: 0 });
  });

  it('never hands a network to a second RUN: each is torn down after its RUN', async () => {
    const maker = fakeMaker({ readyAtOnce: true });
    const pool = poolOf({ prepare: maker.prepare, targetSize: 1 });
    const paths: string[] = [];
    for (let i = 0; i < 5; i++) pool.expect();
    for (let i = 0; i < 5; i++) {
      paths.push(await useNetwork(pool));
      await settle();
    }
    expect(new Set(paths).size).toBe(5);
    const used = maker.made.filter((n) => paths.includes(n.nsPath));
    expect(used.map((n) => n.stops)).toEqual([1, 1, 1, 1, 1]);
  });

  it('fills one network at a time, the next once the last is ready', async () => {
    const maker = fakeMaker();
    const pool = poolOf({ prepare: maker.prepare, targetSize: 3 });
    for (let i = 0; i < 4; i++) pool.expect();
    await runFirst(pool, maker);
    expect(maker.made).toHaveLength(2); // the one the first RUN took, and the next once it was ready
    maker.made[1]?.start();
    await settle();
    expect(maker.made).toHaveLength(3);
    maker.made[2]?.start();
    maker.made[3]?.start();
    await settle();
    // The first RUN took the first one made; three ready for the three RUNs still expected.
    expect(pool.stats()).toMatchObject({ prepared: 4, taken: 1, idle: 3 });
  });

  it('hands out a network still starting, and the RUN waits for it', async () => {
    const maker = fakeMaker();
    const pool = poolOf({ prepare: maker.prepare, targetSize: 1 });
    pool.expect();
    pool.expect();
    await runFirst(pool, maker);
    const second = pool.acquire(request());
    expect(second.nsPath).toBe(maker.made[1]?.nsPath);
    let ready = false;
    const waiting = second.ready().then(() => (ready = true));
    await settle();
    expect(ready).toBe(false);
    maker.made[1]?.start();
    await waiting;
    await second[Symbol.asyncDispose]();
  });

  it('gives parallel RUNs a network each', async () => {
    const maker = fakeMaker({ readyAtOnce: true });
    const pool = poolOf({ prepare: maker.prepare, targetSize: 2 });
    for (let i = 0; i < 4; i++) pool.expect();
    await settle();
    const held = Array.from({ length: 4 }, () => pool.acquire(request()));
    expect(new Set(held.map((n) => n.nsPath)).size).toBe(4);
    expect(pool.stats()).toMatchObject({ taken: 2, madeOnDemand: 2 });
    for (const n of held) await n[Symbol.asyncDispose]();
  });

  it("reports a pooled network's failure to the RUN that took it, naming its command, and stops filling", async () => {
    const maker = fakeMaker();
    const pool = poolOf({ prepare: maker.prepare, targetSize: 1 });
    pool.expect();
    pool.expect();
    await runFirst(pool, maker);
    const second = pool.acquire(request(['make', 'all']));
    maker.made[1]?.fail('cannot open tap device');
    const err = await second.ready().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecError);
    expect((err as ExecError).message).toBe(
      'Cannot set up the network of ["make","all"]: slirp4netns ended before the network was ready: cannot open tap device',
    );
    await second[Symbol.asyncDispose]();
    pool.expect();
    await settle();
    expect(maker.made).toHaveLength(2); // no refill after a failure
  });

  it('skips a pooled network whose slirp4netns ended while idle', async () => {
    const maker = fakeMaker({ readyAtOnce: true });
    const pool = poolOf({ prepare: maker.prepare, targetSize: 1 });
    pool.expect();
    await settle();
    const idle = maker.made[0];
    if (idle === undefined) throw new Error('the pool made no network');
    idle.ended = true;
    const next = pool.acquire(request());
    expect(next.nsPath).not.toBe(idle.nsPath);
    expect(pool.stats()).toMatchObject({ madeOnDemand: 1, taken: 0 });
    await next[Symbol.asyncDispose]();
  });

  it('turns a namespace that cannot be made into the RUN’s ExecError', () => {
    const pool = poolOf({
      prepare: () => {
        throw new NetworkStartFailure('cannot create a network namespace', 'Operation not permitted');
      },
    });
    expect(() => pool.acquire(request(['apt-get', 'update']))).toThrow(
      'Cannot set up the network of ["apt-get","update"]: cannot create a network namespace: Operation not permitted',
    );
  });

  it('releases its ready networks once no RUN held one for the idle time, and fills again for the next expected RUNs', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const maker = fakeMaker({ readyAtOnce: true });
    const pool = poolOf({ prepare: maker.prepare, targetSize: 2, idleMs: 1000 });
    for (let i = 0; i < 4; i++) pool.expect();
    const long = pool.acquire(request());
    await long.ready();
    await useNetwork(pool);
    await settle();
    expect(pool.stats().idle).toBe(2);
    vi.advanceTimersByTime(5000); // a RUN still holds a network: the builder is not idle
    expect(pool.stats().idle).toBe(2);
    await long[Symbol.asyncDispose]();
    vi.advanceTimersByTime(999);
    expect(pool.stats().idle).toBe(2);
    vi.advanceTimersByTime(1);
    await settle();
    // The two expected RUNs never came: their networks go, and they are expected no more.
    expect(pool.stats().idle).toBe(0);
    expect(maker.made.every((n) => n.stops === 1)).toBe(true);
    await useNetwork(pool);
    await settle();
    expect(pool.stats().idle).toBe(0);
    pool.expect();
    pool.expect();
    await settle();
    expect(pool.stats().idle).toBe(2);
  });

  it('tears down every network on dispose, waits for it, and refuses RUNs after', async () => {
    const maker = fakeMaker({ readyAtOnce: true });
    const pool = createNetworkPool({ prepare: maker.prepare, targetSize: 2 });
    for (let i = 0; i < 3; i++) pool.expect();
    await useNetwork(pool);
    await settle();
    await pool[Symbol.asyncDispose]();
    expect(maker.made.map((n) => n.stops)).toEqual([1, 1, 1]);
    expect(pool.stats()).toMatchObject({ idle: 0, stopping: 0 });
    expect(() => pool.acquire(request())).toThrow('the network pool is closed');
  });
});
