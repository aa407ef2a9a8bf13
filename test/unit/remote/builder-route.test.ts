import { describe, expect, it } from 'vitest';
import { parseNodeAddress } from '../../../remote/address.js';
import { rankNodes, resolveNodes, type BuilderSpec, type LookupAll, type NodeTarget } from '../../../remote/node-ranking.js';
import { pickNode, runOnNode } from '../../../remote/builder-route.js';

const spec = (endpoints: readonly string[]): BuilderSpec => ({
  name: 'ci',
  nodes: endpoints.map((endpoint, i) => ({ name: `ci${i}`, endpoint })),
  tls: {},
  token: undefined,
});

const targets = (n: number): NodeTarget[] =>
  Array.from({ length: n }, (_, i) => ({ node: `ci${i}`, connection: { address: `tcp://10.0.0.${i + 1}:8375`, tls: {}, token: undefined } }));

const keys = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ context: `/src/project-${i}`, dockerfile: `/src/project-${i}/Dockerfile`, target: '' }));
const first = (ts: readonly NodeTarget[], key: string): string => rankNodes(ts, key)[0]?.connection.address ?? '';

describe('rankNodes (rendezvous hashing)', () => {
  it('ranks the servers the same way for the same key, whatever order they are listed in', () => {
    const ts = targets(5);
    for (const key of keys.slice(0, 50)) expect(rankNodes([...ts].reverse(), key)).toEqual(rankNodes(ts, key));
  });

  it('spreads keys over every server', () => {
    const ts = targets(4);
    const counts = new Map<string, number>();
    for (const key of keys) counts.set(first(ts, key), (counts.get(first(ts, key)) ?? 0) + 1);
    expect(counts.size).toBe(4);
    for (const c of counts.values()) expect(c).toBeGreaterThan(keys.length / 4 / 2);
  });

  it('moves only the builds of a removed server, each to its second choice', () => {
    const ts = targets(5);
    const removed = ts[2]?.connection.address;
    const rest = ts.filter((t) => t.connection.address !== removed);
    let moved = 0;
    for (const key of keys) {
      const before = rankNodes(ts, key).map((t) => t.connection.address);
      const after = first(rest, key);
      if (before[0] === removed) {
        moved++;
        expect(after).toBe(before[1]);
      } else expect(after).toBe(before[0]);
    }
    expect(moved).toBeGreaterThan(0);
  });

  it('moves only the builds a new server ranks first, to it', () => {
    const ts = targets(4);
    const grown = targets(5);
    for (const key of keys) {
      const after = first(grown, key);
      if (after !== 'tcp://10.0.0.5:8375') expect(after).toBe(first(ts, key));
    }
  });
});

describe('resolveNodes', () => {
  it('makes a server of every address a dns+tcp name resolves to, asking again each time', async () => {
    let answer: readonly string[] = ['127.0.0.3', '127.0.0.2', '::1', '127.0.0.2'];
    const asked: string[] = [];
    const lookup: LookupAll = async (host) => {
      asked.push(host);
      return answer;
    };
    const s = spec(['tcp://10.1.1.1:1234', 'dns+tcp://builders.test:9000']);
    const r = await resolveNodes(s, { lookup });
    expect(r.targets.map((t) => [t.node, t.connection.address, t.connection.serverName])).toEqual([
      ['ci0', 'tcp://10.1.1.1:1234', undefined],
      ['ci1@127.0.0.2', 'tcp://127.0.0.2:9000', 'builders.test'],
      ['ci1@127.0.0.3', 'tcp://127.0.0.3:9000', 'builders.test'],
      ['ci1@::1', 'tcp://[::1]:9000', 'builders.test'],
    ]);
    answer = ['127.0.0.4'];
    expect((await resolveNodes(s, { lookup })).targets.map((t) => t.connection.address)).toEqual(['tcp://10.1.1.1:1234', 'tcp://127.0.0.4:9000']);
    expect(asked).toEqual(['builders.test', 'builders.test']);
  });

  it('reports a name that does not resolve as a node that is down', async () => {
    const lookup: LookupAll = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.test'), { code: 'ENOTFOUND' });
    };
    const r = await resolveNodes(spec(['dns+tcp://nowhere.test:1']), { lookup });
    expect(r.targets).toEqual([]);
    expect(r.failures[0]?.error.message).toBe('Cannot resolve "nowhere.test" of node ci0 of builder ci: getaddrinfo ENOTFOUND nowhere.test');
  });
});

