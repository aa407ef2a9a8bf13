import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostPlatform } from '../../base/oci.js';
import type { ProgressEvent } from '../../base/progress.js';
import { openStore, type Store } from '../../controller/store.js';
import { createLayeredView } from '../../cache/fs-view.js';
import type { CacheKeyStore } from '../../cache/index.js';
import { createNamespaceExecutor, type Executor } from '../../executor/index.js';
import { createRegistryClient } from '../../registry/lazy.js';
import { EMPTY_REGISTRY_CONFIG, type DisposableRegistryClient } from '../../registry/index.js';
import { createVertex, type Vertex } from '../../solver/graph/index.js';
import { createSolver } from '../../solver/index.js';
import { createImageResolver, createOpRunner, type OpDeps, type Ref } from '../../solver/ops/index.js';
import { seedBusybox, startRegistry, type TestRegistry } from '../fixtures/registry.js';
import { makeTempDir, type TempDir } from '../helpers/cli.js';

const platform = hostPlatform();

describe('op runners over a real store, registry and sandbox', () => {
  let registry: TestRegistry;
  let tmp: TempDir;
  let store: Store;
  let client: DisposableRegistryClient;
  let executor: Executor;
  let context: string;

  beforeAll(async () => {
    registry = await startRegistry();
    await seedBusybox(registry.host);
    tmp = await makeTempDir();
    store = await openStore(join(tmp.path, 'root'));
    client = createRegistryClient({ config: EMPTY_REGISTRY_CONFIG });
    executor = createNamespaceExecutor({ stateDir: join(tmp.path, 'exec') });
    context = join(tmp.path, 'ctx');
    await mkdir(join(context, 'dir/sub'), { recursive: true });
    await writeFile(join(context, 'dir/a.txt'), 'a');
    await writeFile(join(context, 'dir/sub/b.txt'), 'b');
    await writeFile(join(context, 'ignored.log'), 'x');
  });

  afterAll(async () => {
    await client?.close();
    await store?.[Symbol.asyncDispose]();
    await tmp?.[Symbol.asyncDispose]();
    await registry?.stop();
  });

  function graph(runText: string): Vertex {
    const image = createVertex({ kind: 'source', source: { type: 'image', ref: `${registry.host}/library/busybox:latest` }, platform }, [], { name: 'FROM busybox' });
    const local = createVertex({ kind: 'source', source: { type: 'local', name: 'context', includePatterns: ['dir/'], excludePatterns: [] }, platform }, [], {
      name: '[internal] load build context',
    });
    const copy = createVertex(
      { kind: 'file', base: 0, platform, actions: [{ action: 'copy', input: 1, sources: ['dir/'], dest: '/app/', excludes: [], extractArchives: false, parents: false }] },
      [{ vertex: image, output: 0 }, { vertex: local, output: 0 }],
      { name: 'COPY dir/ /app/' },
    );
    return createVertex(
      { kind: 'exec', meta: { args: ['/bin/sh', '-c', runText], env: ['PATH=/bin'], cwd: '/app', user: '' }, mounts: [{ type: 'bind', input: 0, dest: '/', output: 0, readonly: false }], network: 'none', security: 'sandbox', platform },
      [{ vertex: copy, output: 0 }],
      { name: `RUN ${runText}` },
    );
  }

  /** runnerDeps are the runner's parts over the test's store, registry and executor, with the test's changes. */
  function runnerDeps(changes: Partial<OpDeps> = {}): OpDeps {
    return {
      meta: store.meta,
      cacheKeys: store.cacheKeys,
      content: store.content,
      snapshotter: store.snapshotter,
      layerBlobs: store.layerBlobs,
      executor: () => Promise.resolve(executor),
      registry: () => Promise.resolve(client),
      images: createImageResolver({ client: () => Promise.resolve(client), meta: store.meta, progress: { emit: () => undefined }, pull: false }),
      contexts: new Map(),
      ...changes,
    };
  }

  async function solve(root: Vertex, events: ProgressEvent[], cacheKeys: CacheKeyStore = store.cacheKeys): Promise<string | null> {
    // Disposing the runner waits for the last-use dates of the cache hits.
    await using runner = createOpRunner(runnerDeps({ cacheKeys, contexts: new Map([['context', { dir: context, isExcluded: (p: string) => p.endsWith('.log') }]]) }));
    const { result } = await createSolver<Ref>(runner, { storage: cacheKeys }).solve(root, { id: 't', signal: new AbortController().signal, progress: { emit: (e) => events.push(e) } });
    if (result.kind !== 'snapshot') throw new Error('expected a snapshot');
    return result.snapshotId;
  }

  it('stops looking up a base image when the build is interrupted', async () => {
    // A registry that never answers: the lookup must end with the build's interrupt, not its own time limit.
    const hanging = {
      resolve: (_ref: string, options: { signal: AbortSignal }) =>
        new Promise<never>((_resolve, reject) => options.signal.addEventListener('abort', () => reject(options.signal.reason as Error), { once: true })),
      checked: () => Promise.resolve(false),
      moved: () => Promise.resolve(false),
      [Symbol.asyncDispose]: () => Promise.resolve(),
    };
    await using runner = createOpRunner(runnerDeps({ images: hanging }));
    const image = createVertex({ kind: 'source', source: { type: 'image', ref: 'stuck.example/app:1' }, platform }, [], { name: 'FROM stuck' });
    const interrupt = new AbortController();
    const lookup = runner.lookup(image, image.digest, { id: 't', signal: interrupt.signal, progress: { emit: () => undefined } });
    const reason = new Error('build cancelled');
    interrupt.abort(reason);
    await expect(lookup).rejects.toBe(reason);
  });

  it('tells the executor once of a RUN whose keys missed, with its network, and of none found in the cache', async () => {
    const told: string[] = [];
    await using runner = createOpRunner(
      runnerDeps({ executor: () => Promise.resolve({ run: (request, options) => executor.run(request, options), expect: (network) => void told.push(network) }) }),
    );
    const job = { id: 't', signal: new AbortController().signal, progress: { emit: () => undefined } };
    const run = graph('echo expected > /expected');
    const copy = run.inputs[0]?.vertex;
    if (copy === undefined) throw new Error('the RUN has no input');
    // Missed under its usual key, then under its content key: one RUN to come.
    expect(await runner.lookup(run, run.digest, job)).toBeUndefined();
    expect(await runner.lookup(run, copy.digest, job)).toBeUndefined();
    // A COPY that missed runs no process.
    expect(await runner.lookup(copy, copy.digest, job)).toBeUndefined();
    await new Promise((resolve) => setImmediate(resolve));
    expect(told).toEqual(['none']);
  });

  it('pulls the base, copies the context and runs a process, leaving each change in its own layer', async () => {
    const events: ProgressEvent[] = [];
    const top = await solve(graph('find /app -type f | sort > /listing'), events);
    const chain = store.snapshotter.chain(top);
    expect(chain.length).toBe(3);
    const view = createLayeredView(chain.map((id) => store.snapshotter.dir(id)).reverse());
    const listing = await view.lookup('/listing', { followLast: true });
    expect(await readFile(listing?.hostPath ?? '', 'utf8')).toBe('/app/a.txt\n/app/sub/b.txt\n');
    // The test busybox has no /dev, /proc or /sys: like BuildKit's, the RUN's layer gets them as empty directories.
    expect((await readdir(store.snapshotter.dir(chain[2] ?? ''))).sort()).toEqual(['dev', 'listing', 'proc', 'sys']);
    expect(events.filter((e) => e.type === 'vertex.started').map((e) => (e.type === 'vertex.started' ? e.name : ''))).toEqual(
      expect.arrayContaining(['FROM busybox', 'COPY dir/ /app/', 'RUN find /app -type f | sort > /listing']),
    );
  });

  it('reuses everything when nothing changed, and re-keys the copy when a selected file changes', async () => {
    const events: ProgressEvent[] = [];
    await solve(graph('find /app -type f | sort > /listing'), events);
    // The cached RUN needs none of its inputs: nothing starts, not even the context read.
    expect(events.filter((e) => e.type === 'vertex.started')).toEqual([]);

    await writeFile(join(context, 'ignored.log'), 'changed but ignored');
    const again: ProgressEvent[] = [];
    await solve(graph('find /app -type f | sort > /listing'), again);
    expect(again.some((e) => e.type === 'vertex.started' && e.name.startsWith('RUN'))).toBe(false);

    await writeFile(join(context, 'dir/a.txt'), 'a2');
    const changed: ProgressEvent[] = [];
    await solve(graph('find /app -type f | sort > /listing'), changed);
    expect(changed.some((e) => e.type === 'vertex.started' && e.name === 'COPY dir/ /app/')).toBe(true);
    expect(changed.some((e) => e.type === 'vertex.cached' && e.name === 'FROM busybox')).toBe(true);
  });

  it('dates the use of every cache hit by the end of the solve, once a minute at most, and fails the solve when a date cannot be written', async () => {
    const root = graph('echo dated > /dated');
    await solve(root, []);
    const lastUses = (): Map<string, number> => new Map([...store.meta.cacheRecords.getRange()].map(({ key, value }) => [String(key), value.lastUsedAt]));
    // Used again within the minute: the dates stay, nothing is written.
    const fresh = lastUses();
    await solve(root, []);
    expect(lastUses()).toEqual(fresh);
    // Used two minutes later: the hits are dated now.
    const aged = async (): Promise<Map<string, number>> => {
      for (const { key, value } of [...store.meta.cacheRecords.getRange()]) await store.meta.cacheRecords.put(key, { ...value, lastUsedAt: value.lastUsedAt - 120_000 });
      return lastUses();
    };
    const before = await aged();
    const started = Date.now();
    await solve(root, []);
    const moved = [...lastUses()].filter(([key, used]) => used >= started && (before.get(key) ?? Infinity) < started);
    expect(moved.length).toBeGreaterThan(0);
    await aged();
    const failing: CacheKeyStore = { ...store.cacheKeys, markUsed: () => Promise.reject(new Error('No space left on device')) };
    await expect(solve(root, [], failing)).rejects.toThrow(/Cannot date the last use of cache record sha256:/);
  });
});
