import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { runTbuild } from '../helpers/cli.js';

/*
 * RUN --mount=type=cache,from=STAGE,source=PATH starts the cache from the stage's files at PATH. What BuildKit does,
 * recorded with docker 20.10 from this Dockerfile, building with BUST=one, two, then three with SEEDV=2, then SEEDV=1
 * again (BuildKit keys such a cache by its id and the from input's result: solver/llbsolver/mounts/mount.go):
 *
 * | build            | A (mount, append $BUST)          | B sharing=locked  | C ro                    | D same id, no from |
 * |------------------|----------------------------------|-------------------|-------------------------|--------------------|
 * | BUST=one         | seeded-1; root 0750 42:43        | seeded-1 one      | seeded-1 one; read-only | empty              |
 * | BUST=two         | seeded-1 one (not seeded again)  | seeded-1 one two  | seeded-1 one two        | empty              |
 * | three, SEEDV=2   | seeded-2 (a cache of its own)    | seeded-2 three    | seeded-2 three          | empty              |
 * | three, SEEDV=1   | seeded-1 one two (found again)   | … one two three   | … one two three         | empty              |
 *
 * Without `source` the whole stage is the cache (F). BuildKit also shares one copy of the stage between mounts of the
 * same id and stage with different sources; tbuild copies only the mounted directory, so those are separate caches.
 */
const DOCKERFILE = `FROM busybox AS seed
ARG SEEDV=1
RUN mkdir -p /data/sub && echo "seeded-$SEEDV" > /data/s.txt && echo top > /top.txt && chown 42:43 /data && chmod 0750 /data

FROM busybox
ARG BUST
RUN --mount=type=cache,from=seed,source=/data,target=/c,id=c1 echo "A: $(cat /c/s.txt | tr '\\n' ' ')$(stat -c '%a %u:%g' /c)" && echo "$BUST" >> /c/s.txt
RUN --mount=type=cache,from=seed,source=/data,target=/c,id=c1,sharing=locked echo "B: $(cat /c/s.txt | tr '\\n' ' ')"
RUN --mount=type=cache,from=seed,source=/data,target=/c,id=c1,ro echo "C: $(cat /c/s.txt | tr '\\n' ' ')$(touch /c/w 2>&1 | grep -o Read-only)"
RUN --mount=type=cache,target=/c,id=c1 echo "D: [$(ls /c)] $BUST"
RUN --mount=type=cache,from=seed,target=/c,id=c2,sharing=private echo "F: $(ls /c/data | tr '\\n' ' ')$(cat /c/top.txt) $BUST"
`;

describe('RUN cache mounts seeded from a stage', () => {
  const env = useBuildEnvironment();
  let ctx: string;

  beforeAll(async () => {
    ctx = join(env.tmp.path, 'ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE);
  });

  const build = async (bust: string, seedv: string): Promise<Record<string, string>> => {
    const r = await runTbuild(['build', '--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'plain', '--build-arg', `BUST=${bust}`, '--build-arg', `SEEDV=${seedv}`, ctx]);
    expect(r.code, r.stderr).toBe(0);
    const lines: Record<string, string> = {};
    for (const m of r.stderr.matchAll(/^#\d+ [\d.]+ ([A-F]): (.*)$/gm)) lines[m[1] ?? ''] = (m[2] ?? '').trim();
    return lines;
  };

  it('starts from the stage, keeps what RUN wrote, and seeds a rebuilt stage a cache of its own', async () => {
    expect(await build('one', '1')).toEqual({
      A: 'seeded-1 750 42:43',
      B: 'seeded-1 one',
      C: 'seeded-1 one Read-only',
      D: '[] one',
      F: 's.txt sub top one',
    });
    const again = await build('two', '1');
    expect(again['A']).toBe('seeded-1 one 750 42:43');
    expect(again['C']).toBe('seeded-1 one two Read-only');
    expect(again['D']).toBe('[] two');
    expect((await build('three', '2'))['B']).toBe('seeded-2 three');
    expect((await build('three', '1'))['B']).toBe('seeded-1 one two three');
  });
});
