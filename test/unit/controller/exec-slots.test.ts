import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { createExecSlots, defaultParallelism } from '../../../controller/exec-slots.js';

describe('how many builds and RUN processes run at once', () => {
  it('defaults to four per CPU, at least 8, for builds and RUN processes alike', () => {
    expect(defaultParallelism()).toBe(Math.max(8, 4 * availableParallelism()));
    expect(createExecSlots().concurrency).toBe(defaultParallelism());
    expect(createExecSlots(3).concurrency).toBe(3);
  });
});
