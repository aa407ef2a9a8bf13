import type { Client } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { OpenChannels } from '../../../remote/open-channels.js';

/** A client that only counts its closing: the channels' bookkeeping is what is tested. */
function fakeClient(closed: string[], name: string): Client {
  return { close: () => void closed.push(name) } as unknown as Client;
}

describe('open channels to builders', () => {
  it('closes a channel as soon as no call uses it, without a hold', () => {
    const closed: string[] = [];
    const channels = new OpenChannels();
    const a = channels.acquire('a', () => fakeClient(closed, 'a1'));
    const b = channels.acquire('a', () => fakeClient(closed, 'a2'));
    expect(b.client).toBe(a.client);
    a[Symbol.dispose]();
    expect(closed).toEqual([]);
    b[Symbol.dispose]();
    b[Symbol.dispose]();
    expect(closed).toEqual(['a1']);
    expect(channels.size).toBe(0);
  });

  it('keeps a released channel for the next call while a hold lasts, then closes what no call uses', () => {
    const closed: string[] = [];
    const channels = new OpenChannels();
    {
      using _hold = channels.hold();
      const probe = channels.acquire('node1', () => fakeClient(closed, 'n1'));
      probe[Symbol.dispose]();
      const build = channels.acquire('node1', () => fakeClient(closed, 'n1-again'));
      expect(closed).toEqual([]);
      expect(channels.size).toBe(1);
      build[Symbol.dispose]();
      channels.acquire('node2', () => fakeClient(closed, 'n2'))[Symbol.dispose]();
      expect(closed).toEqual([]);
    }
    expect(closed.sort()).toEqual(['n1', 'n2']);
    expect(channels.size).toBe(0);
  });

  it('gives the next call a new channel after one was discarded, closing the old one when its caller is done', () => {
    const closed: string[] = [];
    const channels = new OpenChannels();
    using _hold = channels.hold();
    const failing = channels.acquire('k', () => fakeClient(closed, 'old'));
    channels.discard('k');
    const next = channels.acquire('k', () => fakeClient(closed, 'new'));
    expect(next.client).not.toBe(failing.client);
    failing[Symbol.dispose]();
    expect(closed).toEqual(['old']);
    next[Symbol.dispose]();
    expect(closed).toEqual(['old']);
  });
});
