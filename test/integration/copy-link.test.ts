import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { run, runTbuild } from '../helpers/cli.js';
import { useBuildEnvironment } from '../helpers/build-env.js';

describe('COPY --link', () => {
  const env = useBuildEnvironment();
  let ctx: string;

  beforeAll(async () => {
    ctx = join(env.tmp.path, 'ctx');
    await mkdir(join(ctx, 'data'), { recursive: true });
    await writeFile(join(ctx, 'data', 'a.txt'), 'a\n');
    await writeFile(join(ctx, 'data', 'b.txt'), 'b\n');
    await writeFile(
      join(ctx, 'Dockerfile'),
      'FROM busybox\nARG V=1\nRUN echo "$V" > /base\nCOPY --link data/ /app/\nRUN ls /app > /listing && cat /base >> /listing\n',
    );
  });

  const build = (v: string, out: string): Promise<{ code: number; stderr: string }> =>
    runTbuild(['build', '--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'plain', '--build-arg', `V=${v}`, '--output', out, ctx]);

  it('keeps the linked layer cached when the base below it changes, and stacks it on the new base', async () => {
    const first = await build('1', `type=local,dest=${join(env.tmp.path, 'one')}`);
    expect(first.code, first.stderr).toBe(0);
    expect(await readFile(join(env.tmp.path, 'one', 'listing'), 'utf8')).toBe('a.txt\nb.txt\n1\n');

    const second = await build('2', `type=local,dest=${join(env.tmp.path, 'two')}`);
    expect(second.code, second.stderr).toBe(0);
    expect(await readFile(join(env.tmp.path, 'two', 'listing'), 'utf8')).toBe('a.txt\nb.txt\n2\n');
    // The copy itself did not run again: only the stacking did.
    expect(second.stderr).toMatch(/COPY --link data\/ \/app\/\n#\d+ CACHED/);
    expect(second.stderr).toMatch(/COPY --link data\/ \/app\/ \(link\)\n#\d+ DONE/);
  });

  it('exports an image whose linked layer skopeo and umoci accept', async () => {
    const tar = join(env.tmp.path, 'linked.tar');
    const res = await runTbuild(['build', '--root', join(env.tmp.path, 'root'), '--config', env.config, '-t', 'linked:1', '--output', `type=oci,dest=${tar}`, ctx]);
    expect(res.code, res.stderr).toBe(0);
    const layout = join(env.tmp.path, 'layout');
    await mkdir(layout);
    expect((await run('tar', ['-xf', tar, '-C', layout])).code).toBe(0);
    const unpack = await run('umoci', ['unpack', '--image', `${layout}:1`, join(env.tmp.path, 'bundle')]);
    expect(unpack.code, unpack.stderr).toBe(0);
    expect(await readFile(join(env.tmp.path, 'bundle', 'rootfs', 'app', 'a.txt'), 'utf8')).toBe('a\n');
  });
});
