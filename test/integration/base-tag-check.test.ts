import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCountingProxy, type CountingProxy } from '../fixtures/counting-proxy.js';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { runTbuild, type CliResult } from '../helpers/cli.js';
import { startServe, type ServeProcess } from '../helpers/remote-server.js';

describe('a base tag resolved earlier is checked again once its time to live is over', () => {
  const env = useBuildEnvironment();
  let proxy: CountingProxy;
  let user: string;
  let server: ServeProcess | undefined;
  /** Settings whose resolutions expire at once, and ones that stay fresh for a day. */
  const settings = { expired: '', fresh: '' };

  /** Pushes an image whose /version says `version` as the tag test/base:1. */
  async function pushBase(version: string): Promise<void> {
    const dir = join(env.tmp.path, `base-${version}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'Dockerfile'), `FROM busybox\nRUN echo ${version} > /version\n`);
    const out = `type=image,name=${env.registry.host}/test/base:1,push=true`;
    const res = await runTbuild(['build', '--root', join(env.tmp.path, 'pusher'), '--config', env.config, '--output', out, dir]);
    expect(res.code, res.stderr).toBe(0);
  }

  /** Builds the user's Dockerfile (through the counting proxy) into a folder, returning what the registry was asked. */
  async function build(config: string, extra: readonly string[] = []): Promise<CliResult & { requests: string[]; seen: string }> {
    proxy.reset();
    const dest = join(env.tmp.path, `out-${Date.now()}`);
    const args = ['build', '--root', join(env.tmp.path, 'user-root'), '--config', config, '--progress', 'plain', ...extra, '-o', `type=local,dest=${dest}`, user];
    const res = await runTbuild(args);
    const seen = res.code === 0 ? await readFile(join(dest, 'seen'), 'utf8') : '';
    return { ...res, requests: [...proxy.requests], seen };
  }

  beforeAll(async () => {
    proxy = await startCountingProxy(env.registry.host);
    await pushBase('one');
    user = join(env.tmp.path, 'user');
    await mkdir(user);
    // `as` in lower case: a Dockerfile warning, shown once even when the build starts over.
    await writeFile(join(user, 'Dockerfile'), `FROM ${proxy.host}/test/base:1 as user\nRUN cat /version > /seen\n`);
    settings.expired = join(env.tmp.path, 'expired.toml');
    // A long check timeout: on a loaded machine a refused connection must not read as no answer in time.
    await writeFile(settings.expired, '[resolve]\ntag-ttl = "0"\ncheck-timeout = "30s"\n');
    settings.fresh = join(env.tmp.path, 'fresh.toml');
    await writeFile(settings.fresh, '[resolve]\ntag-ttl = "24h"\n');
    return () => proxy.close();
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** Builds the user's Dockerfile on a `tbuild serve` whose own settings make resolutions expire at once. */
  async function remoteBuild(): Promise<CliResult & { requests: string[] }> {
    const builder = `unix://${join(env.tmp.path, 'run', 'tbuild.sock')}`;
    server ??= await startServe(['--addr', builder, '--root', join(env.tmp.path, 'server-root'), '--config', settings.expired]);
    proxy.reset();
    const clientEnv = { XDG_CONFIG_HOME: join(env.tmp.path, 'client', 'config'), XDG_CACHE_HOME: join(env.tmp.path, 'client', 'cache') };
    const res = await runTbuild(['build', '--builder', builder, '--progress', 'plain', user], { env: clientEnv });
    return { ...res, requests: [...proxy.requests] };
  }

  const head = 'HEAD /v2/test/base/manifests/1';

  it('asks the registry nothing while the resolution is fresh', async () => {
    const first = await build(settings.fresh);
    expect(first.code, first.stderr).toBe(0);
    expect(first.requests.length).toBeGreaterThan(0);
    const again = await build(settings.fresh);
    expect(again.code, again.stderr).toBe(0);
    expect(again.requests).toEqual([]);
    expect(again.stderr).toMatch(/RUN cat \/version > \/seen[\s\S]*CACHED/);
  });

  it('sends one HEAD when it expired and the tag has not moved, and keeps every step cached', async () => {
    const res = await build(settings.expired);
    expect(res.code, res.stderr).toBe(0);
    expect(res.requests).toEqual([head]);
    expect(res.seen).toBe('one\n');
    expect(res.stderr).toContain(`[internal] load metadata for ${proxy.host}/test/base:1`);
    expect(res.stderr).not.toMatch(/moved/);
    expect(res.stderr.match(/CACHED/g)?.length).toBeGreaterThanOrEqual(2);
  });

  it("checks the same way on a remote builder, with the server's settings", async () => {
    const first = await remoteBuild();
    expect(first.code, first.stderr).toBe(0);
    expect(first.requests).toContain('GET /v2/test/base/manifests/1');
    const again = await remoteBuild();
    expect(again.code, again.stderr).toBe(0);
    expect(again.requests).toEqual([head]);
    expect(again.stderr).toContain(`[internal] load metadata for ${proxy.host}/test/base:1`);
    expect(again.stderr).toMatch(/RUN cat \/version > \/seen[\s\S]*CACHED/);
  });

  it('builds on the new image when the tag moved, and says so', async () => {
    await pushBase('two');
    const res = await build(settings.expired);
    expect(res.code, res.stderr).toBe(0);
    expect(res.seen).toBe('two\n');
    expect(res.stderr).toMatch(new RegExp(`${proxy.host}/test/base:1 moved: sha256:[a-f0-9]{64} -> sha256:[a-f0-9]{64}`));
    expect(res.stderr.match(/WARNING: FromAsCasing/g)).toHaveLength(1);
    // The build that went ahead on the stored image stops and is made again on the new one, which is checked once.
    expect(res.requests.filter((r) => r === head)).toEqual([head]);
    const again = await build(settings.expired);
    expect(again.requests).toEqual([head]);
    expect(again.seen).toBe('two\n');
  });

  it('fails at the FROM line when the registry says the tag is gone', async () => {
    proxy.mode = { kind: 'status', status: 404 };
    try {
      const res = await build(settings.expired);
      expect(res.code).toBe(1);
      // A 404 to HEAD is confirmed with a GET: some registries do not serve HEAD.
      expect(res.requests).toEqual([head, 'GET /v2/test/base/manifests/1']);
      expect(res.stderr).toMatch(new RegExp(`ERROR: .*FROM ${proxy.host}/test/base:1@sha256:[a-f0-9]{64}: Cannot check image "${proxy.host}/test/base:1": the registry no longer has this tag`));
      expect(res.stderr).toContain('--> Dockerfile:1');
      expect(res.stderr).toMatch(new RegExp(`hint: to build on the image it named \\d+m?s ago, use ${proxy.host}/test/base:1@sha256:[a-f0-9]{64}`));
    } finally {
      proxy.mode = { kind: 'forward' };
    }
  });

  it('builds from the store with a warning when the registry cannot be reached, but not with --pull', async () => {
    await proxy.close();
    const res = await build(settings.expired);
    expect(res.code, res.stderr).toBe(0);
    expect(res.seen).toBe('two\n');
    expect(res.stderr).toMatch(new RegExp(`WARNING: Cannot check image "${proxy.host}/test/base:1": cannot reach registry .*; using its resolution from \\d+m?s ago`));
    const remote = await remoteBuild();
    expect(remote.code, remote.stderr).toBe(0);
    expect(remote.stderr).toMatch(/WARNING: Cannot check image .*cannot reach registry .*; using its resolution from \d+m?s ago/);
    const pulled = await build(settings.fresh, ['--pull']);
    expect(pulled.code).toBe(1);
    expect(pulled.stderr).toMatch(/cannot reach registry/);
  });
});
