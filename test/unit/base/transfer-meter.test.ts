import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { meterTransfer } from '../../../base/transfer-meter.js';

describe('meterTransfer', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0, toFake: ['Date'] }));
  afterEach(() => vi.useRealTimers());

  it('passes the bytes through and reports the count at most once per interval', async () => {
    const reports: number[] = [];
    const chunks = ['aaaa', 'bb', 'cccccc', 'd'];
    const source = Readable.from(
      (async function* () {
        for (const c of chunks) {
          yield Buffer.from(c);
          vi.setSystemTime(Date.now() + 60);
        }
      })(),
    );
    expect(await text(meterTransfer(source, (n) => reports.push(n), 100))).toBe('aaaabbccccccd');
    // First chunk at 0 ms, then 60 ms (too soon), 120 ms, 180 ms (too soon).
    expect(reports).toEqual([4, 12]);
  });

  it('fails the metered stream with the error of its source', async () => {
    const source = new Readable({ read() {} });
    const metered = meterTransfer(source, () => undefined);
    source.push('x');
    source.destroy(new Error('connection reset'));
    await expect(text(metered)).rejects.toThrow('connection reset');
  });
});
