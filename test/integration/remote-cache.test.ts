import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, runTbuild, writeMirrorConfig, type CliResult, type TempDir } from '../helpers/cli.js';
import { startServe, type ServeProcess } from '../helpers/remote-server.js';
import { seedBusybox, startRegistry, type TestRegistry } from '../fixtures/registry.js';

const SECRET = 'tbuild-remote-secret-Vd93qLw7';

/** Vertices `#N [k/n] RUN ...` of plain progress, each with whether it was reported CACHED and whether it printed output. */
function runSteps(stderr: string): { name: string; cached: boolean; printed: boolean }[] {
  const lines = stderr.split('\n');
  return lines
    .filter((l) => /^#\d+ \[\d+\/\d+\] RUN /.test(l))
    .map((line) => {
      const n = line.split(' ')[0] ?? '';
      // RUN output lines look like `#N 0.123 text`.
      return { name: line.slice(n.length + 1), cached: lines.includes(`${n} CACHED`), printed: lines.some((l) => new RegExp(`^${n} \\d+\\.\\d+ `).test(l)) };
    });
}

function expectNoRunRan(res: CliResult): void {
  expect(res.code, res.stderr).toBe(0);
  const steps = runSteps(res.stderr);
  expect(steps.length).toBeGreaterThanOrEqual(2);
  for (const s of steps) {
    expect(s.cached, `${s.name} was not cached:\n${res.stderr}`).toBe(true);
    expect(s.printed, `${s.name} ran:\n${res.stderr}`).toBe(false);
  }
}

/** filesContaining lists the files under dir whose bytes contain needle. */
async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const hits: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    if ((await readFile(path)).includes(needle)) hits.push(path);
  }
  return hits;
}

describe('tbuild build --builder: cache import/export and secrets through the builder', () => {
  let registry: TestRegistry;
  let tmp: TempDir;
  let config: string;
  let root: string;
  let server: ServeProcess;
  let builder: string;
  let roots = 0;
  const env = { XDG_CONFIG_HOME: '', XDG_CACHE_HOME: '' };

  const context = async (name: string, dockerfile: string): Promise<string> => {
    const ctx = join(tmp.path, name);
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), dockerfile);
    return ctx;
  };
  const remote = (args: readonly string[], ctx: string): Promise<CliResult> => runTbuild(['build', '--builder', builder, '--progress', 'plain', ...args, ctx], { env });
  const embedded = (args: readonly string[], ctx: string): Promise<CliResult> =>
    runTbuild(['build', '--root', join(tmp.path, `embedded-root-${roots++}`), '--config', config, '--progress', 'plain', ...args, ctx]);

  beforeAll(async () => {
    registry = await startRegistry();
    await seedBusybox(registry.host);
    tmp = await makeTempDir('tbuild-remote-cache-');
    config = await writeMirrorConfig(tmp.path, registry.host);
    root = join(tmp.path, 'server-root');
    builder = `unix://${join(tmp.path, 'run', 'tbuild.sock')}`;
    env.XDG_CONFIG_HOME = join(tmp.path, 'client', 'config');
    env.XDG_CACHE_HOME = join(tmp.path, 'client', 'cache');
    server = await startServe(['--addr', builder, '--root', root, '--config', config]);
  });

  afterAll(async () => {
    await server?.stop();
    await tmp?.[Symbol.asyncDispose]();
    await registry?.stop();
  });

  it('exports mode=max to a registry from the builder, and an embedded build on an empty root imports it without running anything', async () => {
    const ctx = await context('to-registry', 'FROM busybox\nRUN echo one | tee /one\nRUN echo two | tee /two\n');
    const ref = `${registry.host}/cache/remote-out:max`;
    const first = await remote(['--cache-to', `type=registry,ref=${ref},mode=max`], ctx);
    expect(first.code, first.stderr).toBe(0);
    expect(runSteps(first.stderr).every((r) => !r.cached && r.printed)).toBe(true);
    expectNoRunRan(await embedded(['--cache-from', `type=registry,ref=${ref}`], ctx));
  });

  it('imports on the builder a registry cache an embedded build exported', async () => {
    const ctx = await context('from-registry', 'FROM busybox\nRUN echo three | tee /three\nRUN echo four | tee /four\n');
    const ref = `${registry.host}/cache/remote-in:max`;
    const first = await embedded(['--cache-to', `type=registry,ref=${ref},mode=max`], ctx);
    expect(first.code, first.stderr).toBe(0);
    expectNoRunRan(await remote(['--cache-from', `type=registry,ref=${ref}`], ctx));
  });

  it('refuses type=local caches with an error naming the registry alternative', async () => {
    const ctx = await context('local-cache', 'FROM scratch\n');
    for (const flag of [['--cache-to', `type=local,dest=${join(tmp.path, 'c')}`], ['--cache-from', `type=local,src=${join(tmp.path, 'c')}`]]) {
      const res = await remote(flag, ctx);
      expect(res.code).toBe(2);
      expect(res.stderr).toContain('type=local on a remote builder');
      expect(res.stderr).toContain('use type=registry');
    }
  });

  it('serves a --secret to the builder on request and leaves it nowhere on the builder', async () => {
    const secretFile = join(tmp.path, 'token.txt');
    await writeFile(secretFile, SECRET);
    const ctx = await context(
      'secret',
      'FROM busybox\nRUN --mount=type=secret,id=t,required sha256sum /run/secrets/t | cut -d" " -f1 > /sum && echo "sum=$(cat /sum)"\n',
    );
    const out = join(tmp.path, 'secret-out');
    const res = await remote(['--secret', `id=t,src=${secretFile}`, '--output', `type=local,dest=${out}`], ctx);
    expect(res.code, res.stderr).toBe(0);
    const want = createHash('sha256').update(SECRET).digest('hex');
    expect((await readFile(join(out, 'sum'), 'utf8')).trim()).toBe(want);
    expect(res.stderr).toContain(`sum=${want}`);
    expect(await filesContaining(root, SECRET)).toEqual([]);
    expect(server.log()).not.toContain(SECRET);
  });

  it('fails a remote build whose required secret the client does not have', async () => {
    const ctx = await context('secret-missing', 'FROM busybox\nRUN --mount=type=secret,id=absent,required true\n');
    const res = await remote(['--secret', `id=other,src=${join(tmp.path, 'token.txt')}`], ctx);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('secret absent: not found');
  });
});
