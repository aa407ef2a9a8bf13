import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, run, runTbuild, type CliResult, type TempDir } from '../helpers/cli.js';
import { startServe, type ServeProcess } from '../helpers/remote-server.js';
import { TEST_CREDENTIALS, seedBusybox, startRegistry, type TestRegistry } from '../fixtures/registry.js';

/** Files under dir whose bytes hold any of the needles (sockets and other special files are skipped). */
async function filesHolding(dir: string, needles: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    const bytes = await readFile(path);
    if (needles.some((n) => bytes.includes(n))) found.push(path);
  }
  return found;
}

describe('tbuild serve: registry credentials come from the client over the build call', () => {
  let open: TestRegistry;
  let secure: TestRegistry;
  let tmp: TempDir;
  let server: ServeProcess;
  let lender: ServeProcess;
  let builder = '';
  let lendingBuilder = '';
  let serverConfig = '';
  let serverRoot = '';
  let ctx = '';
  const clientEnv = { DOCKER_CONFIG: '', XDG_CONFIG_HOME: '', XDG_CACHE_HOME: '' };
  const noConfigEnv = { DOCKER_CONFIG: '', XDG_CONFIG_HOME: '', XDG_CACHE_HOME: '' };
  const { username, password } = TEST_CREDENTIALS;
  // What a leak would look like: the password, and the Basic header's encoding of user and password.
  const needles = [password, Buffer.from(`${username}:${password}`).toString('base64')];

  const remote = (on: string, env: Record<string, string>, args: readonly string[], dir = ctx): Promise<CliResult> =>
    runTbuild(['build', '--builder', on, '--progress', 'plain', ...args, dir], { env });

  beforeAll(async () => {
    open = await startRegistry();
    await seedBusybox(open.host);
    secure = await startRegistry({ htpasswd: true, tls: true });
    tmp = await makeTempDir('tbuild-remote-creds-');
    const ca = secure.caCertPath ?? '';
    const registries = `[registry."docker.io"]\nmirrors = ["${open.host}"]\n\n[registry."${secure.host}"]\nhttp = false\nca = ["${ca}"]\n`;
    serverConfig = join(tmp.path, 'server', 'tbuild.toml');
    await mkdir(join(tmp.path, 'server', 'home'), { recursive: true });
    await writeFile(serverConfig, registries);
    // The client logs in with tbuild login: its config.json, which the server never sees, holds the credentials.
    const clientConfig = join(tmp.path, 'client', 'tbuild.toml');
    await mkdir(join(tmp.path, 'client'), { recursive: true });
    await writeFile(clientConfig, `[registry."${secure.host}"]\nhttp = false\nca = ["${ca}"]\n`);
    Object.assign(clientEnv, { DOCKER_CONFIG: join(tmp.path, 'client', 'docker'), XDG_CONFIG_HOME: join(tmp.path, 'client', 'config'), XDG_CACHE_HOME: join(tmp.path, 'client', 'cache') });
    Object.assign(noConfigEnv, { ...clientEnv, DOCKER_CONFIG: join(tmp.path, 'client', 'no-docker') });
    const login = await runTbuild(['login', '-u', username, '--password-stdin', '--config', clientConfig, secure.host], { env: clientEnv, input: `${password}\n` });
    expect(login.code, login.stderr).toBe(0);
    // A private base image that only the registry holds.
    const copy = await run('skopeo', [
      'copy', '--quiet', '--src-tls-verify=false', '--dest-cert-dir', join(tmp.path, 'none'), '--dest-tls-verify=false',
      '--dest-creds', `${username}:${password}`, `docker://${open.host}/library/busybox:latest`, `docker://${secure.host}/private/busybox:1`,
    ]);
    expect(copy.code, copy.stderr).toBe(0);
    ctx = join(tmp.path, 'ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY hello.txt /hello.txt\n');
    await writeFile(join(ctx, 'hello.txt'), 'hello\n');
    // The server's own HOME and Docker config hold no credentials.
    const serverEnv = { HOME: join(tmp.path, 'server', 'home'), DOCKER_CONFIG: join(tmp.path, 'server', 'home', '.docker') };
    serverRoot = join(tmp.path, 'server', 'root');
    builder = `unix://${join(tmp.path, 'run', 'tbuild.sock')}`;
    server = await startServe(['--addr', builder, '--root', serverRoot, '--config', serverConfig], { env: serverEnv });
    // A second server that lends its own credentials (its config.json) for hosts a client has none for.
    const lenderDocker = join(tmp.path, 'lender', 'docker');
    await mkdir(lenderDocker, { recursive: true });
    await writeFile(join(lenderDocker, 'config.json'), JSON.stringify({ auths: { [secure.host]: { auth: Buffer.from(`${username}:${password}`).toString('base64') } } }));
    lendingBuilder = `unix://${join(tmp.path, 'run', 'lender.sock')}`;
    const lenderArgs = ['--addr', lendingBuilder, '--root', join(tmp.path, 'lender', 'root'), '--config', serverConfig, '--server-credentials'];
    lender = await startServe(lenderArgs, { env: { HOME: join(tmp.path, 'lender'), DOCKER_CONFIG: lenderDocker } });
  });

  afterAll(async () => {
    await server?.stop();
    await lender?.stop();
    await tmp?.[Symbol.asyncDispose]();
    await open?.stop();
    await secure?.stop();
  });

  it('pushes with the client’s credentials, shown as shared, and fails clearly without them', async () => {
    const pushed = await remote(builder, clientEnv, ['-t', `${secure.host}/private/app:v1`, '--push']);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stderr).toContain(`[auth] sharing credentials for ${secure.host}`);
    const inspect = await run('skopeo', ['inspect', '--cert-dir', join(tmp.path, 'none'), '--tls-verify=false', '--creds', `${username}:${password}`, `docker://${secure.host}/private/app:v1`]);
    expect(inspect.code, inspect.stderr).toBe(0);

    const denied = await remote(builder, noConfigEnv, ['-t', `${secure.host}/private/app:v2`, '--push']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(`Cannot push image "${secure.host}/private/app": authentication required by "${secure.host}"`);
    expect(denied.stderr).toContain(`tbuild login ${secure.host}`);
    expect(denied.stderr).not.toContain('[auth] sharing credentials');
  });

  it('pulls a private base image with the client’s credentials, and not without them', async () => {
    const base = join(tmp.path, 'private-base');
    await mkdir(base);
    await writeFile(join(base, 'Dockerfile'), `FROM ${secure.host}/private/busybox:1\nCOPY hello.txt /hello.txt\n`);
    await writeFile(join(base, 'hello.txt'), 'hello\n');
    const denied = await remote(builder, noConfigEnv, ['-o', `type=tar,dest=${join(tmp.path, 'denied.tar')}`], base);
    expect(denied.code, denied.stderr).not.toBe(0);
    expect(denied.stderr).toContain(`authentication required by "${secure.host}"`);
    const built = await remote(builder, clientEnv, ['-o', `type=tar,dest=${join(tmp.path, 'base.tar')}`], base);
    expect(built.code, built.stderr).toBe(0);
    expect(built.stderr).toContain(`[auth] sharing credentials for ${secure.host}`);
    const listed = await run('tar', ['-tf', join(tmp.path, 'base.tar')]);
    expect(listed.stdout.split('\n')).toEqual(expect.arrayContaining(['hello.txt', 'bin/busybox']));
  });

  it('runs the credential helper of the client’s config.json on the client, where it is installed', async () => {
    // A docker-credential helper on the client's PATH only, which logs the server names it is asked for.
    const bin = join(tmp.path, 'client', 'bin');
    await mkdir(bin, { recursive: true });
    const secret = JSON.stringify({ ServerURL: secure.host, Username: username, Secret: password });
    const helper = `#!/bin/sh\n[ "$1" = get ] || exit 2\nread -r server\necho "$server" >> "${join(tmp.path, 'client', 'helper.log')}"\necho '${secret}'\n`;
    await writeFile(join(bin, 'docker-credential-clientonly'), helper);
    await chmod(join(bin, 'docker-credential-clientonly'), 0o755);
    const dc = join(tmp.path, 'client', 'docker-helper');
    await mkdir(dc);
    await writeFile(join(dc, 'config.json'), JSON.stringify({ credsStore: 'clientonly' }));
    const env = { ...clientEnv, DOCKER_CONFIG: dc, PATH: `${bin}:${process.env['PATH'] ?? ''}` };
    const pushed = await remote(builder, env, ['-t', `${secure.host}/private/helped:v1`, '--push']);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stderr).toContain(`[auth] sharing credentials for ${secure.host}`);
    expect((await readFile(join(tmp.path, 'client', 'helper.log'), 'utf8')).split('\n')).toContain(secure.host);
  });

  it('uses the server’s own credentials only on a server started to lend them', async () => {
    const lent = await remote(lendingBuilder, noConfigEnv, ['-t', `${secure.host}/private/lent:v1`, '--push']);
    expect(lent.code, lent.stderr).toBe(0);
    expect(lent.stderr).not.toContain('[auth] sharing credentials');
    const inspect = await run('skopeo', ['inspect', '--cert-dir', join(tmp.path, 'none'), '--tls-verify=false', '--creds', `${username}:${password}`, `docker://${secure.host}/private/lent:v1`]);
    expect(inspect.code, inspect.stderr).toBe(0);
  });

  it('leaves the password nowhere on the server: not in its state folder, its settings or its log', async () => {
    expect(await filesHolding(serverRoot, needles)).toEqual([]);
    expect(await filesHolding(join(tmp.path, 'server'), needles)).toEqual([]);
    for (const n of needles) expect(server.log()).not.toContain(n);
    // The log shows the builds, so it was searched where they would have written.
    expect(server.log()).toContain('build failed');
    expect(server.log()).toContain('build completed');
    // The same search finds the lending server's own config.json, and nothing in its state folder.
    expect(await filesHolding(join(tmp.path, 'lender'), needles)).toEqual([join(tmp.path, 'lender', 'docker', 'config.json')]);
  });
});
