import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, run, runTbuild, writeMirrorConfig, type TempDir } from '../helpers/cli.js';
import { seedBusybox, startRegistry, type TestRegistry } from '../fixtures/registry.js';

describe('COPY --link', () => {
  let registry: TestRegistry;
  let tmp: TempDir;
  let config: string;
  let ctx: string;

  beforeAll(async () => {
    registry = await startRegistry();
    await seedBusybox(registry.host);
    tmp = await makeTempDir();
    config = await writeMirrorConfig(tmp.path, registry.host);
    ctx = join(tmp.path, 'ctx');
    await mkdir(join(ctx, 'data'), { recursive: true });
    await writeFile(join(ctx, 'data', 'a.txt'), 'a\n');
    await writeFile(join(ctx, 'data', 'b.txt'), 'b\n');
    await writeFile(
      join(ctx, 'Dockerfile'),
      'FROM busybox\nARG V=1\nRUN echo "$V" > /base\nCOPY --link data/ /app/\nRUN ls /app > /listing && cat /base >> /listing\n',
    );
  });

  afterAll(async () => {
    await tmp?.[Symbol.asyncDispose]();
    await registry?.stop();
  });

  const build = (v: string, out: string): Promise<{ code: number; stderr: string }> =>
    runTbuild(['build', '--root', join(tmp.path, 'root'), '--config', config, '--progress', 'plain', '--build-arg', `V=${v}`, '--output', out, ctx]);

  it('keeps the linked layer cached when the base below it changes, and stacks it on the new base', async () => {
    const first = await build('1', `type=local,dest=${join(tmp.path, 'one')}`);
    expect(first.code, first.stderr).toBe(0);
    expect(await readFile(join(tmp.path, 'one', 'listing'), 'utf8')).toBe('a.txt\nb.txt\n1\n');

    const second = await build('2', `type=local,dest=${join(tmp.path, 'two')}`);
    expect(second.code, second.stderr).toBe(0);
    expect(await readFile(join(tmp.path, 'two', 'listing'), 'utf8')).toBe('a.txt\nb.txt\n2\n');
    // The copy itself did not run again: only the stacking did.
    expect(second.stderr).toMatch(/COPY --link data\/ \/app\/\n#\d+ CACHED/);
    expect(second.stderr).toMatch(/COPY --link data\/ \/app\/ \(link\)\n#\d+ DONE/);
  });

  it('exports an image whose linked layer skopeo and umoci accept', async () => {
    const tar = join(tmp.path, 'linked.tar');
    const res = await runTbuild(['build', '--root', join(tmp.path, 'root'), '--config', config, '-t', 'linked:1', '--output', `type=oci,dest=${tar}`, ctx]);
    expect(res.code, res.stderr).toBe(0);
    const layout = join(tmp.path, 'layout');
    await mkdir(layout);
    expect((await run('tar', ['-xf', tar, '-C', layout])).code).toBe(0);
    const unpack = await run('umoci', ['unpack', '--image', `${layout}:1`, join(tmp.path, 'bundle')]);
    expect(unpack.code, unpack.stderr).toBe(0);
    expect(await readFile(join(tmp.path, 'bundle', 'rootfs', 'app', 'a.txt'), 'utf8')).toBe('a\n');
  });
});
