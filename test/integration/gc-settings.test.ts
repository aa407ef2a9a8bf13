import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runTbuild } from '../helpers/cli.js';
import { useBuildEnvironment } from '../helpers/build-env.js';

describe('automatic collection after a build, as the settings file sets it', () => {
  const env = useBuildEnvironment();
  let ctx: string;

  beforeAll(async () => {
    ctx = join(env.tmp.path, 'ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN head -c 20000 /dev/zero > /blob\n');
  });

  const settings = async (name: string, gc: string): Promise<string> => {
    const file = join(env.tmp.path, `${name}.toml`);
    await writeFile(file, await readFile(env.config, 'utf8'));
    await appendFile(file, gc);
    return file;
  };

  const build = (root: string, config: string): Promise<{ code: number; stderr: string }> =>
    runTbuild(['build', '--root', join(env.tmp.path, root), '--config', config, '--progress', 'plain', ctx]);

  it('prunes to keep-storage after the build, and keeps everything with enabled = false', async () => {
    const small = await settings('small', '\n[gc]\nkeep-storage = "1KB"\n');
    expect((await build('small', small)).code).toBe(0);
    // The 20 kB layer outgrew 1 kB: it was collected, so the next build runs the step again.
    const again = await build('small', small);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/RUN head[^\n]*\n#\d+ CACHED/);

    const off = await settings('off', '\n[gc]\nenabled = false\nkeep-storage = "1KB"\n');
    expect((await build('off', off)).code).toBe(0);
    const cached = await build('off', off);
    expect(cached.stderr).toMatch(/RUN head[^\n]*\n#\d+ CACHED/);
  });
});
