import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runTbuild } from '../helpers/cli.js';
import { useBuildEnvironment } from '../helpers/build-env.js';

describe('a one-file change to a copied context', () => {
  const env = useBuildEnvironment();
  let ctx: string;
  let args: (out: string) => string[];

  beforeAll(async () => {
    ctx = join(env.tmp.path, 'ctx');
    await mkdir(join(ctx, 'src'), { recursive: true });
    for (let i = 0; i < 50; i++) await writeFile(join(ctx, 'src', `f${i}.txt`), `file ${i}\n`);
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY src/ /app/\nRUN cat /app/f7.txt > /seen\n');
    const root = join(env.tmp.path, 'root');
    args = (out) => ['build', '--root', root, '--config', env.config, '--progress', 'plain', '--output', `type=local,dest=${out}`, ctx];
  });

  it('shares the unchanged files with the earlier layer and copies the changed one', async () => {
    const first = await runTbuild(args(join(env.tmp.path, 'out1')));
    expect(first.code, first.stderr).toBe(0);
    // A file changed after the first copy: same size, so only its change time tells.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await writeFile(join(ctx, 'src', 'f7.txt'), 'FILE 7\n');
    const second = await runTbuild(args(join(env.tmp.path, 'out2')));
    expect(second.code, second.stderr).toBe(0);
    expect(await readFile(join(env.tmp.path, 'out2', 'seen'), 'utf8')).toBe('FILE 7\n');
    expect(await readFile(join(env.tmp.path, 'out2', 'app', 'f8.txt'), 'utf8')).toBe('file 8\n');

    const layers: string[] = [];
    const snapshots = join(env.tmp.path, 'root', 'snapshots');
    for (const id of await readdir(snapshots)) {
      const names = await readdir(join(snapshots, id, 'fs'));
      if (names.includes('app')) layers.push(join(snapshots, id, 'fs', 'app'));
    }
    expect(layers.length).toBe(2);
    const [a, b] = await Promise.all(layers.map((l) => Promise.all([stat(join(l, 'f8.txt')), stat(join(l, 'f7.txt'))])));
    expect(a?.[0].ino).toBe(b?.[0].ino);
    expect(a?.[1].ino).not.toBe(b?.[1].ino);
  });
});
