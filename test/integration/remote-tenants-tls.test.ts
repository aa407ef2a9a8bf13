import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, runTbuild, type CliResult, type TempDir } from '../helpers/cli.js';
import { startServe, type ServeProcess } from '../helpers/remote-server.js';
import { makeCa, makeCert } from '../helpers/test-certs.js';

describe('tbuild serve tenants over mutual TLS: client certificates name tenants', () => {
  let tmp: TempDir;
  let certs: string;
  let server: ServeProcess;
  let tcp: string;
  const env = (): Record<string, string> => ({ XDG_CONFIG_HOME: join(tmp.path, 'client', 'config'), XDG_CACHE_HOME: join(tmp.path, 'client', 'cache') });
  const as = (name: string, args: readonly string[], token?: string): Promise<CliResult> =>
    runTbuild([...args, '--builder', tcp, '--tlscacert', join(certs, 'ca.pem'), '--tlscert', join(certs, `${name}.pem`), '--tlskey', join(certs, `${name}.key`), ...(token === undefined ? [] : ['--token', token])], {
      env: { ...env(), TBUILD_TOKEN: '' },
    });

  beforeAll(async () => {
    tmp = await makeTempDir('tbuild-remote-tenants-tls-');
    certs = join(tmp.path, 'certs');
    await mkdir(certs);
    await makeCa(certs, 'ca');
    await makeCert(certs, 'ca', 'server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth');
    // ci is named by its CN, web by a DNS name; other holds a certificate of the CA that names no tenant.
    await makeCert(certs, 'ca', 'ci', 'extendedKeyUsage=clientAuth', 'ci.example.com');
    await makeCert(certs, 'ca', 'web', 'subjectAltName=DNS:web.example.com\nextendedKeyUsage=clientAuth', 'laptop');
    await makeCert(certs, 'ca', 'other', 'extendedKeyUsage=clientAuth', 'other.example.com');
    const config = join(tmp.path, 'tbuild.toml');
    await writeFile(config, '[serve]\ntokens-file = "tokens"\n\n[tenants.ci]\ncert-names = ["ci.example.com"]\nmax-builds = 3\n\n[tenants.web]\ncert-names = ["web.example.com"]\n');
    await writeFile(join(tmp.path, 'tokens'), 'alice tok-alice\n');
    const ctx = join(tmp.path, 'ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /\n');
    await writeFile(join(ctx, 'hello.txt'), 'hello\n');
    server = await startServe([
      '--addr', 'tcp://127.0.0.1:0', '--root', join(tmp.path, 'root'), '--config', config,
      '--tlscacert', join(certs, 'ca.pem'), '--tlscert', join(certs, 'server.pem'), '--tlskey', join(certs, 'server.key'),
    ]);
    tcp = server.addresses[0] ?? '';
  });

  afterAll(async () => {
    await server?.stop();
    await tmp?.[Symbol.asyncDispose]();
  });

  it('maps a certificate’s CN or DNS name to its tenant, and records the tenant of its builds', async () => {
    const ci = await as('ci', ['info']);
    expect(ci.code, ci.stderr).toBe(0);
    expect(ci.stdout).toMatch(/Tenant:\s+ci \(0 running, 0 queued; max-builds 3\)/);
    const web = await as('web', ['info']);
    expect(web.stdout).toMatch(/Tenant:\s+web \(0 running, 0 queued\)/);
    const built = await as('ci', ['build', '--progress', 'quiet', '-o', `type=local,dest=${join(tmp.path, 'out')}`, join(tmp.path, 'ctx')]);
    expect(built.code, built.stderr).toBe(0);
    const inspected = await as('ci', ['history', 'inspect']);
    expect(inspected.stdout).toMatch(/Tenant:\s+ci\n/);
    const seen = await as('web', ['history', 'ls', '--format', 'json']);
    expect(seen.code, seen.stderr).toBe(0);
    expect(seen.stdout).toBe('');
  });

  it('asks a certificate that names no tenant for a token, and refuses a token and a certificate of two tenants', async () => {
    const none = await as('other', ['info']);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('unauthenticated: invalid token');
    const withToken = await as('other', ['info'], 'tok-alice');
    expect(withToken.stdout).toMatch(/Tenant:\s+alice /);
    const both = await as('ci', ['info'], 'tok-alice');
    expect(both.code).not.toBe(0);
    expect(both.stderr).toContain('the token and the client certificate name different tenants');
    expect(server.log()).toContain('call refused: the token and the client certificate name different tenants');
  });
});
