import { describe, expect, it } from 'vitest';
import { compileDockerfile } from '../../../frontend/index.js';
import type { CacheExecMount, Vertex } from '../../../solver/graph/index.js';
import { compileOptions, vertices } from './compile-fixture.js';

/** cacheMount compiles a Dockerfile and returns the cache mount of its RUN that has one, and the vertex the mount starts from. */
async function cacheMount(text: string): Promise<{ mount: CacheExecMount; seed: Vertex | undefined }> {
  const def = await compileDockerfile(text, compileOptions());
  const run = vertices(def.root).find((v) => v.op.kind === 'exec' && v.op.mounts.some((m) => m.type === 'cache'));
  if (run === undefined || run.op.kind !== 'exec') throw new Error('expected a RUN');
  const mount = run.op.mounts.find((m): m is CacheExecMount => m.type === 'cache');
  if (mount === undefined) throw new Error('expected a cache mount');
  return { mount, seed: mount.input === null ? undefined : run.inputs[mount.input]?.vertex };
}

describe('RUN --mount=type=cache inputs', () => {
  it('starts a cache with a mode or owner from a /cache directory made for it, as dockerfile2llb does', async () => {
    const { mount, seed } = await cacheMount('FROM busybox\nRUN --mount=type=cache,target=/c,mode=0773,uid=7 true\n');
    expect(mount.selector).toBe('/cache');
    expect(seed?.metadata.name).toBe('[internal] setting cache mount permissions');
    expect(seed?.op).toMatchObject({ kind: 'file', base: null, actions: [{ action: 'mkdir', path: '/cache', mode: 0o773, makeParents: false, chown: { user: '7', group: '0' } }] });
  });

  it('makes /cache on the from stage when no source is given, and mounts the source as it is otherwise', async () => {
    const onStage = await cacheMount('FROM busybox AS s\nRUN echo\nFROM busybox\nRUN --mount=type=cache,target=/c,from=s,uid=5 true\n');
    expect(onStage.seed?.op).toMatchObject({ kind: 'file', base: 0, actions: [{ action: 'mkdir', path: '/cache' }] });
    expect(onStage.seed?.inputs[0]?.vertex.op.kind).toBe('exec');
    const withSource = await cacheMount('FROM busybox AS s\nRUN echo\nFROM busybox\nRUN --mount=type=cache,target=/c,from=s,source=/data,uid=5 true\n');
    expect(withSource.mount.selector).toBe('/data');
    expect(withSource.seed?.op.kind).toBe('exec');
    const plain = await cacheMount('FROM busybox\nRUN --mount=type=cache,target=/c true\n');
    expect([plain.mount.input, plain.seed]).toEqual([null, undefined]);
  });
});
