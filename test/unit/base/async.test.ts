import { describe, expect, it } from 'vitest';
import { mapLimit, settleAll } from '../../../base/async.js';

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('mapLimit', () => {
  it('keeps order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await tick(n);
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });

  it('starts nothing after the first failure, waits for running calls, and rejects with that failure', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const run = mapLimit([0, 1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      if (n === 0) {
        await tick(1);
        throw new Error('first');
      }
      await tick(n === 1 ? 20 : 1);
      finished.push(n);
      return n;
    });
    await expect(run).rejects.toThrow('first');
    expect(started).toEqual([0, 1]);
    expect(finished).toEqual([1]);
  });

  it('handles no items', async () => {
    expect(await mapLimit([], 4, () => Promise.resolve(1))).toEqual([]);
  });
});

describe('settleAll', () => {
  it('waits for every promise before rejecting', async () => {
    let slowDone = false;
    const slow = tick(10).then(() => {
      slowDone = true;
    });
    await expect(settleAll([Promise.reject(new Error('x')), slow])).rejects.toThrow('x');
    expect(slowDone).toBe(true);
  });
});
