import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { runTbuild } from '../helpers/cli.js';
import { ranSteps } from '../helpers/plain-steps.js';

/** `gen` makes new files on every run; `fixed` makes the same ones; the target reaches both only through other stages. */
const DOCKERFILE = `FROM busybox AS gen
RUN cat /proc/sys/kernel/random/uuid > /stamp

FROM busybox AS fixed
RUN echo fixed > /fixed

FROM busybox
COPY --from=gen /stamp /stamp
COPY --from=fixed /fixed /fixed
RUN --mount=from=gen,target=/g cat /g/stamp > /mounted
RUN cat /fixed > /fixed-copy
`;

describe('--no-cache-filter for a stage the target reaches through COPY --from and RUN --mount', () => {
  const env = useBuildEnvironment();
  let ctx: string;
  let n = 0;

  beforeAll(async () => {
    ctx = join(env.tmp.path, 'ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE);
  });

  async function build(...extra: string[]): Promise<{ ran: string[]; stamp: string; mounted: string }> {
    const out = join(env.tmp.path, `out-${n++}`);
    const res = await runTbuild(['build', '--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'plain', ...extra, '--output', `type=local,dest=${out}`, ctx]);
    expect(res.code, res.stderr).toBe(0);
    return { ran: ranSteps(res.stderr), stamp: await readFile(join(out, 'stamp'), 'utf8'), mounted: await readFile(join(out, 'mounted'), 'utf8') };
  }


  it('runs the stage again and the steps that use its new files, and reuses the ones whose input files stayed the same', async () => {
    const first = await build();
    expect((await build()).ran).toEqual([]);

    const changed = await build('--no-cache-filter', 'gen');
    expect(changed.stamp).not.toBe(first.stamp);
    expect(changed.mounted).toBe(changed.stamp);
    expect(changed.ran).toEqual([
      'RUN cat /proc/sys/kernel/random/uuid > /stamp',
      'COPY --from=gen /stamp /stamp',
      'COPY --from=fixed /fixed /fixed',
      'RUN --mount=from=gen,target=/g cat /g/stamp > /mounted',
      'RUN cat /fixed > /fixed-copy',
    ]);

    // Run again with the same files: only the stage itself runs.
    const same = await build('--no-cache-filter', 'fixed');
    expect(same.ran).toEqual(['RUN echo fixed > /fixed']);
    expect(same.stamp).toBe(changed.stamp);
  });

  it('ignores a stage name the Dockerfile does not have, as buildx does', async () => {
    const res = await build('--no-cache-filter', 'nosuchstage');
    expect(res.ran).toEqual([]);
  });
});
