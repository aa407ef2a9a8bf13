import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, runTbuild, writeMirrorConfig, type TempDir } from '../helpers/cli.js';
import { startServe } from '../helpers/remote-server.js';
import { seedBusybox, startRegistry, type TestRegistry } from '../fixtures/registry.js';

// Reports whether the cache mount still holds the marker of an earlier build, then leaves 5000 bytes in it.
const DOCKERFILE = [
  'FROM busybox',
  "RUN --mount=type=cache,target=/root/.cache sh -c 'if [ -f /root/.cache/marker ]; then echo mount-hit; else echo mount-miss; fi; head -c 5000 /dev/zero > /root/.cache/marker'",
  '',
].join('\n');
const DESCRIPTION = 'cache mount /root/.cache (id=/root/.cache)';

describe('cache mounts as cache records: du and prune', () => {
  let registry: TestRegistry;
  let tmp: TempDir;
  let config: string;
  let ctx: string;

  beforeAll(async () => {
    registry = await startRegistry();
    await seedBusybox(registry.host);
    tmp = await makeTempDir('tbuild-cache-mount-gc-');
    config = await writeMirrorConfig(tmp.path, registry.host);
    ctx = join(tmp.path, 'ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE);
  });

  afterAll(async () => {
    await tmp?.[Symbol.asyncDispose]();
    await registry?.stop();
  });

  it('lists a cache mount with its size; prune keeps it while recent, removes it without filters and with --all', async () => {
    const root = join(tmp.path, 'root');
    const build = async (): Promise<string> => {
      const r = await runTbuild(['build', '--root', root, '--config', config, '--progress', 'plain', '--no-cache', ctx]);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout + r.stderr;
    };
    const tbuild = async (args: string[]): Promise<string> => {
      const r = await runTbuild([...args, '--root', root]);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout;
    };

    expect(await build()).toContain('mount-miss');
    const du = await tbuild(['du', '--verbose']);
    expect(du).toContain(`Description:\t${DESCRIPTION}`);
    expect(du).toMatch(/Type:\t\texec\.cachemount\nSnapshot:\t\(empty\)\n(?:[^\n]+\n){2}Description:[^\n]*\nShared:\t\tfalse\nIn use:\t\tfalse\nSize:\t\t5(\.\d+)?kB/);
    expect(await tbuild(['du'])).toMatch(/Total:\t\t\d/);

    // Used just now: a one-hour filter keeps it.
    await tbuild(['prune', '--filter', 'until=1h']);
    expect(await tbuild(['du', '--verbose'])).toContain(DESCRIPTION);
    expect(await build()).toContain('mount-hit');

    // Like BuildKit, a prune without filters removes cache mounts too (--all only adds internal records there).
    await tbuild(['prune']);
    expect(await tbuild(['du', '--verbose'])).not.toContain(DESCRIPTION);
    expect(await build()).toContain('mount-miss');

    const pruned = await tbuild(['prune', '--all']);
    expect(pruned).toMatch(/^Deleted [1-9]\d* cache records/);
    expect(await tbuild(['du', '--verbose'])).not.toContain(DESCRIPTION);
    expect(await build()).toContain('mount-miss');
  });

  it('shows and prunes cache mounts of a remote builder', async () => {
    const serverRoot = join(tmp.path, 'server-root');
    // The server's du and prune go through the same code; an embedded build fills its store.
    const built = await runTbuild(['build', '--root', serverRoot, '--config', config, '--progress', 'plain', ctx]);
    expect(built.code, built.stderr).toBe(0);
    const builder = `unix://${join(tmp.path, 'run', 'tbuild.sock')}`;
    const server = await startServe(['--addr', builder, '--root', serverRoot, '--config', config]);
    try {
      const du = await runTbuild(['du', '--builder', builder, '--verbose']);
      expect(du.code, du.stderr).toBe(0);
      expect(du.stdout).toContain(`Description:\t${DESCRIPTION}`);
      const prune = await runTbuild(['prune', '--builder', builder, '--all']);
      expect(prune.code, prune.stderr).toBe(0);
      const after = await runTbuild(['du', '--builder', builder, '--verbose']);
      expect(after.stdout).not.toContain(DESCRIPTION);
    } finally {
      await server.stop();
    }
  });
});
