import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { runTbuild } from '../helpers/cli.js';
import { ranSteps } from '../helpers/plain-steps.js';

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
