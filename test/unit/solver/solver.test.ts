import { describe, expect, it } from 'vitest';
import { digestOf, type Digest } from '../../../base/digest.js';
import { SolveError } from '../../../base/errors.js';
import type { ProgressEvent } from '../../../base/progress.js';
import { hostPlatform } from '../../../base/oci.js';
import { createVertex, type FileOp, type Vertex } from '../../../solver/graph/index.js';
import { computeVertexKey, createSolver, type JobContext, type OpRunner, type SelectedInput, type SourcePin } from '../../../solver/index.js';
import { SharedCalls } from '../../../solver/shared-call.js';
import { MemoryCacheKeyStorage } from '../../fakes/memory-cache-key-storage.js';
import { vertexKey } from '../../fakes/vertex-key.js';

const platform = hostPlatform();

function execVertex(name: string, inputs: Vertex[] = [], extra = '', ignoreCache = false): Vertex {
  return createVertex(
    { kind: 'exec', meta: { args: ['sh', '-c', name + extra], env: [], cwd: '/', user: '' }, mounts: [], network: 'default', security: 'sandbox', platform },
    inputs.map((vertex) => ({ vertex, output: 0 })),
    { name, ...(ignoreCache ? { ignoreCache } : {}) },
  );
}

/** copyVertex copies /out of its second input onto its first, as COPY --from does: it reads only that path of it. */
function copyVertex(name: string, base: Vertex, from: Vertex): Vertex {
  const copy: FileOp['actions'][number] = { action: 'copy', input: 1, sources: ['/out'], dest: '/', excludes: [], extractArchives: false, parents: false };
  return createVertex({ kind: 'file', base: 0, actions: [copy], platform }, [{ vertex: base, output: 0 }, { vertex: from, output: 0 }], { name });
}