describe('pickNode', () => {
  const signal = new AbortController().signal;

  it('passes over servers that fail their health check, in the order of the build key', async () => {
    const s = spec(['tcp://10.0.0.1:1', 'tcp://10.0.0.2:1', 'tcp://10.0.0.3:1']);
    const { targets: ts } = await resolveNodes(s);
    const key = keys[7] ?? '';
    const ranking = rankNodes(ts, key).map((t) => t.connection.address);
    const down = new Set([ranking[0]]);
    const probed: string[] = [];
    const skipped: string[] = [];
    const t = await pickNode(s, key, {
      signal,
      probe: async (c) => {
        probed.push(c.address);
        if (down.has(c.address)) throw new Error(`nothing listens at ${c.address}`);
      },
      onSkip: (f) => skipped.push(f.endpoint),
    });
    expect(t.connection.address).toBe(ranking[1]);
    expect(probed).toEqual(ranking.slice(0, 2));
    expect(skipped).toEqual([ranking[0]]);
  });

  it('fails naming every server when none answers', async () => {
    const s = spec(['tcp://10.0.0.1:1', 'tcp://10.0.0.2:1']);
    const attempt = pickNode(s, 'k', { signal, probe: async (c) => Promise.reject(new Error(`down: ${c.address}`)) });
    await expect(attempt).rejects.toThrow('Cannot use builder "ci": no node answers: down: tcp://10.0.0.');
    await expect(attempt).rejects.toThrow(/10\.0\.0\.1.*10\.0\.0\.2|10\.0\.0\.2.*10\.0\.0\.1/);
  });

  it('uses a builder of one server without a health check (its errors are the command\'s)', async () => {
    const t = await pickNode(spec(['unix:///run/one.sock']), 'k', { signal, probe: async () => Promise.reject(new Error('probed')) });
    expect(t.connection.address).toBe('unix:///run/one.sock');
  });
});

describe('runOnNode', () => {
  const signal = new AbortController().signal;
  const unreached = (err: unknown): boolean => err instanceof Error && err.message.startsWith('unreached');
  const up = async (): Promise<void> => undefined;

  it('gives the build to the next server when the one picked went down after its health check', async () => {
    const s = spec(['tcp://10.0.0.1:1', 'tcp://10.0.0.2:1', 'tcp://10.0.0.3:1']);
    const key = keys[3] ?? '';
    const ranking = rankNodes((await resolveNodes(s)).targets, key).map((t) => t.connection.address);
    const tried: string[] = [];
    const skipped: string[] = [];
    const r = await runOnNode(s, key, { signal, probe: up, unreached, onSkip: (f) => skipped.push(f.endpoint) }, async (t) => {
      tried.push(t.connection.address);
      if (t.connection.address === ranking[0]) throw new Error(`unreached ${t.connection.address}`);
      return 'built';
    });
    expect(r.result).toBe('built');
    expect(r.target.connection.address).toBe(ranking[1]);
    expect(tried).toEqual(ranking.slice(0, 2));
    expect(skipped).toEqual([ranking[0]]);
  });

  it('fails with the build error when the build started, or when no server is left, naming those tried', async () => {
    const s = spec(['tcp://10.0.0.1:1', 'tcp://10.0.0.2:1']);
    await expect(runOnNode(s, 'k', { signal, probe: up, unreached }, async () => Promise.reject(new Error('connection lost')))).rejects.toThrow(/^connection lost$/);
    const all = runOnNode(s, 'k', { signal, probe: up, unreached }, async (t) => Promise.reject(new Error(`unreached ${t.connection.address}`)));
    await expect(all).rejects.toThrow(/unreached tcp:\/\/10\.0\.0\.\d:1/);
    const one = runOnNode(spec(['unix:///run/one.sock']), 'k', { signal, probe: up, unreached }, async () => Promise.reject(new Error('unreached one')));
    await expect(one).rejects.toThrow(/^unreached one$/);
  });
});

describe('parseNodeAddress', () => {
  it('reads dns+tcp names besides unix and tcp addresses', () => {
    expect(parseNodeAddress('dns+tcp://builders.internal:9000')).toEqual({ kind: 'dns', host: 'builders.internal', port: 9000, text: 'dns+tcp://builders.internal:9000' });
    expect(parseNodeAddress('dns+tcp://builders')).toMatchObject({ port: 8375 });
    expect(parseNodeAddress('tcp://127.0.0.1:1')).toMatchObject({ kind: 'tcp' });
    expect(() => parseNodeAddress('dns+tcp://bad_name:1')).toThrow(/expected dns\+tcp/);
    expect(() => parseNodeAddress('dns+tcp://host:0')).toThrow(/bad port/);
    expect(() => parseNodeAddress('http://x')).toThrow('Cannot use address "http://x": expected tcp://HOST:PORT, unix:///PATH or dns+tcp://NAME:PORT');
  });
});
