import { describe, expect, it } from 'vitest';
import { digestOf, type Digest } from '../../../base/digest.js';
import { SolveError } from '../../../base/errors.js';
import type { ProgressEvent } from '../../../base/progress.js';
import { hostPlatform } from '../../../base/oci.js';
import { createVertex, type Vertex } from '../../../solver/graph/index.js';
import { createSolver, type JobContext, type OpRunner } from '../../../solver/index.js';

const platform = hostPlatform();

function execVertex(name: string, inputs: Vertex[] = [], extra = '', ignoreCache = false): Vertex {
  return createVertex(
    { kind: 'exec', meta: { args: ['sh', '-c', name + extra], env: [], cwd: '/', user: '' }, mounts: [], network: 'default', security: 'sandbox', platform },
    inputs.map((vertex) => ({ vertex, output: 0 })),
    { name, ...(ignoreCache ? { ignoreCache } : {}) },
  );
}

/** A fake runner: results are strings, runs are counted, some ops fail or wait for release. */
class FakeRunner implements OpRunner<string> {
  readonly runs = new Map<string, number>();
  readonly cache = new Map<Digest, string>();
  readonly failing = new Set<string>();
  readonly blocking = new Map<string, Promise<void>>();
  readonly cancelled: string[] = [];
  /** What a vertex makes instead of `name(inputs)`, to make a run produce other files. */
  readonly makes = new Map<string, string>();
  /** Vertices that read only part of an input: name → input index → the part of its result they read. */
  readonly reads = new Map<string, ReadonlyMap<number, (result: string) => string>>();
  cacheKey(v: Vertex, inputKeys: readonly Digest[]): Promise<Digest> {
    return Promise.resolve(digestOf(JSON.stringify([v.metadata.name, inputKeys])));
  }
  lookup(_v: Vertex, key: Digest): Promise<string | undefined> {
    return Promise.resolve(this.cache.get(key));
  }
  async run(v: Vertex, key: Digest, inputs: readonly string[], job: JobContext): Promise<string> {
    this.runs.set(v.metadata.name, (this.runs.get(v.metadata.name) ?? 0) + 1);
    const block = this.blocking.get(v.metadata.name);
    if (block !== undefined) {
      await new Promise<void>((resolve, reject) => {
        job.signal.addEventListener('abort', () => {
          this.cancelled.push(v.metadata.name);
          reject(job.signal.reason);
        });
        void block.then(resolve);
      });
    }
    if (this.failing.has(v.metadata.name)) throw new Error(`${v.metadata.name} broke`);
    const out = this.makes.get(v.metadata.name) ?? `${v.metadata.name}(${inputs.join(',')})`;
    this.cache.set(key, out);
    return out;
  }
  contentDigest(_v: Vertex, result: string): Promise<Digest> {
    return Promise.resolve(digestOf(result));
  }
  link(_v: Vertex, key: Digest, result: string): Promise<void> {
    this.cache.set(key, result);
    return Promise.resolve();
  }
  async selectedContentDigest(v: Vertex, index: number, result: () => Promise<string | undefined>): Promise<Digest | undefined> {
    const part = this.reads.get(v.metadata.name)?.get(index);
    const files = part === undefined ? undefined : await result();
    return part === undefined || files === undefined ? undefined : digestOf(part(files));
  }
}

function job(events: ProgressEvent[] = []): JobContext {
  return { id: 'test', signal: new AbortController().signal, progress: { emit: (e) => events.push(e) } };
}