/** A fake runner: results are strings, runs are counted, some ops fail or wait for release. */
class FakeRunner implements OpRunner<string> {
  readonly runs = new Map<string, number>();
  readonly storage = new MemoryCacheKeyStorage();
  readonly failing = new Set<string>();
  readonly blocking = new Map<string, Promise<void>>();
  readonly cancelled: string[] = [];
  /** What a vertex makes instead of `name(inputs)`, to make a run produce other files. */
  readonly makes = new Map<string, string>();
  pin(v: Vertex): Promise<SourcePin> {
    return Promise.reject(new Error(`${v.metadata.name} is no source`));
  }
  lookup(_v: Vertex, key: Digest): Promise<string | undefined> {
    return Promise.resolve(this.storage.lookup(key)?.resultId ?? undefined);
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
    await this.storage.record(key, { resultId: out, description: v.metadata.name });
    return out;
  }
  contentDigest(_v: Vertex, result: string): Promise<Digest> {
    return Promise.resolve(digestOf(result));
  }
  /** The files read are the input's whole result here: what a copy of /out reads changes when the result does. */
  async selectedContentDigest(_v: Vertex, input: SelectedInput<string>): Promise<Digest | undefined> {
    const files = await input.result();
    return files === undefined ? undefined : digestOf(`${input.selector.join(',')} of ${files}`);
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
    const { result } = await createSolver(runner, { storage: runner.storage }).solve(top, job());
    expect(result).toBe('top(a(base()),b(base()))');
    expect(runner.runs.get('base')).toBe(1);
  });

  it('serves a second solve from the cache without running anything and reports CACHED', async () => {
    const runner = new FakeRunner();
    const top = execVertex('top', [execVertex('base')]);
    await createSolver(runner, { storage: runner.storage }).solve(top, job());
    const events: ProgressEvent[] = [];
    const again = await createSolver(runner, { storage: runner.storage }).solve(top, job(events));
    expect(again.result).toBe('top(base())');
    expect(runner.runs.get('top')).toBe(1);
    // Like BuildKit, every vertex under the cache hit shows as CACHED, inputs first.
    expect(events.map((e) => (e.type === 'vertex.cached' ? e.name : e.type))).toEqual(['vertex.planned', 'vertex.planned', 'base', 'top']);
  });

  it('reports every vertex it will visit before any starts, as BuildKit does when it loads the graph', async () => {
    const runner = new FakeRunner();
    const base = execVertex('base');
    const top = execVertex('top', [execVertex('a', [base]), execVertex('b', [base])]);
    const events: ProgressEvent[] = [];
    await createSolver(runner, { storage: runner.storage }).solve(top, job(events));
    const planned = events.filter((e) => e.type === 'vertex.planned').map((e) => e.name);
    expect(planned.sort()).toEqual(['a', 'b', 'base', 'top']);
    expect(events.slice(0, 4).every((e) => e.type === 'vertex.planned')).toBe(true);
    // Each ends too: a view counting the planned vertices finishes.
    expect(events.filter((e) => e.type === 'vertex.completed').map((e) => e.name).sort()).toEqual(planned);
  });

  it('does not materialise the inputs of a cached vertex', async () => {
    const runner = new FakeRunner();
    const base = execVertex('base');
    const top = execVertex('top', [base]);
    await createSolver(runner, { storage: runner.storage }).solve(top, job());
    runner.storage.results.clear();
    await runner.storage.record(vertexKey(top), { resultId: 'cached-top', description: 'top' });
    const { result } = await createSolver(runner, { storage: runner.storage }).solve(top, job());
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
    const { result } = await createSolver(runner, { storage: runner.storage }).solve(top, j);
    expect(result).toBe('top(left(),right())');
    expect(started.slice(0, 2).sort()).toEqual(['left', 'right']);
  });

  it('keeps a step two builds share running when the build that started it is cancelled', async () => {
    const runner = new FakeRunner();
    let release: () => void = () => undefined;
    runner.blocking.set('shared', new Promise<void>((resolve) => (release = resolve)));
    const shared = new SharedCalls<string>();
    const solver = createSolver(runner, { storage: runner.storage, shared });
    const first = new AbortController();
    let startedFirst: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (startedFirst = resolve));
    const firstRun = solver.solve(execVertex('shared'), {
      ...job(),
      signal: first.signal,
      progress: { emit: (e) => e.type === 'vertex.started' && startedFirst() },
    });
    await started;
    const second = solver.solve(execVertex('shared'), job());
    await new Promise((resolve) => setTimeout(resolve, 10));
    first.abort(new Error('first build cancelled'));
    await expect(firstRun).rejects.toThrow();
    release();
    const { result } = await second;
    expect(result).toBe('shared()');
    expect(runner.runs.get('shared')).toBe(1);
    expect(runner.cancelled).toEqual([]);
  });

  it('stops at the first failure, cancels running siblings, and reports the failing vertex', async () => {
    const runner = new FakeRunner();
    runner.failing.add('bad');
    runner.blocking.set('slow', new Promise<void>(() => undefined));
    const top = execVertex('top', [execVertex('slow'), execVertex('bad')]);
    const err = await createSolver(runner, { storage: runner.storage }).solve(top, job()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SolveError);
    expect((err as SolveError).vertexName).toBe('bad');
    expect((err as SolveError).message).toContain('bad broke');
    expect(runner.cancelled).toEqual(['slow']);
    expect(runner.runs.has('top')).toBe(false);
  });

  it('runs a vertex that ignores the cache even when its dependent is cached, and keeps the dependent when the files are the same', async () => {
    const runner = new FakeRunner();
    const copy = (stage: Vertex): Vertex => copyVertex('copy-from', execVertex('base'), stage);
    await createSolver(runner, { storage: runner.storage }).solve(copy(execVertex('stage')), job());
    const events: ProgressEvent[] = [];
    const again = await createSolver(runner, { storage: runner.storage }).solve(copy(execVertex('stage', [], '', true)), job(events));
    expect(runner.runs.get('stage')).toBe(2);
    expect(runner.runs.get('copy-from')).toBe(1);
    expect(again.result).toBe('copy-from(base(),stage())');
    expect(events.flatMap((e) => (e.type === 'vertex.cached' ? [e.name] : []))).toEqual(['base', 'copy-from']);
  });

  it('runs the dependents of a vertex that ignores the cache again when it made other files', async () => {
    const runner = new FakeRunner();
    const build = (ignoreCache: boolean): Vertex => execVertex('last', [copyVertex('copy-from', execVertex('base'), execVertex('stage', [], '', ignoreCache))]);
    await createSolver(runner, { storage: runner.storage }).solve(build(false), job());
    runner.makes.set('stage', 'stage-v2');
    const changed = await createSolver(runner, { storage: runner.storage }).solve(build(true), job());
    expect(changed.result).toBe('last(copy-from(base(),stage-v2))');
    expect([runner.runs.get('stage'), runner.runs.get('copy-from'), runner.runs.get('last')]).toEqual([2, 2, 2]);
    // A later build with the usual cache records finds what the rerun made, not the results from before it.
    const usual = await createSolver(runner, { storage: runner.storage }).solve(build(false), job());
    expect(usual.result).toBe('last(copy-from(base(),stage-v2))');
    expect(runner.runs.get('last')).toBe(2);
    // Ignoring the cache again with the same new files reuses the dependents made from them.
    await createSolver(runner, { storage: runner.storage }).solve(build(true), job());
    expect([runner.runs.get('stage'), runner.runs.get('copy-from'), runner.runs.get('last')]).toEqual([3, 2, 2]);
  });

  it('finds a result by the content a vertex reads of an input when its key misses, as BuildKit\'s slow cache does', async () => {
    const runner = new FakeRunner();
    runner.makes.set('out', 'the same files');
    const build = (step: string): Vertex => copyVertex('copy-from', execVertex('base'), execVertex('out', [execVertex(step)]));
    await createSolver(runner, { storage: runner.storage }).solve(build('step-one'), job());
    const events: ProgressEvent[] = [];
    // Another step earlier in the stage: the stage's key changes, the files it makes do not.
    const again = await createSolver(runner, { storage: runner.storage }).solve(build('step-two'), job(events));
    expect(runner.runs.get('out')).toBe(2);
    expect(runner.runs.get('copy-from')).toBe(1);
    expect(again.result).toBe('copy-from(base(),the same files)');
    expect(events.some((e) => e.type === 'vertex.cached' && e.name === 'copy-from')).toBe(true);
    // The key it missed by now finds the result too.
    await createSolver(runner, { storage: runner.storage }).solve(build('step-two'), job());
    expect(runner.runs.get('out')).toBe(2);
  });

  it('records the preimage of every key it computes: fields, output and the keys of the inputs', async () => {
    const runner = new FakeRunner();
    const base = execVertex('base');
    const top = execVertex('top', [base]);
    const outcome = await createSolver(runner, { storage: runner.storage }).solve(top, job());
    expect(outcome.key).toBe(vertexKey(top));
    expect(runner.storage.preimage(vertexKey(top))).toMatchObject({ type: 'op', kind: 'exec', output: 0, inputs: [{ key: vertexKey(base) }] });
    expect(runner.storage.preimage(vertexKey(base))).toMatchObject({ type: 'op', kind: 'exec', fields: { meta: { args: ['sh', '-c', 'base'] } }, inputs: [] });
  });

  it('keys an input by the output it takes of its vertex', async () => {
    const runner = new FakeRunner();
    const base = execVertex('base');
    const top = createVertex(execVertex('top').op, [{ vertex: base, output: 1 }], { name: 'top' });
    await createSolver(runner, { storage: runner.storage }).solve(top, job());
    const second = computeVertexKey(base.op, { output: 1, inputs: [] });
    expect(second.key).not.toBe(vertexKey(base));
    expect(runner.storage.preimage(second.key)).toEqual(second.preimage);
    expect(runner.storage.preimage(vertexKey(top))).toBeUndefined();
    const topKey = computeVertexKey(top.op, { inputs: [{ key: second.key }] }).key;
    expect(runner.storage.lookup(topKey)?.resultId).toBe('top(base())');
  });

  it('gives different digests to ops that differ and the same to equal ones', () => {
    expect(execVertex('x').digest).toBe(execVertex('x').digest);
    expect(execVertex('x').digest).not.toBe(execVertex('x', [], ' ').digest);
    expect(execVertex('top', [execVertex('a')]).digest).not.toBe(execVertex('top', [execVertex('b')]).digest);
  });
});
