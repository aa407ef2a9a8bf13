import { describe, expect, it } from 'vitest';
import { digestOf, type Digest } from '../../../base/digest.js';
import type { ProgressEvent } from '../../../base/progress.js';
import { hostPlatform } from '../../../base/oci.js';
import { createVertex, type Vertex } from '../../../solver/graph/index.js';
import { createSolver, type JobContext, type OpRunner, type SourcePin } from '../../../solver/index.js';
import { MemoryCacheKeyStorage } from '../../fakes/memory-cache-key-storage.js';
import { vertexKey } from '../../fakes/vertex-key.js';

const platform = hostPlatform();

function execVertex(name: string, inputs: Vertex[] = []): Vertex {
  return createVertex(
    { kind: 'exec', meta: { args: ['sh', '-c', name], env: [], cwd: '/', user: '' }, mounts: [], network: 'default', security: 'sandbox', platform },
    inputs.map((vertex) => ({ vertex, output: 0 })),
    { name },
  );
}

/** A runner whose cache hits are lazy (`lazy:<value>`): loading turns them into the value, or fails for broken names. */
class LazyRunner implements OpRunner<string> {
  readonly runs: string[] = [];
  readonly loads: string[] = [];
  readonly storage = new MemoryCacheKeyStorage();
  readonly broken = new Set<string>();
  pin(v: Vertex): Promise<SourcePin> {
    return Promise.reject(new Error(`${v.metadata.name} is no source`));
  }
  lookup(_v: Vertex, key: Digest): Promise<string | undefined> {
    return Promise.resolve(this.storage.lookup(key)?.resultId ?? undefined);
  }
  run(v: Vertex, _key: Digest, inputs: readonly string[]): Promise<string> {
    if (inputs.some((i) => i.startsWith('lazy:'))) throw new Error(`${v.metadata.name} got an unloaded input`);
    this.runs.push(v.metadata.name);
    return Promise.resolve(`${v.metadata.name}(${inputs.join(',')})`);
  }
  contentDigest(_v: Vertex, result: string): Promise<Digest> {
    return Promise.resolve(digestOf(result));
  }
  selectedContentDigest(): Promise<Digest | undefined> {
    return Promise.resolve(undefined);
  }
  load(v: Vertex, result: string): Promise<string | undefined> {
    if (!result.startsWith('lazy:')) return Promise.resolve(result);
    this.loads.push(v.metadata.name);
    return Promise.resolve(this.broken.has(v.metadata.name) ? undefined : result.slice('lazy:'.length));
  }
  async cacheAll(...vertices: Vertex[]): Promise<void> {
    for (const v of vertices) await this.storage.record(vertexKey(v), { resultId: `lazy:${v.metadata.name}-cached`, description: v.metadata.name });
  }
}

function job(events: ProgressEvent[] = []): JobContext {
  return { id: 'test', signal: new AbortController().signal, progress: { emit: (e) => events.push(e) } };
}

describe('solver with lazy cache hits (OpRunner.load)', () => {
  it('returns a cached root as it was found, loading nothing', async () => {
    const runner = new LazyRunner();
    const base = execVertex('base');
    const top = execVertex('top', [base]);
    await runner.cacheAll(base, top);
    const { result, vertices } = await createSolver(runner, { storage: runner.storage }).solve(top, job());
    expect(result).toBe('lazy:top-cached');
    expect(runner.loads).toEqual([]);
    expect(runner.runs).toEqual([]);
    expect(vertices.get(base.digest)?.result).toBeUndefined();
  });

  it('loads a cached input once before the vertices that run on it', async () => {
    const runner = new LazyRunner();
    const base = execVertex('base');
    const left = execVertex('left', [base]);
    const right = execVertex('right', [base]);
    await runner.cacheAll(base);
    const { result, vertices } = await createSolver(runner, { storage: runner.storage }).solve(execVertex('top', [left, right]), job());
    expect(result).toBe('top(left(base-cached),right(base-cached))');
    expect(runner.loads).toEqual(['base']);
    expect(vertices.get(base.digest)?.result).toBe('base-cached');
  });

  it('runs a vertex whose cached result cannot be loaded, loading its own inputs instead', async () => {
    const runner = new LazyRunner();
    const base = execVertex('base');
    const mid = execVertex('mid', [base]);
    await runner.cacheAll(base, mid);
    runner.broken.add('mid');
    const events: ProgressEvent[] = [];
    const { result, vertices } = await createSolver(runner, { storage: runner.storage }).solve(execVertex('top', [mid]), job(events));
    expect(result).toBe('top(mid(base-cached))');
    expect(runner.loads).toEqual(['mid', 'base']);
    expect(runner.runs).toEqual(['mid', 'top']);
    // The outcome holds the result in use, not the unusable hit.
    expect(vertices.get(mid.digest)?.result).toBe('mid(base-cached)');
    expect(events.some((e) => e.type === 'vertex.completed' && e.name === 'mid')).toBe(true);
  });

  it('loads the root when asked to, and runs it when its hit is unusable', async () => {
    const runner = new LazyRunner();
    const base = execVertex('base');
    const top = execVertex('top', [base]);
    await runner.cacheAll(base, top);
    expect((await createSolver(runner, { storage: runner.storage }).solve(top, job(), { load: true })).result).toBe('top-cached');
    runner.broken.add('top');
    expect((await createSolver(runner, { storage: runner.storage }).solve(top, job(), { load: true })).result).toBe('top(base-cached)');
    expect(runner.runs).toEqual(['top']);
  });
});
