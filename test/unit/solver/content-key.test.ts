import { describe, expect, it } from 'vitest';
import { digestOf, type Digest } from '../../../base/digest.js';
import type { ProgressEvent } from '../../../base/progress.js';
import { hostPlatform } from '../../../base/oci.js';
import { createVertex, type FileOp, type Vertex } from '../../../solver/graph/index.js';
import { computeVertexKey, createSolver, type JobContext, type OpRunner, type SelectedInput, type SourcePin } from '../../../solver/index.js';
import { withImportedCache, type ImportedCache, type ImportedRef, type Ref } from '../../../solver/ops/index.js';
import { MemoryCacheKeyStorage } from '../../fakes/memory-cache-key-storage.js';
import { vertexKey } from '../../fakes/vertex-key.js';

const platform = hostPlatform();

function execVertex(name: string, inputs: Vertex[] = [], extra = ''): Vertex {
  return createVertex(
    { kind: 'exec', meta: { args: ['sh', '-c', name + extra], env: [], cwd: '/', user: '' }, mounts: [], network: 'default', security: 'sandbox', platform },
    inputs.map((vertex) => ({ vertex, output: 0 })),
    { name },
  );
}

/** copyVertex copies /out of its second input onto its first, as COPY --from does: it reads only that path of it. */
function copyVertex(name: string, base: Vertex, from: Vertex): Vertex {
  const copy: FileOp['actions'][number] = { action: 'copy', input: 1, sources: ['/out'], dest: '/', excludes: [], extractArchives: false, parents: false };
  return createVertex({ kind: 'file', base: 0, actions: [copy], platform }, [{ vertex: base, output: 0 }, { vertex: from, output: 0 }], { name });
}

/** Results are `files#run`: the files part is what a step reads; `copy` reads /out of its second input. */
class ContentRunner implements OpRunner<string> {
  readonly runs = new Map<string, number>();
  readonly storage = new MemoryCacheKeyStorage();
  readonly makes = new Map<string, string>();
  digestCalls = 0;
  pin(v: Vertex): Promise<SourcePin> {
    return Promise.reject(new Error(`${v.metadata.name} is no source`));
  }
  lookup(_v: Vertex, key: Digest): Promise<string | undefined> {
    return Promise.resolve(this.storage.lookup(key)?.resultId ?? undefined);
  }
  async run(v: Vertex, key: Digest, inputs: readonly string[]): Promise<string> {
    const n = (this.runs.get(v.metadata.name) ?? 0) + 1;
    this.runs.set(v.metadata.name, n);
    const files = this.makes.get(v.metadata.name) ?? `${v.metadata.name}(${inputs.map(filesOf).join(',')})`;
    const out = `${files}#${n}`;
    await this.storage.record(key, { resultId: out, description: v.metadata.name });
    return out;
  }
  async selectedContentDigest(_v: Vertex, input: SelectedInput<string>): Promise<Digest | undefined> {
    this.digestCalls++;
    const r = await input.result();
    return r === undefined ? undefined : selectedDigest(r);
  }
  contentDigest(_v: Vertex, result: string): Promise<Digest> {
    return Promise.resolve(digestOf(filesOf(result)));
  }
}

const filesOf = (result: string): string => result.split('#')[0] ?? '';
const selectedDigest = (result: string): Digest => digestOf(`selected ${filesOf(result)}`);

function job(events: ProgressEvent[] = []): JobContext {
  return { id: 'test', signal: new AbortController().signal, progress: { emit: (e) => events.push(e) } };
}

/** FROM base / COPY --from=stage / RUN after: `bust` changes the stage's definition. */
function graph(bust: string): { stage: Vertex; copy: Vertex; after: Vertex } {
  const stage = execVertex('stage', [], bust);
  const copy = copyVertex('copy', execVertex('base'), stage);
  return { stage, copy, after: execVertex('after', [copy]) };
}

const cachedNames = (events: readonly ProgressEvent[]): string[] => events.flatMap((e) => (e.type === 'vertex.cached' ? [e.name] : []));

