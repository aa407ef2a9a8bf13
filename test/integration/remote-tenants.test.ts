import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { remoteInfo } from '../../remote/client.js';
import { makeTempDir, runTbuild, writeMirrorConfig, type CliResult, type TempDir } from '../helpers/cli.js';
import { startServe, type ServeProcess } from '../helpers/remote-server.js';
import { seedBusybox, startRegistry, type TestRegistry } from '../fixtures/registry.js';

interface Listed {
  readonly ref: string;
  readonly status: string;
}

interface LogLine {
  readonly msg: string;
  readonly tenant?: string;
  readonly build?: string;
  readonly error?: string;
}

const TENANTS = `
[tenants.ci]
max-builds = 2
max-queued = 6

[tenants.tight]
max-builds = 1
max-queued = 1
`;

describe('tbuild serve tenants: named tokens, own builds and records, own cache, limits', () => {
  let registry: TestRegistry;
  let tmp: TempDir;
  let server: ServeProcess;
  let builder: string;
  let tokens: string;
  let config: string;
  const ctx = (name: string): string => join(tmp.path, 'ctx', name);
  // Every client has the same client id: what keeps tenants apart is their token, not what the client says.
  const env = (): Record<string, string> => ({ XDG_CONFIG_HOME: join(tmp.path, 'client', 'config'), XDG_CACHE_HOME: join(tmp.path, 'client', 'cache') });
  const tbuild = (token: string, args: readonly string[], at = builder): Promise<CliResult> => runTbuild([...args, '--builder', at, '--token', token], { env: env() });
  const listed = async (token: string, at = builder): Promise<Listed[]> => {
    const ls = await tbuild(token, ['history', 'ls', '--format', 'json'], at);
    expect(ls.code, ls.stderr).toBe(0);
    return ls.stdout.split('\n').filter((l) => l !== '').map((l): Listed => JSON.parse(l));
  };
  const logLines = (s: ServeProcess): LogLine[] => s.log().split('\n').filter((l) => l.startsWith('{')).map((l): LogLine => JSON.parse(l));

  beforeAll(async () => {
    registry = await startRegistry();
    await seedBusybox(registry.host);
    tmp = await makeTempDir('tbuild-remote-tenants-');
    config = await writeMirrorConfig(tmp.path, registry.host);
    await appendFile(config, TENANTS);
    tokens = join(tmp.path, 'tokens');
    await writeFile(tokens, '# tenant token\nalice tok-alice\nbob tok-bob\nci tok-ci\ntight tok-tight\n');
    await mkdir(ctx('uuid'), { recursive: true });
    await writeFile(join(ctx('uuid'), 'Dockerfile'), 'FROM busybox\nRUN cat /proc/sys/kernel/random/uuid > /id\n');
    await mkdir(ctx('sleep'), { recursive: true });
    await writeFile(join(ctx('sleep'), 'Dockerfile'), 'FROM busybox\nARG N\nARG S=1\nRUN sleep $S && echo "build $N"\n');
    builder = `unix://${join(tmp.path, 'run', 'tbuild.sock')}`;
    server = await startServe(['--addr', builder, '--root', join(tmp.path, 'root'), '--config', config, '--tokens-file', tokens]);
  });

  afterAll(async () => {
    await server?.stop();
    await tmp?.[Symbol.asyncDispose]();
    await registry?.stop();
  });

  const buildUuid = async (token: string, out: string, at = builder): Promise<{ id: string; log: string }> => {
    const res = await tbuild(token, ['build', '--progress', 'plain', '-o', `type=local,dest=${join(tmp.path, out)}`, ctx('uuid')], at);
    expect(res.code, res.stderr.slice(-2000)).toBe(0);
    return { id: await readFile(join(tmp.path, out, 'id'), 'utf8'), log: res.stderr };
  };

  it('lists, inspects and logs each tenant’s builds to it alone, and keeps each tenant’s cache apart', async () => {
    const a1 = await buildUuid('tok-alice', 'a1');
    const a2 = await buildUuid('tok-alice', 'a2');
    // Alice's second build reuses her cached step; Bob, with the same Dockerfile, gets none of her layers.
    expect(a2.id).toBe(a1.id);
    expect(a2.log).toMatch(/RUN cat \/proc\/sys\/kernel\/random\/uuid[^\n]*\n#\d+ CACHED/);
    const b1 = await buildUuid('tok-bob', 'b1');
    expect(b1.id).not.toBe(a1.id);
    expect(b1.log).not.toMatch(/#\d+ CACHED/);

    const alice = await listed('tok-alice');
    const bob = await listed('tok-bob');
    expect(alice).toHaveLength(2);
    expect(bob).toHaveLength(1);
    expect(bob.map((r) => r.ref)).not.toContain(alice[0]?.ref);
    const inspected = await tbuild('tok-alice', ['history', 'inspect', alice[0]?.ref ?? '']);
    expect(inspected.code, inspected.stderr).toBe(0);
    expect(inspected.stdout).toMatch(/Tenant:\s+alice\n/);
    // Another tenant's build is not found, as a build that never was.
    const foreign = await tbuild('tok-bob', ['history', 'inspect', alice[0]?.ref ?? '']);
    expect(foreign.code).not.toBe(0);
    expect(foreign.stderr).toContain(`Cannot find build record "${alice[0]?.ref ?? ''}"`);
    const rm = await tbuild('tok-bob', ['history', 'rm', alice[0]?.ref ?? '']);
    expect(rm.code).not.toBe(0);
    expect(await listed('tok-alice')).toHaveLength(2);

    // The server's log lines of a build name its tenant.
    const started = logLines(server).filter((l) => l.msg === 'build started' || l.msg === 'build completed');
    expect(started.filter((l) => l.tenant === 'alice')).toHaveLength(4);
    expect(started.filter((l) => l.tenant === 'bob')).toHaveLength(2);
    expect(started.every((l) => l.tenant !== undefined)).toBe(true);
  });

  it('shares one cache between tenants when [serve] share-cache = true', async () => {
    const shared = join(tmp.path, 'shared.toml');
    await writeFile(shared, `${await readFile(config, 'utf8')}\n[serve]\nshare-cache = true\n`);
    const sock = `unix://${join(tmp.path, 'run', 'shared.sock')}`;
    await using s = await startServe(['--addr', sock, '--root', join(tmp.path, 'root-shared'), '--config', shared, '--tokens-file', tokens]);
    const a = await buildUuid('tok-alice', 's-a', sock);
    const b = await buildUuid('tok-bob', 's-b', sock);
    expect(b.id).toBe(a.id);
    expect(b.log).toMatch(/#\d+ CACHED/);
    // One store, but each tenant still lists its own records only.
    expect(await listed('tok-alice', sock)).toHaveLength(1);
    expect(await listed('tok-bob', sock)).toHaveLength(1);
    expect(logLines(s).some((l) => l.msg === 'build started' && l.tenant === 'bob')).toBe(true);
  });

  it('runs at most max-builds of a tenant at once: 8 clients of ci limited to 2 all succeed', async () => {
    const conn = { address: builder, tls: {}, token: 'tok-ci' };
    let most = 0;
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const i = await remoteInfo(conn);
        expect(i.tenant).toBe('ci');
        expect(i.tenantMaxBuilds).toBe(2);
        most = Math.max(most, i.tenantRunning);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, n) => tbuild('tok-ci', ['build', '--progress', 'quiet', '--build-arg', `N=${n}`, '-o', `type=local,dest=${join(tmp.path, `ci-${n}`)}`, ctx('sleep')])),
    );
    polling = false;
    await poll;
    for (const r of results) expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(most).toBe(2);
    // The records' times agree: no moment had more than two of ci's builds between their start and end.
    const inspected = await tbuild('tok-ci', ['history', 'ls', '--format', 'json']);
    const refs = inspected.stdout.split('\n').filter((l) => l !== '').map((l): Listed => JSON.parse(l));
    expect(refs).toHaveLength(8);
    const spans = await Promise.all(
      refs.map(async (r) => {
        const got = await tbuild('tok-ci', ['history', 'inspect', r.ref, '--format', 'json']);
        const rec = JSON.parse(got.stdout) as { createdAt: number; completedAt: number; tenant: string };
        expect(rec.tenant).toBe('ci');
        return rec;
      }),
    );
    for (const s of spans) expect(spans.filter((o) => o.createdAt < s.createdAt && o.completedAt > s.createdAt).length).toBeLessThan(2);
  });

  it('fails a build over the tenant’s queue at once, naming the limit, while the others wait and succeed', async () => {
    const conn = { address: builder, tls: {}, token: 'tok-tight' };
    const until = async (ok: (i: Awaited<ReturnType<typeof remoteInfo>>) => boolean): Promise<void> => {
      for (let i = 0; i < 600 && !ok(await remoteInfo(conn)); i++) await new Promise((r) => setTimeout(r, 50));
    };
    const build = (n: number, seconds: number): Promise<CliResult> => tbuild('tok-tight', ['build', '--progress', 'plain', '--build-arg', `N=t${n}`, '--build-arg', `S=${seconds}`, ctx('sleep')]);
    // The first runs long enough for the third client to start (a loaded machine takes seconds to start one).
    const first = build(1, 20);
    await until((i) => i.tenantRunning === 1);
    const second = build(2, 1);
    await until((i) => i.tenantQueued === 1);
    const third = await build(3, 1);
    expect(third.code).toBe(1);
    expect(third.stderr).toContain('Cannot queue the build: tenant "tight" has 1 builds running (max-builds = 1) and 1 waiting (max-queued = 1)');
    expect(third.stderr).toContain("hint: wait for a build of the tenant to end, or raise [tenants.NAME] max-queued in the builder's settings");
    // Another tenant is not held back by tight's limits.
    const info = await tbuild('tok-alice', ['info']);
    expect(info.stdout).toMatch(/Tenant:\s+alice \(0 running, 0 queued\)/);
    for (const r of [await first, await second]) expect(r.code, r.stderr.slice(-2000)).toBe(0);
    // The second build said what it waited for, and how long.
    expect((await second).stderr).toMatch(/#1 \[internal\] wait for a build slot of tenant "tight"\n#1 [\d.]+ 1 builds of the tenant running, 0 waiting before this one\n(#1 running [\d.]+s\n)*#1 DONE [\d.]+s\n/);
    expect((await first).stderr).not.toContain('wait for a build slot');
    // The refused build never started: only the two others did, and the server said why it refused the third.
    const lines = logLines(server);
    expect(lines.filter((l) => l.msg === 'build started' && l.tenant === 'tight')).toHaveLength(2);
    expect(lines.filter((l) => l.msg === 'build failed' && l.tenant === 'tight').map((l) => l.error)).toEqual([
      'Cannot queue the build: tenant "tight" has 1 builds running (max-builds = 1) and 1 waiting (max-queued = 1)',
    ]);
  });

  it('reads the tokens file again when it changes: the old token stops working, the new one works, without a restart', async () => {
    expect((await tbuild('tok-bob', ['info'])).code).toBe(0);
    await writeFile(`${tokens}.new`, 'alice tok-alice\nbob tok-bob-2\nci tok-ci\ntight tok-tight\n');
    await rename(`${tokens}.new`, tokens);
    const old = await tbuild('tok-bob', ['info']);
    expect(old.code).not.toBe(0);
    expect(old.stderr).toContain('unauthenticated: invalid token');
    const renewed = await tbuild('tok-bob-2', ['info']);
    expect(renewed.code, renewed.stderr).toBe(0);
    expect(renewed.stdout).toMatch(/Tenant:\s+bob /);
    // Bob's records stay his under the new token.
    expect(await listed('tok-bob-2')).toHaveLength(1);
    const none = await runTbuild(['info', '--builder', builder], { env: { ...env(), TBUILD_TOKEN: '' } });
    expect(none.stderr).toContain('unauthenticated: invalid token');
  });
});
