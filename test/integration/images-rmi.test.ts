import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runTbuild } from '../helpers/cli.js';
import { useBuildEnvironment } from '../helpers/build-env.js';

describe('tbuild rmi', () => {
  const env = useBuildEnvironment();
  let ctx: string;
  const root = (): string => join(env.tmp.path, 'root');

  beforeAll(async () => {
    ctx = join(env.tmp.path, 'ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo removable > /marker\n');
  });

  it('untags names, removes an image by its ID, and lets prune free what it held', async () => {
    const built = await runTbuild(['build', '--root', root(), '--config', env.config, '--progress', 'quiet', '-t', 'rmi-test:a', '-t', 'rmi-test:b', ctx]);
    expect(built.code, built.stderr).toBe(0);
    const id = built.stdout.trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);

    const byId = await runTbuild(['rmi', '--root', root(), id.slice(7, 19)]);
    expect(byId.code).toBe(2);
    expect(byId.stderr).toContain('it is named docker.io/library/rmi-test:a, docker.io/library/rmi-test:b');

    const untag = await runTbuild(['rmi', '--root', root(), 'rmi-test:a']);
    expect(untag.code, untag.stderr).toBe(0);
    expect(untag.stdout).toBe('Untagged: rmi-test:a\n');
    const listed = await runTbuild(['images', '--root', root()]);
    expect(listed.stdout).not.toMatch(/^rmi-test +a /m);
    expect(listed.stdout).toContain('rmi-test');

    const last = await runTbuild(['rmi', '--root', root(), id.slice(7, 19)]);
    expect(last.code, last.stderr).toBe(0);
    expect(last.stdout).toBe(`Untagged: rmi-test:b\nDeleted: ${id}\n`);
    expect((await runTbuild(['images', '--root', root()])).stdout).not.toContain('rmi-test');

    const missing = await runTbuild(['rmi', '--root', root(), 'rmi-test:a']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('No such image: rmi-test:a');

    // Nothing names the image any more: prune frees its layers and its config.
    const pruned = await runTbuild(['prune', '--root', root(), '--all']);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(await readdir(join(root(), 'content', 'blobs', 'sha256'))).not.toContain(id.slice(7));
  });
});