describe('content keys of inputs read by selection', () => {
  it('keeps a step reading unchanged files of a changed stage cached, and the steps after it', async () => {
    const runner = new ContentRunner();
    runner.makes.set('stage', 'out');
    const first = await createSolver(runner, { storage: runner.storage }).solve(graph('1').after, job());
    const events: ProgressEvent[] = [];
    const second = await createSolver(runner, { storage: runner.storage }).solve(graph('2').after, job(events));
    expect(second.result).toBe(first.result);
    expect([runner.runs.get('stage'), runner.runs.get('copy'), runner.runs.get('after')]).toEqual([2, 1, 1]);
    expect(cachedNames(events)).toEqual(['base', 'copy', 'after']);
  });

  it('runs them again when the selected files changed', async () => {
    const runner = new ContentRunner();
    runner.makes.set('stage', 'out');
    await createSolver(runner, { storage: runner.storage }).solve(graph('1').after, job());
    runner.makes.set('stage', 'other');
    const changed = await createSolver(runner, { storage: runner.storage }).solve(graph('2').after, job());
    expect(changed.result).toBe('after(copy(base(),other))#2');
    expect([runner.runs.get('stage'), runner.runs.get('copy'), runner.runs.get('after')]).toEqual([2, 2, 2]);
  });

  it('links the usual key to a record found by content, so the next build hits it without digesting files', async () => {
    const runner = new ContentRunner();
    runner.makes.set('stage', 'out');
    await createSolver(runner, { storage: runner.storage }).solve(graph('1').after, job());
    await createSolver(runner, { storage: runner.storage }).solve(graph('2').after, job());
    runner.digestCalls = 0;
    const warm = await createSolver(runner, { storage: runner.storage }).solve(graph('2').after, job());
    expect(warm.result).toBe('after(copy(base(),out))#1');
    expect(runner.digestCalls).toBe(0);
    // An unchanged definition keeps the key it always had: a warm build of the first graph hits as before.
    await createSolver(runner, { storage: runner.storage }).solve(graph('1').after, job());
    expect(runner.digestCalls).toBe(0);
  });

  it('records the content key with the digest of the selection in place of the input key, and the dependents by it', async () => {
    const runner = new ContentRunner();
    runner.makes.set('stage', 'out');
    const { copy, after } = graph('1');
    await createSolver(runner, { storage: runner.storage }).solve(after, job());
    const byContent = computeVertexKey(copy.op, { inputs: [{ key: vertexKey(execVertex('base')) }, { content: digestOf('selected out'), selector: ['/out'] }] });
    expect(runner.storage.lookup(byContent.key)?.resultId).toBe('copy(base(),out)#1');
    expect(runner.storage.preimage(byContent.key)).toEqual(byContent.preimage);
    expect(runner.storage.lookup(computeVertexKey(after.op, { inputs: [{ key: byContent.key }] }).key)?.resultId).toBe('after(copy(base(),out))#1');
    // The formula is pinned: changing it would drop every content-keyed record of existing stores.
    expect(byContent.preimage.type === 'op' ? byContent.preimage.inputs[1] : undefined).toEqual({
      key: digestOf(JSON.stringify({ content: digestOf('selected out') })),
      content: digestOf('selected out'),
      selector: ['/out'],
    });
  });

  it('does not fetch a record imported from a cache to digest its files: that input is keyed as usual', async () => {
    const seen: (Ref | undefined)[] = [];
    const inner: OpRunner<Ref> = {
      pin: unused,
      lookup: unused,
      run: unused,
      contentDigest: unused,
      selectedContentDigest: async (_v, input) => {
        const ref = await input.result();
        seen.push(ref);
        return ref === undefined ? undefined : digestOf('files');
      },
    };
    const cache: ImportedCache = { lookup: unused, unpack: unused, fetch: unused, reject: unused, chainOf: unused, findLocal: unused, aliasesOf: unused };
    const imported: ImportedRef = { kind: 'imported', key: digestOf('k'), vertex: 'v', name: 'stage', chain: [] };
    const stage: Ref = { kind: 'snapshot', snapshotId: 'stage' };
    const wrapped = withImportedCache(inner, cache);
    const copy = graph('1').copy;
    const input = (result: Ref | ImportedRef) => ({ index: 1, selector: ['/out'], result: () => Promise.resolve(result) });
    expect(await wrapped.selectedContentDigest(copy, input(stage), job())).toBe(digestOf('files'));
    expect(await wrapped.selectedContentDigest(copy, input(imported), job())).toBeUndefined();
    expect(seen).toEqual([stage, undefined]);
  });
});

const unused = (): never => {
  throw new Error('not used here');
};
