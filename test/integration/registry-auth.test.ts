import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, REPO_ROOT, run, runTbuild, type TempDir } from '../helpers/cli.js';
import { TEST_CREDENTIALS, seedBusybox, startRegistry, type TestRegistry } from '../fixtures/registry.js';

// A docker-credential helper speaking the get/store/erase protocol, keeping one entry in $TEST_CRED_FILE.
const HELPER = `#!/bin/sh
case "$1" in
  get) read -r server; echo "$server" >> "$TEST_CRED_FILE.log"
       if [ -f "$TEST_CRED_FILE" ]; then cat "$TEST_CRED_FILE"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  store) cat > "$TEST_CRED_FILE" ;;
  erase) read -r server; rm -f "$TEST_CRED_FILE" ;;
  *) exit 2 ;;
esac
`;

describe('registry authentication through the CLI: login, config.json, credential helpers, TLS', () => {
  let open: TestRegistry;
  let secure: TestRegistry;
  let tmp: TempDir;
  let config: string;
  let bin: string;
  const hello = join(REPO_ROOT, 'examples/hello');

  beforeAll(async () => {
    open = await startRegistry();
    await seedBusybox(open.host);
    secure = await startRegistry({ htpasswd: true, tls: true });
    tmp = await makeTempDir();
    config = join(tmp.path, 'tbuild.toml');
    await writeFile(config, `[registry."docker.io"]\nmirrors = ["${open.host}"]\n\n[registry."${secure.host}"]\nhttp = false\nca = ["${secure.caCertPath}"]\n`);
    bin = join(tmp.path, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'docker-credential-test'), HELPER);
    await chmod(join(bin, 'docker-credential-test'), 0o755);
  });

  afterAll(async () => {
    await tmp?.[Symbol.asyncDispose]();
    await open?.stop();
    await secure?.stop();
  });

  const login = (dockerConfig: string, password: string, extraEnv: NodeJS.ProcessEnv = {}) =>
    runTbuild(['login', '-u', TEST_CREDENTIALS.username, '--password-stdin', '--config', config, secure.host], {
      env: { DOCKER_CONFIG: dockerConfig, ...extraEnv },
      input: `${password}\n`,
    });

  it('refuses a wrong password with a clear error and stores nothing', async () => {
    const dc = join(tmp.path, 'dc-wrong');
    const res = await login(dc, 'wrong-password');
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`the registry refused the credentials for "${secure.host}"`);
    await expect(readFile(join(dc, 'config.json'), 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('logs in over TLS with Basic auth, writes config.json like docker login, pushes, and logs out', async () => {
    const dc = join(tmp.path, 'dc-basic');
    const res = await login(dc, TEST_CREDENTIALS.password);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('Login Succeeded');
    const doc = JSON.parse(await readFile(join(dc, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(Buffer.from(doc.auths[secure.host]?.auth ?? '', 'base64').toString()).toBe(`${TEST_CREDENTIALS.username}:${TEST_CREDENTIALS.password}`);

    const root = join(tmp.path, 'root');
    const push = await runTbuild(['build', '--root', root, '--config', config, '--progress', 'plain', '-t', `${secure.host}/private/hello:v1`, '--push', hello], {
      env: { DOCKER_CONFIG: dc },
    });
    expect(push.code, push.stderr).toBe(0);
    const inspect = await run('skopeo', ['inspect', '--cert-dir', join(tmp.path, 'none'), '--tls-verify=false', '--creds', `${TEST_CREDENTIALS.username}:${TEST_CREDENTIALS.password}`, `docker://${secure.host}/private/hello:v1`]);
    expect(inspect.code, inspect.stderr).toBe(0);

    const out = await runTbuild(['logout', secure.host], { env: { DOCKER_CONFIG: dc } });
    expect(out.code, out.stderr).toBe(0);
    const after = JSON.parse(await readFile(join(dc, 'config.json'), 'utf8')) as { auths: Record<string, unknown> };
    expect(after.auths[secure.host]).toBeUndefined();
    const denied = await runTbuild(['build', '--root', root, '--config', config, '--progress', 'plain', '-t', `${secure.host}/private/hello:v2`, '--push', hello], {
      env: { DOCKER_CONFIG: dc },
    });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(`authentication required by "${secure.host}"`);
  });

  it('stores and reads credentials through a docker-credential helper (credsStore and credHelpers)', async () => {
    for (const key of ['credsStore', 'credHelpers'] as const) {
      const dc = join(tmp.path, `dc-${key}`);
      await mkdir(dc);
      const helperConfig = key === 'credsStore' ? { credsStore: 'test' } : { credHelpers: { [secure.host]: 'test' } };
      await writeFile(join(dc, 'config.json'), JSON.stringify({ ...helperConfig, psFormat: 'kept' }));
      const credFile = join(tmp.path, `creds-${key}.json`);
      const env = { PATH: `${bin}:${process.env['PATH'] ?? ''}`, TEST_CRED_FILE: credFile };
      const res = await login(dc, TEST_CREDENTIALS.password, env);
      expect(res.code, res.stderr).toBe(0);
      expect(JSON.parse(await readFile(credFile, 'utf8'))).toEqual({ ServerURL: secure.host, Username: TEST_CREDENTIALS.username, Secret: TEST_CREDENTIALS.password });
      const doc = JSON.parse(await readFile(join(dc, 'config.json'), 'utf8')) as Record<string, unknown>;
      expect(doc).toMatchObject({ ...helperConfig, psFormat: 'kept', auths: { [secure.host]: {} } });

      const push = await runTbuild(
        ['build', '--root', join(tmp.path, `root-${key}`), '--config', config, '--progress', 'plain', '-t', `${secure.host}/helper/hello:${key.toLowerCase()}`, '--push', hello],
        { env: { DOCKER_CONFIG: dc, ...env } },
      );
      expect(push.code, push.stderr).toBe(0);
      expect(await readFile(`${credFile}.log`, 'utf8')).toContain(secure.host);

      const out = await runTbuild(['logout', secure.host], { env: { DOCKER_CONFIG: dc, ...env } });
      expect(out.code, out.stderr).toBe(0);
      await expect(readFile(credFile, 'utf8')).rejects.toThrow(/ENOENT/);
    }
  });

  it('reports an unreachable registry clearly', async () => {
    const res = await runTbuild(['login', '-u', 'x', '-p', 'y', '127.0.0.1:9'], { env: { DOCKER_CONFIG: join(tmp.path, 'dc-none') } });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('cannot reach registry "127.0.0.1:9"');
  });
});
