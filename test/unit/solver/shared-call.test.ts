import { describe, expect, it } from 'vitest';
import { SharedCalls } from '../../../solver/shared-call.js';

/** started records each start of a call and hands out its signal; release settles it. */
function blockingCall(): { fn: (signal: AbortSignal) => Promise<string>; starts: AbortSignal[]; release: (v: string) => void } {
  const starts: AbortSignal[] = [];
  let release: (v: string) => void = () => undefined;
  const fn = (signal: AbortSignal): Promise<string> => {
    starts.push(signal);
    return new Promise<string>((resolve, reject) => {
      release = resolve;
      signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
    });
  };
  return { fn, starts, release: (v) => release(v) };
}

describe('SharedCalls', () => {
  it('runs one call for callers of the same key and gives each its result', async () => {
    const calls = new SharedCalls<string>();
    const call = blockingCall();
    const first = calls.run('k', call.fn, new AbortController().signal);
    const second = calls.run('k', call.fn, new AbortController().signal);
    expect([first.joined, second.joined]).toEqual([false, true]);
    call.release('done');
    expect(await Promise.all([first.promise, second.promise])).toEqual(['done', 'done']);
    expect(call.starts).toHaveLength(1);
    expect(calls.size).toBe(0);
  });

  it('keeps the call running when the caller that started it is interrupted while another waits', async () => {
    const calls = new SharedCalls<string>();
    const call = blockingCall();
    const starter = new AbortController();
    const first = calls.run('k', call.fn, starter.signal);
    const second = calls.run('k', call.fn, new AbortController().signal);
    const reason = new Error('first build cancelled');
    starter.abort(reason);
    await expect(first.promise).rejects.toBe(reason);
    expect(call.starts[0]?.aborted).toBe(false);
    call.release('still made');
    expect(await second.promise).toBe('still made');
  });

  it('stops the call when every caller was interrupted', async () => {
    const calls = new SharedCalls<string>();
    const call = blockingCall();
    const a = new AbortController();
    const b = new AbortController();
    const first = calls.run('k', call.fn, a.signal);
    const second = calls.run('k', call.fn, b.signal);
    a.abort(new Error('a'));
    b.abort(new Error('b'));
    await expect(first.promise).rejects.toThrow('a');
    await expect(second.promise).rejects.toThrow('b');
    expect(call.starts[0]?.aborted).toBe(true);
    // The stopped call is gone: a new caller starts afresh.
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(calls.run('k', call.fn, new AbortController().signal).joined).toBe(false);
    call.release('again');
  });

  it('never stops a call for a caller that has no signal', async () => {
    const calls = new SharedCalls<string>();
    const call = blockingCall();
    const a = new AbortController();
    const first = calls.run('k', call.fn, a.signal);
    const second = calls.run('k', call.fn);
    a.abort(new Error('a'));
    await expect(first.promise).rejects.toThrow('a');
    expect(call.starts[0]?.aborted).toBe(false);
    call.release('kept');
    expect(await second.promise).toBe('kept');
  });
});
