import { appendFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, seedBusybox, startRegistry, type TestRegistry } from '../fixtures/registry.js';
import { makeTempDir, runTbuild, writeMirrorConfig, type CliResult, type TempDir } from '../helpers/cli.js';
import { plainSteps } from '../helpers/plain-steps.js';
import { startServe, type ServeProcess } from '../helpers/remote-server.js';

const DOCKERFILE = `FROM busybox AS gen
RUN head -c 2000000 /dev/urandom > /big && cat /proc/sys/kernel/random/uuid > /gen-marker && echo gen-ran && sleep 2
RUN sha256sum /big | cut -c1-64 > /big.sum

FROM busybox
COPY --from=gen /big.sum /gen-marker /
RUN cat /proc/sys/kernel/random/uuid > /run-marker && echo final-ran && sleep 2
COPY app.txt /app.txt
`;

/** Output of either RUN (`#N 1.234 gen-ran`): a RUN printing it ran. */
const RAN = /^#\d+ \d+\.\d+ (?:gen|final)-ran$/m;

interface Built {
  readonly res: CliResult;
  readonly ms: number;
  readonly out: string;
}

/** Blob digests in a server's content store. */
async function storeBlobs(root: string): Promise<Set<string>> {
  const hexes = await readdir(join(root, 'content/blobs/sha256')).catch((err: unknown) => (isMissing(err) ? [] : Promise.reject(err)));
  return new Set(hexes.map((h) => `sha256:${h}`));
}

function isMissing(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === 'ENOENT';
}

/** RUN steps of plain progress, each with whether it was reported CACHED. */
function runSteps(res: CliResult): { name: string; cached: boolean }[] {
  return plainSteps(res.stderr).filter((s) => /\] RUN /.test(s.name));
}

