import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { run, runTbuild } from '../helpers/cli.js';
import { plainSteps, ranSteps, type PlainStep } from '../helpers/plain-steps.js';

/**
 * The first stage's first step reads a file that changes; the folder the second stage mounts from it stays the same,
 * and so do the files the target copies from the second (BuildKit's testMountRWCache, with a COPY --from after it).
 */
const DOCKERFILE = `FROM busybox AS build
COPY cachebust /
RUN mkdir /out && echo foo > /out/foo
FROM busybox AS second
RUN --mount=from=build,src=out,target=/m,rw touch /m/bar && cat /m/foo > /mounted && head -c 16 /dev/urandom | od -x > /unique
FROM scratch
COPY --from=second /mounted /unique /
`;

describe('steps that read only some files of a stage, keyed by those files when their key misses (BuildKit slow cache)', () => {
  const env = useBuildEnvironment();
  let n = 0;

  async function build(cachebust: string): Promise<{ ran: string[]; unique: string }> {
    const ctx = join(env.tmp.path, 'ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE);
    await writeFile(join(ctx, 'cachebust'), cachebust);
    const out = join(env.tmp.path, `out-${n++}`);
    const res = await runTbuild(['build', '--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'plain', '--output', `type=local,dest=${out}`, ctx]);
    expect(res.code, res.stderr).toBe(0);
    expect(await readFile(join(out, 'mounted'), 'utf8')).toBe('foo\n');
    return { ran: ranSteps(res.stderr), unique: await readFile(join(out, 'unique'), 'utf8') };
  }

  it('reuses COPY --from and RUN --mount=from when the stage changed but the files they read did not', async () => {
    const first = await build('0');
    const second = await build('1');
    expect(second.ran).toEqual(['COPY cachebust /', 'RUN mkdir /out && echo foo > /out/foo']);
    expect(second.unique).toBe(first.unique);
  });
});

/** BUST changes the stage's step; OUT changes the files the later stage reads of it. */
const STAGE = `FROM busybox AS build
ARG BUST
ARG OUT=foo
RUN echo $BUST > /bust && mkdir /out && echo $OUT > /out/foo
`;

const VARIANTS = {
  copy: `${STAGE}FROM busybox
COPY --from=build /out /out
RUN cat /out/foo > /seen
`,
  mount: `${STAGE}FROM busybox
RUN --mount=from=build,source=/out,target=/m cat /m/foo > /seen
RUN cat /seen > /again
`,
};

describe('the steps after one found by the files it reads are found by them too', () => {
  const env = useBuildEnvironment();
  let n = 0;

  async function build(variant: keyof typeof VARIANTS, bust: string, out = 'foo', more: { root?: string; args?: string[] } = {}): Promise<{ ran: string[]; seen: string }> {
    const ctx = join(env.tmp.path, variant);
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), VARIANTS[variant]);
    const dest = join(env.tmp.path, `out-${n++}`);
    const args = ['build', '--root', join(env.tmp.path, more.root ?? `root-${variant}`), '--config', env.config, '--progress', 'plain', ...(more.args ?? [])];
    const res = await runTbuild([...args, '--build-arg', `BUST=${bust}`, '--build-arg', `OUT=${out}`, '--output', `type=local,dest=${dest}`, ctx]);
    expect(res.code, res.stderr).toBe(0);
    return { ran: ranSteps(res.stderr), seen: await readFile(join(dest, 'seen'), 'utf8') };
  }

  it('keeps COPY --from and the steps after it cached when the stage ran again but made the same files', async () => {
    await build('copy', '1');
    const same = await build('copy', '2');
    expect(same.ran).toEqual(['RUN echo 2 > /bust && mkdir /out && echo foo > /out/foo']);
    expect(same.seen).toBe('foo\n');
    // The key the COPY missed now leads to the same record: nothing runs.
    expect((await build('copy', '2')).ran).toEqual([]);
    const changed = await build('copy', '3', 'bar');
    expect(changed.ran).toEqual(['RUN echo 3 > /bust && mkdir /out && echo bar > /out/foo', 'COPY --from=build /out /out', 'RUN cat /out/foo > /seen']);
    expect(changed.seen).toBe('bar\n');
  });

  it('keeps RUN --mount=from and the steps after it cached when the mounted files are the same', async () => {
    await build('mount', '1');
    const same = await build('mount', '2');
    expect(same.ran).toEqual(['RUN echo 2 > /bust && mkdir /out && echo foo > /out/foo']);
    expect(same.seen).toBe('foo\n');
    const changed = await build('mount', '3', 'bar');
    expect(changed.ran).toEqual([
      'RUN echo 3 > /bust && mkdir /out && echo bar > /out/foo',
      'RUN --mount=from=build,source=/out,target=/m cat /m/foo > /seen',
      'RUN cat /seen > /again',
    ]);
    expect(changed.seen).toBe('bar\n');
  });

  it('finds them through a cache exported elsewhere too', async () => {
    const dir = join(env.tmp.path, 'exported');
    await build('copy', '1', 'foo', { root: 'root-a', args: ['--cache-to', `type=local,dest=${dir},mode=max`] });
    const elsewhere = await build('copy', '2', 'foo', { root: 'root-b', args: ['--cache-from', `type=local,src=${dir}`] });
    // The fresh store pulls the base image; of the steps, only the stage's runs.
    expect(elsewhere.ran.filter((step) => !step.startsWith('FROM '))).toEqual(['RUN echo 2 > /bust && mkdir /out && echo foo > /out/foo']);
    expect(elsewhere.seen).toBe('foo\n');
  });
});

/** The stage's step writes a file that changes with BUST; the image copies only a file that never changes. */
const UNRELATED = `FROM busybox AS build
ARG BUST
RUN echo $BUST > /unrelated && mkdir /out && echo kept > /out/kept
FROM busybox
COPY --from=build /out/kept /kept
`;

describe('a COPY --from a stage whose unrelated files changed', () => {
  const env = useBuildEnvironment();

  async function build(bust: string): Promise<{ steps: PlainStep[]; layers: string[] }> {
    const ctx = join(env.tmp.path, 'unrelated');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), UNRELATED);
    const tar = join(env.tmp.path, `unrelated-${bust}.tar`);
    const args = ['build', '--root', join(env.tmp.path, 'root-unrelated'), '--config', env.config, '--progress', 'plain'];
    const res = await runTbuild([...args, '--build-arg', `BUST=${bust}`, '--output', `type=oci,dest=${tar}`, ctx]);
    expect(res.code, res.stderr).toBe(0);
    return { steps: plainSteps(res.stderr), layers: await imageLayers(tar, join(env.tmp.path, `layout-${bust}`)) };
  }

  it('runs the stage again, reports the COPY cached and keeps the image\'s layer as it was', async () => {
    const first = await build('1');
    const second = await build('2');
    const step = (steps: PlainStep[], name: string): PlainStep | undefined => steps.find((s) => s.name.endsWith(name));
    expect(step(second.steps, 'RUN echo 2 > /unrelated && mkdir /out && echo kept > /out/kept')).toMatchObject({ cached: false, ran: true });
    expect(step(second.steps, 'COPY --from=build /out/kept /kept')).toMatchObject({ cached: true, ran: false });
    expect(second.layers).toHaveLength(2);
    expect(second.layers).toEqual(first.layers);
  });
});

/** imageLayers lists the layer digests of the image in an OCI archive. */
async function imageLayers(tar: string, layout: string): Promise<string[]> {
  await mkdir(layout, { recursive: true });
  const untar = await run('tar', ['-xf', tar, '-C', layout]);
  expect(untar.code, untar.stderr).toBe(0);
  const blob = (digest: string): Promise<string> => readFile(join(layout, 'blobs', ...digest.split(':')), 'utf8');
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(await blob(index.manifests[0]?.digest ?? '')) as { layers: { digest: string }[] };
  return manifest.layers.map((l) => l.digest);
}