describe('solver', () => {
  it('runs each vertex once even when several users share it', async () => {
    const runner = new FakeRunner();
    const base = execVertex('base');
    const a = execVertex('a', [base]);
    const b = execVertex('b', [base]);
    const top = execVertex('top', [a, b]);
    const { result } = await createSolver(runner).solve(top, job());
    expect(result).toBe('top(a(base()),b(base()))');
    expect(runner.runs.get('base')).toBe(1);
  });

  it('serves a second solve from the cache without running anything and reports CACHED', async () => {
    const runner = new FakeRunner();
    const top = execVertex('top', [execVertex('base')]);
    await createSolver(runner).solve(top, job());
    const events: ProgressEvent[] = [];
    const again = await createSolver(runner).solve(top, job(events));
    expect(again.result).toBe('top(base())');
    expect(runner.runs.get('top')).toBe(1);
    // Like BuildKit, every vertex under the cache hit shows as CACHED, inputs first.
    expect(events.map((e) => (e.type === 'vertex.cached' ? e.name : e.type))).toEqual(['base', 'top']);
  });

  it('does not materialise the inputs of a cached vertex', async () => {
    const runner = new FakeRunner();
    const base = execVertex('base');
    const top = execVertex('top', [base]);
    await createSolver(runner).solve(top, job());
    runner.cache.clear();
    runner.cache.set(await runner.cacheKey(top, [await runner.cacheKey(base, [])]), 'cached-top');
    const { result } = await createSolver(runner).solve(top, job());
    expect(result).toBe('cached-top');
    expect(runner.runs.get('base')).toBe(1);
  });

  it('runs independent vertices concurrently', async () => {
    const runner = new FakeRunner();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    runner.blocking.set('left', gate);
    runner.blocking.set('right', gate);
    const started: string[] = [];
    const events: ProgressEvent[] = [];
    const j: JobContext = {
      ...job(events),
      progress: {
        emit: (e) => {
          if (e.type === 'vertex.started') started.push(e.name);
          if (started.length === 2) release();
        },
      },
    };
    const top = execVertex('top', [execVertex('left'), execVertex('right')]);
    const { result } = await createSolver(runner).solve(top, j);
    expect(result).toBe('top(left(),right())');
    expect(started.slice(0, 2).sort()).toEqual(['left', 'right']);
  });

  it('stops at the first failure, cancels running siblings, and reports the failing vertex', async () => {
    const runner = new FakeRunner();
    runner.failing.add('bad');
    runner.blocking.set('slow', new Promise<void>(() => undefined));
    const top = execVertex('top', [execVertex('slow'), execVertex('bad')]);
    const err = await createSolver(runner).solve(top, job()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SolveError);
    expect((err as SolveError).vertexName).toBe('bad');
    expect((err as SolveError).message).toContain('bad broke');
    expect(runner.cancelled).toEqual(['slow']);
    expect(runner.runs.has('top')).toBe(false);
  });

  it('runs a vertex that ignores the cache even when its dependent is cached, and keeps the dependent when the files are the same', async () => {
    const runner = new FakeRunner();
    const copy = (stage: Vertex): Vertex => execVertex('copy-from', [execVertex('base'), stage]);
    await createSolver(runner).solve(copy(execVertex('stage')), job());
    const events: ProgressEvent[] = [];
    const again = await createSolver(runner).solve(copy(execVertex('stage', [], '', true)), job(events));
    expect(runner.runs.get('stage')).toBe(2);
    expect(runner.runs.get('copy-from')).toBe(1);
    expect(again.result).toBe('copy-from(base(),stage())');
    expect(events.flatMap((e) => (e.type === 'vertex.cached' ? [e.name] : []))).toEqual(['base', 'copy-from']);
  });

  it('runs the dependents of a vertex that ignores the cache again when it made other files', async () => {
    const runner = new FakeRunner();
    const build = (ignoreCache: boolean): Vertex => execVertex('last', [execVertex('copy-from', [execVertex('base'), execVertex('stage', [], '', ignoreCache)])]);
    await createSolver(runner).solve(build(false), job());
    runner.makes.set('stage', 'stage-v2');
    const changed = await createSolver(runner).solve(build(true), job());
    expect(changed.result).toBe('last(copy-from(base(),stage-v2))');
    expect([runner.runs.get('stage'), runner.runs.get('copy-from'), runner.runs.get('last')]).toEqual([2, 2, 2]);
    // A later build with the usual cache records finds what the rerun made, not the results from before it.
    const usual = await createSolver(runner).solve(build(false), job());
    expect(usual.result).toBe('last(copy-from(base(),stage-v2))');
    expect(runner.runs.get('last')).toBe(2);
    // Ignoring the cache again with the same new files reuses the dependents made from them.
    await createSolver(runner).solve(build(true), job());
    expect([runner.runs.get('stage'), runner.runs.get('copy-from'), runner.runs.get('last')]).toEqual([3, 2, 2]);
  });

  it('finds a result by the content a vertex reads of an input when its key misses, as BuildKit\'s slow cache does', async () => {
    const runner = new FakeRunner();
    runner.reads.set('copy-from', new Map([[1, (r: string) => r]]));
    runner.makes.set('out', 'the same files');
    const build = (step: string): Vertex => execVertex('copy-from', [execVertex('base'), execVertex('out', [execVertex(step)])]);
    await createSolver(runner).solve(build('step-one'), job());
    const events: ProgressEvent[] = [];
    // Another step earlier in the stage: the stage's key changes, the files it makes do not.
    const again = await createSolver(runner).solve(build('step-two'), job(events));
    expect(runner.runs.get('out')).toBe(2);
    expect(runner.runs.get('copy-from')).toBe(1);
    expect(again.result).toBe('copy-from(base(),the same files)');
    expect(events.some((e) => e.type === 'vertex.cached' && e.name === 'copy-from')).toBe(true);
    // The key it missed by now finds the result too.
    await createSolver(runner).solve(build('step-two'), job());
    expect(runner.runs.get('out')).toBe(2);
  });

  it('gives different digests to ops that differ and the same to equal ones', () => {
    expect(execVertex('x').digest).toBe(execVertex('x').digest);
    expect(execVertex('x').digest).not.toBe(execVertex('x', [], ' ').digest);
    expect(execVertex('top', [execVertex('a')]).digest).not.toBe(execVertex('top', [execVertex('b')]).digest);
  });
});