describe('[cache] of tbuild serve: a registry cache shared by the servers of a builder, keyed per project', () => {
  let registry: TestRegistry;
  let tmp: TempDir;
  let shared: string;
  let plain: string;
  const servers = new Map<string, ServeProcess>();
  const env = (): NodeJS.ProcessEnv => ({ XDG_CONFIG_HOME: join(tmp.path, 'client-config'), XDG_CACHE_HOME: join(tmp.path, 'client-cache'), TBUILD_HOST: '', TBUILD_BUILDER: '' });
  const serve = async (name: string, config: string, args: readonly string[] = []): Promise<string> => {
    const address = `unix://${join(tmp.path, `${name}.sock`)}`;
    servers.set(address, await startServe(['--addr', address, '--root', join(tmp.path, `root-${name}`), '--config', config, ...args]));
    return address;
  };
  let outs = 0;
  const build = async (address: string, ctx: string, args: readonly string[] = []): Promise<Built> => {
    const out = join(tmp.path, `out-${outs++}`);
    const started = Date.now();
    const res = await runTbuild(['build', '--builder', address, '--progress', 'plain', '-o', `type=local,dest=${out}`, ...args, ctx], { env: env() });
    return { res, ms: Date.now() - started, out };
  };
  const project = async (name: string): Promise<string> => {
    const ctx = join(tmp.path, name);
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE);
    await writeFile(join(ctx, 'app.txt'), `app of ${name}\n`);
    return ctx;
  };
  const markers = async (out: string): Promise<string[]> => Promise.all(['gen-marker', 'run-marker'].map((m) => readFile(join(out, m), 'utf8')));
  const cacheTags = async (): Promise<string[]> => {
    const res = await fetch(`http://${registry.host}/v2/tbuild-cache/tags/list`);
    return res.status === 404 ? [] : ((await res.json()) as { tags: string[] | null }).tags ?? [];
  };

  beforeAll(async () => {
    registry = await startRegistry();
    await seedBusybox(registry.host);
    tmp = await makeTempDir('tbuild-shared-cache-');
    plain = await writeMirrorConfig(tmp.path, registry.host);
    await mkdir(join(tmp.path, 'shared'));
    shared = await writeMirrorConfig(join(tmp.path, 'shared'), registry.host);
    await appendFile(shared, `[cache]\nregistry = "${registry.host}/tbuild-cache"\nmode = "max"\n`);
  }, 60_000);

  afterAll(async () => {
    for (const s of servers.values()) await s.stop();
    await tmp?.[Symbol.asyncDispose]();
    await registry?.stop();
  });

  it('builds a project moved to a fresh server from the cache another server exported: no RUN runs again, and layers no step needs stay in the registry', async () => {
    const a = await serve('a', shared);
    const b = await serve('b', shared);
    const cold = await serve('cold', plain);
    const ctx = await project('moved');

    const first = await build(a, ctx);
    expect(first.res.code, first.res.stderr).toBe(0);
    expect(first.res.stderr).toMatch(RAN);
    // The first build of a project finds no cache to import, says so, and exports one after its output.
    expect(first.res.stderr).toMatch(new RegExp(`WARNING: No build cache found at "${registry.host}/tbuild-cache:p-[0-9a-f]{32}"`));
    const exportAt = first.res.stderr.search(/exporting cache to registry /);
    const outputAt = first.res.stderr.search(/^#\d+ sending tarball$/m);
    expect(outputAt).toBeGreaterThan(0);
    expect(exportAt).toBeGreaterThan(outputAt);
    const [tag] = await cacheTags();
    expect(tag).toMatch(/^p-[0-9a-f]{32}$/);
    const warm = await build(a, ctx);
    expect(warm.res.code, warm.res.stderr).toBe(0);
    for (const s of runSteps(warm.res)) expect(s.cached, s.name).toBe(true);

    // B has an empty store: every RUN comes from the shared cache, and its files are those A made.
    const moved = await build(b, ctx);
    expect(moved.res.code, moved.res.stderr).toBe(0);
    expect(moved.res.stderr).toContain(`importing cache manifest from ${registry.host}/tbuild-cache:${tag ?? ''}`);
    const steps = runSteps(moved.res);
    expect(steps).toHaveLength(3);
    for (const s of steps) expect(s.cached, `${s.name} ran on the fresh server:\n${moved.res.stderr}`).toBe(true);
    expect(moved.res.stderr).not.toMatch(RAN);
    expect(await markers(moved.out)).toEqual(await markers(first.out));
    // B's build record says the same: every RUN step cached.
    const record = await runTbuild(['history', 'inspect', '--builder', b, '--format', 'json'], { env: env() });
    expect(record.code, record.stderr).toBe(0);
    const recorded = (JSON.parse(record.stdout) as { steps: { name: string; status: string }[] }).steps.filter((st) => /\] RUN /.test(st.name));
    expect(recorded.map((st) => st.status)).toEqual(['cached', 'cached', 'cached']);
    // Lazy: the gen stage's 2 MB layer is in the shared cache, but nothing on B needed it (COPY --from hit).
    const manifest = (await (await fetch(`http://${registry.host}/v2/tbuild-cache/manifests/${tag ?? ''}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).json()) as { layers: { digest: string; size: number }[] };
    const big = manifest.layers.reduce((x, y) => (y.size > x.size ? y : x));
    expect(big.size).toBeGreaterThan(1_900_000);
    const onB = await storeBlobs(join(tmp.path, 'root-b'));
    expect(onB.has(big.digest), 'the unused layer was downloaded').toBe(false);

    // The same project cold on a fresh server without [cache]: every RUN runs.
    const coldBuild = await build(cold, ctx);
    expect(coldBuild.res.code, coldBuild.res.stderr).toBe(0);
    for (const s of runSteps(coldBuild.res)) expect(s.cached, s.name).toBe(false);
    expect(await markers(coldBuild.out)).not.toEqual(await markers(first.out));
    console.info(`shared cache: moved build on a fresh server ${moved.ms} ms, cold build on a fresh server ${coldBuild.ms} ms, warm on its own server ${warm.ms} ms`);
  });

  it('builds a project from the shared cache on the next node of a named builder once its own node is down', async () => {
    const nodes = [await serve('f0', shared), await serve('f1', shared)];
    const created = await runTbuild(['builder', 'create', 'farm', ...nodes.flatMap((n) => ['--node', n])], { env: env() });
    expect(created.code, created.stderr).toBe(0);
    const ctx = await project('failover');
    const meta = join(tmp.path, 'failover-meta.json');
    const viaFarm = (): Promise<Built> => build('farm', ctx, ['--metadata-file', meta]);
    const nodeOf = async (): Promise<string> => String((JSON.parse(await readFile(meta, 'utf8')) as Record<string, unknown>)['buildx.build.ref']).split('/')[1] ?? '';
    const first = await viaFarm();
    expect(first.res.code, first.res.stderr).toBe(0);
    const ranFirst = await nodeOf();
    // The node that took the build goes down: the next build of the project goes to the other, whose store is empty.
    const down = nodes[Number(ranFirst.replace(/^farm/, ''))];
    expect(down).toBeDefined();
    await servers.get(down ?? '')?.kill();
    const moved = await viaFarm();
    expect(moved.res.code, moved.res.stderr).toBe(0);
    expect(await nodeOf()).not.toBe(ranFirst);
    expect(moved.res.stderr).toContain('using node');
    for (const s of runSteps(moved.res)) expect(s.cached, `${s.name} ran on the next node:\n${moved.res.stderr}`).toBe(true);
    expect(moved.res.stderr).not.toMatch(RAN);
    expect(await markers(moved.out)).toEqual(await markers(first.out));
  });

  it('keeps the caches of two projects apart, keeps the client\'s own caches, and imports nothing with --no-cache', async () => {
    const a = await serve('a2', shared);
    const other = await project('other');
    const own = `${registry.host}/own/cache:latest`;
    const before = await cacheTags();
    const res = await build(a, other, ['--cache-to', `type=registry,ref=${own},mode=max`, '--cache-from', own]);
    expect(res.res.code, res.res.stderr).toBe(0);
    const after = await cacheTags();
    expect(after).toHaveLength(before.length + 1);
    expect(res.res.stderr).toContain(`exporting cache to registry ${own}`);
    expect(res.res.stderr).toMatch(/exporting cache to registry \S+\/tbuild-cache:p-/);
    expect((await fetch(`http://${registry.host}/v2/own/cache/manifests/latest`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).status).toBe(200);

    // Piped builds are known by their Dockerfile: two Dockerfiles, two caches; the same one again, its own cache.
    const piped = (text: string): Promise<CliResult> => runTbuild(['build', '--builder', a, '--progress', 'plain', '-'], { env: env(), input: text });
    for (const text of ['FROM busybox\nRUN echo piped-one\n', 'FROM busybox\nRUN echo piped-two\n']) expect((await piped(text)).code).toBe(0);
    expect(await cacheTags()).toHaveLength(after.length + 2);
    const repeat = await piped('FROM busybox\nRUN echo piped-one\n');
    expect(repeat.code, repeat.stderr).toBe(0);
    expect(await cacheTags()).toHaveLength(after.length + 2);

    const again = await build(a, other, ['--no-cache']);
    expect(again.res.code, again.res.stderr).toBe(0);
    expect(again.res.stderr).not.toContain('importing cache manifest');
    for (const s of runSteps(again.res)) expect(s.cached, s.name).toBe(false);
  });

  it('keys the shared cache per named tenant: a tenant finds its own on another server, never another tenant\'s', async () => {
    const tokens = join(tmp.path, 'tokens');
    await writeFile(tokens, 'alice tok-alice\nbob tok-bob\n');
    const [s1, s2] = [await serve('t1', shared, ['--tokens-file', tokens]), await serve('t2', shared, ['--tokens-file', tokens])];
    const ctx = await project('tenants');
    const as = async (token: string, address: string): Promise<Built> => build(address, ctx, ['--token', token]);
    const alice = await as('tok-alice', s1);
    expect(alice.res.code, alice.res.stderr).toBe(0);
    const aliceRef = /exporting cache to registry (\S+)/.exec(alice.res.stderr)?.[1];
    expect(aliceRef).toMatch(/tbuild-cache:p-[0-9a-f]{32}$/);
    const moved = await as('tok-alice', s2);
    expect(moved.res.code, moved.res.stderr).toBe(0);
    expect(moved.res.stderr).toContain(`importing cache manifest from ${aliceRef ?? ''}`);
    for (const s of runSteps(moved.res)) expect(s.cached, s.name).toBe(true);
    expect(await markers(moved.out)).toEqual(await markers(alice.out));
    const bob = await as('tok-bob', s2);
    expect(bob.res.code, bob.res.stderr).toBe(0);
    expect(bob.res.stderr).not.toContain(aliceRef ?? '');
    expect(bob.res.stderr).toMatch(RAN);
    expect(await markers(bob.out)).not.toEqual(await markers(alice.out));
  });

  it('warns and succeeds when the shared cache registry does not answer', async () => {
    const down = join(tmp.path, 'down');
    await mkdir(down);
    const config = await writeMirrorConfig(down, registry.host);
    await appendFile(config, `[cache]\nregistry = "127.0.0.1:${await freePort()}/tbuild-cache"\n`);
    const node = await serve('down', config);
    const res = await build(node, await project('unreachable'));
    expect(res.res.code, res.res.stderr).toBe(0);
    expect(res.res.stderr).toMatch(/WARNING: Ignoring cache "127\.0\.0\.1:\d+\/tbuild-cache:p-[0-9a-f]{32}"/);
    expect(res.res.stderr).toMatch(/WARNING: Ignoring the failed cache export to registry "127\.0\.0\.1:\d+\/tbuild-cache:p-[0-9a-f]{32}"/);
    expect(await readFile(join(res.out, 'app.txt'), 'utf8')).toBe('app of unreachable\n');
  });

  it('refuses to start with a [cache] that names a tag or an unknown setting', async () => {
    const bad = join(tmp.path, 'bad');
    await mkdir(bad);
    const config = join(bad, 'tbuild.toml');
    await writeFile(config, `[cache]\nregistry = "${registry.host}/tbuild-cache:v1"\n`);
    await expect(startServe(['--addr', `unix://${join(bad, 's.sock')}`, '--root', join(bad, 'root'), '--config', config])).rejects.toThrow(/\[cache\] registry must name a repository without tag or digest/);
    await writeFile(config, `[cache]\nregistry = "${registry.host}/tbuild-cache"\nmod = "max"\n`);
    await expect(startServe(['--addr', `unix://${join(bad, 's.sock')}`, '--root', join(bad, 'root'), '--config', config])).rejects.toThrow(/\[cache\] mod is not a setting/);
  });
});
