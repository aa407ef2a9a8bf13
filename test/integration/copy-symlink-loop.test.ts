import { mkdir, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { runTbuild } from '../helpers/cli.js';

/*
 * A build context with a symlink loop (loop1 -> loop2 -> loop1). Docker 20.10's BuildKit, on the same context:
 *   COPY loop1 /x  fails: "failed to compute cache key: too many symlinks: /loop1" (at the COPY line)
 *   COPY . /x      succeeds and copies both links as links, unfollowed
 */
const env = useBuildEnvironment();

async function loopContext(name: string, dockerfile: string): Promise<string> {
  const ctx = join(env.tmp.path, name);
  await mkdir(ctx);
  await symlink('loop2', join(ctx, 'loop1'));
  await symlink('loop1', join(ctx, 'loop2'));
  await writeFile(join(ctx, 'f'), 'hi\n');
  await writeFile(join(ctx, 'Dockerfile'), dockerfile);
  return ctx;
}

function build(ctx: string, out: string): ReturnType<typeof runTbuild> {
  return runTbuild(['build', '--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'plain', '-o', `type=local,dest=${out}`, ctx]);
}

describe('symlink loops in the build context', () => {
  it('fails a COPY of a looping symlink with too many symlinks, at its Dockerfile line', async () => {
    const ctx = await loopContext('copy-loop', 'FROM busybox\nCOPY loop1 /x\n');
    const r = await build(ctx, join(env.tmp.path, 'out-loop'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERROR: failed to solve: failed to compute cache key: too many symlinks: /loop1');
    expect(r.stderr).toContain('Dockerfile:2');
    expect(r.stderr).not.toContain('internal error');
  });

  it('copies looping symlinks inside a copied folder as links, as BuildKit does', async () => {
    const ctx = await loopContext('copy-all', 'FROM busybox\nCOPY . /x\n');
    const out = join(env.tmp.path, 'out-all');
    const r = await build(ctx, out);
    expect(r.stderr).not.toContain('ERROR');
    expect(r.code).toBe(0);
    expect(await readlink(join(out, 'x/loop1'))).toBe('loop2');
    expect(await readlink(join(out, 'x/loop2'))).toBe('loop1');
  });
});
