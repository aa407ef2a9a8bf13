import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routingKeyOf } from '../../cli/builder-select.js';
import { rankNodes, type NodeTarget } from '../../remote/node-ranking.js';
import { freePort, seedBusybox, startRegistry, type TestRegistry } from '../fixtures/registry.js';
import { makeTempDir, REPO_ROOT, run, runTbuild, writeMirrorConfig, type CliResult, type TempDir } from '../helpers/cli.js';
import { startServe, type ServeProcess } from '../helpers/remote-server.js';

const IPS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'] as const;

/** tbuildWithHosts runs tbuild in a mount namespace of its own whose /etc/hosts is `hosts` (the machine's stays as it is). */
async function tbuildWithHosts(hosts: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const script = 'mount --bind "$0" /etc/hosts && exec "$@"';
  const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, hosts, process.execPath, join(REPO_ROOT, 'bin', 'tbuild.js'), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code: code ?? -1, stdout, stderr };
}

describe('named builders of several tbuild serve servers: routing and failover', () => {
  let registry: TestRegistry;
  let tmp: TempDir;
  let port: number;
  const servers = new Map<string, ServeProcess>();
  const projects: string[] = [];
  const address = (ip: string): string => `tcp://${ip}:${port}`;
  const env = (): NodeJS.ProcessEnv => ({ XDG_CONFIG_HOME: join(tmp.path, 'client', 'config'), XDG_CACHE_HOME: join(tmp.path, 'client', 'cache'), TBUILD_HOST: '', TBUILD_BUILDER: '' });
  /** The servers ranked for a project, as the client ranks them. */
  const ranking = (dir: string): string[] => {
    const targets: NodeTarget[] = IPS.map((ip) => ({ node: ip, connection: { address: address(ip), tls: {}, token: undefined } }));
    return rankNodes(targets, routingKeyOf({ context: { kind: 'folder', dir }, dockerfile: { kind: 'path', path: join(dir, 'Dockerfile') } }, undefined)).map((t) => t.connection.address);
  };
  /** build builds a project on a builder and answers the `builder/node` that built it, from the metadata file. */
  const build = async (builder: string, dir: string, run: typeof runTbuild = runTbuild): Promise<{ res: CliResult; node: string }> => {
    const meta = join(dir, `meta-${Date.now()}.json`);
    const res = await run(['build', '--builder', builder, '--progress', 'plain', '--metadata-file', meta, dir], { env: env() });
    if (res.code !== 0) return { res, node: '' };
    const ref = String((JSON.parse(await readFile(meta, 'utf8')) as Record<string, unknown>)['buildx.build.ref']);
    return { res, node: ref.split('/').slice(0, 2).join('/') };
  };
  const nodeOf = (ip: string | undefined): string => `farm/farm${IPS.findIndex((i) => address(i) === ip)}`;

  beforeAll(async () => {
    registry = await startRegistry();
    await seedBusybox(registry.host);
    tmp = await makeTempDir('tbuild-builders-');
    const config = await writeMirrorConfig(tmp.path, registry.host);
    port = await freePort();
    for (const ip of IPS) {
      servers.set(address(ip), await startServe(['--addr', address(ip), '--insecure', '--root', join(tmp.path, `root-${ip}`), '--config', config]));
    }
    // Three projects that the ranking spreads over at least two servers (their folders are random, so pick them).
    const firsts = new Set<string>();
    for (let i = 0; projects.length < 3; i++) {
      const dir = join(tmp.path, `project-${i}`);
      const first = ranking(dir)[0] ?? '';
      if (projects.length === 2 && firsts.size === 1 && firsts.has(first)) continue;
      firsts.add(first);
      await mkdir(dir);
      await writeFile(join(dir, 'Dockerfile'), `FROM busybox\nRUN echo project-${i} | tee /project\nCOPY f.txt /f.txt\n`);
      await writeFile(join(dir, 'f.txt'), `file of project ${i}\n`);
      projects.push(dir);
    }
  }, 120_000);

  afterAll(async () => {
    for (const s of servers.values()) await s.stop();
    await tmp?.[Symbol.asyncDispose]();
    await registry?.stop();
  });

  it('creates, lists, inspects, uses and removes builders, stored one file each in the client settings folder', async () => {
    const [a, b, c] = IPS.map(address);
    const tbuild = (args: readonly string[]): Promise<CliResult> => runTbuild(args, { env: env() });
    const tokenFile = join(tmp.path, 'token');
    await writeFile(tokenFile, 'unused\n');
    expect((await tbuild(['builder', 'create', 'farm', '--node', a ?? '', '--node', b ?? ''])).code).toBe(0);
    const appended = await tbuild(['builder', 'create', 'farm', '--append', '--node', c ?? '']);
    expect(appended.code, appended.stderr).toBe(0);
    const again = await tbuild(['builder', 'create', 'farm', '--node', c ?? '']);
    expect(again.stderr).toContain('Cannot create builder "farm": it exists');
    expect((await tbuild(['builder', 'create', 'other', '--node', 'unix:///nowhere.sock', '--token-file', tokenFile])).code).toBe(0);
    const dir = join(tmp.path, 'client', 'config', 'tbuild', 'builders');
    expect((await stat(join(dir, 'other.json'))).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(join(dir, 'farm.json'), 'utf8'))).toMatchObject({ name: 'farm', nodes: [{ name: 'farm0', endpoint: a }, { name: 'farm1', endpoint: b }, { name: 'farm2', endpoint: c }] });

    const ls = await tbuild(['builder', 'ls']);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toMatch(/^embedded \*/m);
    expect(ls.stdout).toMatch(new RegExp(`^  farm0\\s+${a}\\s+running`, 'm'));
    expect(ls.stdout).toMatch(/^ {2}other0\s+unix:\/\/\/nowhere\.sock\s+error/m);
    const inspect = await tbuild(['builder', 'inspect', 'farm', '--format', 'json']);
    const shown = JSON.parse(inspect.stdout) as { nodes: { name: string; status: string; version: string; platforms: string[]; running: number; queued: number }[] };
    expect(shown.nodes.map((n) => [n.name, n.status])).toEqual([['farm0', 'running'], ['farm1', 'running'], ['farm2', 'running']]);
    expect(shown.nodes[0]).toMatchObject({ running: 0, queued: 0 });
    expect(shown.nodes[0]?.platforms.length).toBeGreaterThan(0);
    const text = await tbuild(['builder', 'inspect', 'other']);
    expect(text.stdout).toMatch(/Status:\s+error\nError:\s+Cannot connect to builder unix:\/\/\/nowhere\.sock \(other0 of builder other\): no socket there/);

    const unknown = await tbuild(['build', '--builder', 'nope', projects[0] ?? '']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Cannot find builder "nope": known builders: farm, other');
    expect((await tbuild(['builder', 'use', 'other'])).code).toBe(0);
    expect((await tbuild(['builder', 'rm', 'other'])).code).toBe(0);
    expect((await tbuild(['builder', 'ls'])).stdout).toMatch(/^embedded \*/m);
    expect((await tbuild(['builder', 'use', 'farm'])).code).toBe(0);
    expect((await tbuild(['builder', 'ls'])).stdout).toMatch(/^farm \*/m);
  });

  it('spreads projects over the servers by their ranking, and a repeat build of each is fully cached on its server', async () => {
    const placed = new Set<string>();
    for (const dir of projects) {
      const first = await build('farm', dir);
      expect(first.res.code, first.res.stderr).toBe(0);
      expect(first.node).toBe(nodeOf(ranking(dir)[0]));
      placed.add(first.node);
      // No --builder: the builder in use (tbuild builder use farm) takes the build, on the same server.
      const meta = join(dir, 'meta-use.json');
      const repeat = await runTbuild(['build', '--progress', 'plain', '--metadata-file', meta, dir], { env: env() });
      expect(repeat.code, repeat.stderr).toBe(0);
      expect(String((JSON.parse(await readFile(meta, 'utf8')) as Record<string, unknown>)['buildx.build.ref'])).toMatch(new RegExp(`^${first.node}/`));
      expect(repeat.stderr).toMatch(/RUN echo project-\d+ \| tee \/project\n#\d+ CACHED/);
      expect(repeat.stderr).toMatch(/COPY f\.txt \/f\.txt\n#\d+ CACHED/);
    }
    expect(placed.size).toBeGreaterThanOrEqual(2);
  });

  it('sends builds through dns+tcp://NAME:PORT to each address the name resolves to, the same server a static node list picks', async () => {
    const hosts = join(tmp.path, 'hosts');
    await writeFile(hosts, `127.0.0.1 localhost\n${IPS.map((ip) => `${ip} farm.test`).join('\n')}\n`);
    const created = await runTbuild(['builder', 'create', 'byname', '--node', `dns+tcp://farm.test:${port}`], { env: env() });
    expect(created.code, created.stderr).toBe(0);
    const inspect = await tbuildWithHosts(hosts, ['builder', 'inspect', 'byname'], env());
    for (const ip of IPS) expect(inspect.stdout).toContain(`Name:      byname0@${ip}\nEndpoint:  ${address(ip)}\nStatus:    running`);
    for (const dir of projects) {
      const res = await build('byname', dir, (args, o) => tbuildWithHosts(hosts, args, o?.env ?? {}));
      expect(res.res.code, res.res.stderr).toBe(0);
      expect(res.node).toBe(`byname/byname0@${(ranking(dir)[0] ?? '').replace(/^tcp:\/\/|:\d+$/g, '')}`);
      expect(res.res.stderr).toMatch(/RUN echo project-\d+ \| tee \/project\n#\d+ CACHED/);
    }
  });

  it('reads the build records, disk usage and info of every node of the builder', async () => {
    const tbuild = (args: readonly string[]): Promise<CliResult> => runTbuild(args, { env: env() });
    const ls = await tbuild(['history', 'ls', '--builder', 'farm', '--format', 'json']);
    expect(ls.code, ls.stderr).toBe(0);
    const records = ls.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ref: string; createdAt: string });
    // Each project built twice through farm and once through byname: nine records, on two or three servers.
    expect(records).toHaveLength(9);
    for (const r of records) {
      const inspect = await tbuild(['history', 'inspect', r.ref, '--builder', 'farm', '--format', 'json']);
      expect(inspect.code, inspect.stderr).toBe(0);
      expect((JSON.parse(inspect.stdout) as { ref: string }).ref).toBe(r.ref);
    }
    const logs = await tbuild(['history', 'logs', records[records.length - 1]?.ref ?? '', '--builder', 'farm']);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/^#\d+ project-\d+$/m);
    const du = await tbuild(['du', '--builder', 'farm']);
    expect(du.code, du.stderr).toBe(0);
    for (const [i, ip] of IPS.entries()) expect(du.stdout).toContain(`Node farm${i} (${address(ip)}):\n`);
    const info = await tbuild(['info', '--builder', 'farm']);
    expect(info.stdout.match(/^Builder:\t/gm)).toHaveLength(3);
  });

  it('fails a build whose server dies naming the node, and builds its projects on the next server once it is down', async () => {
    const dir = projects[0] ?? '';
    const [dead, next] = ranking(dir);
    const slow = join(tmp.path, 'slow');
    await mkdir(slow);
    await writeFile(join(slow, 'Dockerfile'), 'FROM busybox\nRUN echo started-slow && sleep 20\n');
    // The slow build goes where its ranking says; that server is killed once its RUN runs.
    const slowFirst = ranking(slow)[0] ?? '';
    const client = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'tbuild.js'), 'build', '--builder', 'farm', '--progress', 'plain', slow], { env: { ...process.env, ...env() }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const started = new Promise<void>((resolve) => client.stderr.on('data', (d: Buffer) => ((stderr += d.toString()), stderr.includes('started-slow') && resolve())));
    const exited = once(client, 'close');
    await started;
    await servers.get(slowFirst)?.kill();
    const [code] = (await exited) as [number | null];
    expect(code).toBe(1);
    expect(stderr).toContain(`Cannot finish the build on builder ${slowFirst} (${nodeOf(slowFirst).split('/')[1] ?? ''} of builder farm): connection lost`);

    // Then the server of project 0 is down (the slow one's, or killed now): its builds go to its second server.
    await servers.get(dead ?? '')?.kill();
    const moved = await build('farm', dir);
    expect(moved.res.code, moved.res.stderr).toBe(0);
    const alive = ranking(dir).find((a) => a !== dead && a !== slowFirst);
    expect(moved.node).toBe(nodeOf(alive));
    expect(moved.res.stderr).toContain(`Cannot connect to builder ${dead} (${nodeOf(dead).split('/')[1] ?? ''} of builder farm): nothing listens there (connection refused); using node`);
    expect(next).toBeDefined();
    // du goes on with the servers that answer, names the one that does not, and says so in its status.
    const du = await runTbuild(['du', '--builder', 'farm'], { env: env() });
    expect(du.code).toBe(1);
    expect(du.stderr).toContain(`WARNING: Cannot connect to builder ${dead} (${nodeOf(dead).split('/')[1] ?? ''} of builder farm): nothing listens there`);
    expect(du.stdout).toContain(`(${alive ?? ''}):\n`);
    // Projects whose server still runs stay there, cached.
    for (const other of projects.slice(1)) {
      const first = ranking(other)[0];
      if (first === dead || first === slowFirst) continue;
      const stay = await build('farm', other);
      expect(stay.res.code, stay.res.stderr).toBe(0);
      expect(stay.node).toBe(nodeOf(first));
      expect(stay.res.stderr).toMatch(/RUN echo project-\d+ \| tee \/project\n#\d+ CACHED/);
    }
  });
});

describe('a dns+tcp builder over TLS', () => {
  it("checks each address's certificate against the name, and reads the token from the builder's token file", async () => {
    await using tmp = await makeTempDir('tbuild-builders-tls-');
    const ssl = async (args: readonly string[]): Promise<void> => {
      const res = await run('openssl', args, { cwd: tmp.path });
      expect(res.code, res.stderr).toBe(0);
    };
    // A certificate for the name only: an address it resolves to is not in it.
    await ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=ca', '-keyout', 'ca.key', '-out', 'ca.pem']);
    await writeFile(join(tmp.path, 'server.ext'), 'subjectAltName=DNS:tls.test\nextendedKeyUsage=serverAuth\n');
    await ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=tls.test', '-keyout', 'server.key', '-out', 'server.csr']);
    await ssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', 'server.pem', '-extfile', 'server.ext']);
    await writeFile(join(tmp.path, 'token'), 'builders-token\n');
    const port = await freePort();
    const addr = `tcp://127.0.0.5:${port}`;
    await using _server = await startServe(['--addr', addr, '--root', join(tmp.path, 'root'), '--tlscert', join(tmp.path, 'server.pem'), '--tlskey', join(tmp.path, 'server.key'), '--token-file', join(tmp.path, 'token')]);
    const env = { XDG_CONFIG_HOME: join(tmp.path, 'config'), TBUILD_TOKEN: '', TBUILD_BUILDER: '', TBUILD_HOST: '' };
    const hosts = join(tmp.path, 'hosts');
    await writeFile(hosts, '127.0.0.1 localhost\n127.0.0.5 tls.test\n');
    const tls = ['--tlscacert', join(tmp.path, 'ca.pem'), '--token-file', join(tmp.path, 'token')];
    expect((await runTbuild(['builder', 'create', 'secure', '--node', `dns+tcp://tls.test:${port}`, ...tls], { env })).code).toBe(0);
    expect((await stat(join(tmp.path, 'config', 'tbuild', 'builders', 'secure.json'))).mode & 0o777).toBe(0o600);
    const inspect = await tbuildWithHosts(hosts, ['builder', 'inspect', 'secure'], env);
    expect(inspect.stdout).toContain(`Name:      secure0@127.0.0.5\nEndpoint:  ${addr}\nStatus:    running`);
    // The same server by its address: the certificate does not name it.
    expect((await runTbuild(['builder', 'create', 'byip', '--node', addr, ...tls], { env })).code).toBe(0);
    const byIp = await runTbuild(['info', '--builder', 'byip'], { env });
    expect(byIp.code).not.toBe(0);
    expect(byIp.stderr).toContain(`Cannot connect to builder ${addr} (byip0 of builder byip): certificate rejected`);
  });
});
