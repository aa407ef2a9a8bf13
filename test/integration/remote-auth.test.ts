import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, runTbuild, type TempDir } from '../helpers/cli.js';
import { runServeExpectingFailure, startServe, type ServeProcess } from '../helpers/remote-server.js';
import { makeCa, makeCert } from '../helpers/test-certs.js';

describe('remote builder authentication: mutual TLS and tokens', () => {
  let tmp: TempDir;
  let certs: string;
  let ctx: string;
  let tls: ServeProcess;
  let tokened: ServeProcess;
  let tcp: string;
  let sock: string;
  const cert = (name: string): string => join(certs, name);

  beforeAll(async () => {
    tmp = await makeTempDir('tbuild-remote-auth-');
    certs = join(tmp.path, 'certs');
    await mkdir(certs);
    await makeCa(certs, 'ca');
    await makeCa(certs, 'rogue-ca');
    await makeCert(certs, 'ca', 'server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth');
    await makeCert(certs, 'ca', 'client', 'extendedKeyUsage=clientAuth');
    await makeCert(certs, 'rogue-ca', 'rogue', 'extendedKeyUsage=clientAuth');
    ctx = join(tmp.path, 'ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'hello.txt'), 'hello over mutual TLS\n');
    await writeFile(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
    tls = await startServe([
      '--addr', 'tcp://127.0.0.1:0', '--root', join(tmp.path, 'root-tls'),
      '--tlscacert', cert('ca.pem'), '--tlscert', cert('server.pem'), '--tlskey', cert('server.key'),
    ]);
    tcp = tls.addresses[0] ?? '';
    sock = join(tmp.path, 'run', 'tbuild.sock');
    tokened = await startServe(['--addr', `unix://${sock}`, '--root', join(tmp.path, 'root-token'), '--token', 's3cret-token']);
  });

  afterAll(async () => {
    await tls?.stop();
    await tokened?.stop();
    await tmp?.[Symbol.asyncDispose]();
  });

  const clientTls = (): string[] => ['--tlscacert', cert('ca.pem'), '--tlscert', cert('client.pem'), '--tlskey', cert('client.key')];

  it('lets a client with a certificate from the CA in, and builds over mutual TLS', async () => {
    expect(tcp).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const info = await runTbuild(['info', '--builder', tcp, ...clientTls()]);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toContain('Version:');
    const out = join(tmp.path, 'out-tls');
    const res = await runTbuild(['build', '--builder', tcp, ...clientTls(), '--progress', 'plain', '--output', `type=local,dest=${out}`, ctx]);
    expect(res.code, res.stderr).toBe(0);
    expect(await readFile(join(out, 'hello.txt'), 'utf8')).toBe('hello over mutual TLS\n');
  });

  it('rejects a client without a certificate, or with one from another CA', async () => {
    const none = await runTbuild(['info', '--builder', tcp, '--tlscacert', cert('ca.pem')]);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain(`Cannot connect to builder ${tcp}: certificate rejected`);
    const rogue = await runTbuild(['info', '--builder', tcp, '--tlscacert', cert('ca.pem'), '--tlscert', cert('rogue.pem'), '--tlskey', cert('rogue.key')]);
    expect(rogue.code).not.toBe(0);
    expect(rogue.stderr).toContain(`Cannot connect to builder ${tcp}: certificate rejected`);
  });

  it('requires the bearer token when the server has one', async () => {
    const builder = `unix://${sock}`;
    const missing = await runTbuild(['info', '--builder', builder], { env: { TBUILD_TOKEN: '' } });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain(`Cannot connect to builder ${builder}: unauthenticated: invalid token`);
    const wrong = await runTbuild(['du', '--builder', builder, '--token', 'nope']);
    expect(wrong.stderr).toContain('unauthenticated: invalid token');
    const right = await runTbuild(['info', '--builder', builder, '--token', 's3cret-token']);
    expect(right.code, right.stderr).toBe(0);
    const fromEnv = await runTbuild(['du'], { env: { TBUILD_HOST: builder, TBUILD_TOKEN: 's3cret-token' } });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    expect(fromEnv.stdout).toContain('Total:');
    expect(tokened.log()).toContain('call refused: invalid token');
  });

  it('creates the unix socket with mode 0660 in a new folder', async () => {
    expect((await stat(sock)).mode & 0o777).toBe(0o660);
  });

  it('refuses plain TCP unless --insecure, and then warns', async () => {
    const refused = await runServeExpectingFailure(['--addr', 'tcp://127.0.0.1:0', '--root', join(tmp.path, 'root-plain')]);
    expect(refused.code).toBe(2);
    expect(refused.log).toContain('without TLS');
    await using plain = await startServe(['--addr', 'tcp://127.0.0.1:0', '--insecure', '--root', join(tmp.path, 'root-plain')]);
    expect(plain.log()).toMatch(/"level":"warn".*plain TCP/);
    const info = await runTbuild(['info', '--builder', plain.addresses[0] ?? '']);
    expect(info.code, info.stderr).toBe(0);
  });
});
