import { writeFile, mkdir } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, runTbuild, writeMirrorConfig, type TempDir } from '../helpers/cli.js';
import { startServe, type ServeProcess } from '../helpers/remote-server.js';
import { seedBusybox, startRegistry, type TestRegistry } from '../fixtures/registry.js';

// As with buildkitd and buildx: RUN --network=host through `tbuild serve` needs the server's
// --allow-insecure-entitlement network.host and the client's --allow network.host.

describe('tbuild serve --allow-insecure-entitlement', () => {
  let registry: TestRegistry;
  let tmp: TempDir;
  let config: string;
  let echo: Server;
  let context: string;
  const servers: ServeProcess[] = [];

  async function serve(name: string, args: readonly string[]): Promise<string> {
    const builder = `unix://${join(tmp.path, name, 'tbuild.sock')}`;
    servers.push(await startServe(['--addr', builder, '--root', join(tmp.path, name, 'root'), '--config', config, ...args]));
    return builder;
  }

  beforeAll(async () => {
    registry = await startRegistry();
    await seedBusybox(registry.host);
    tmp = await makeTempDir('tbuild-remote-entitlements-');
    config = await writeMirrorConfig(tmp.path, registry.host);
    echo = createServer((s) => s.end('host-service\n'));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const port = (echo.address() as AddressInfo).port;
    context = join(tmp.path, 'ctx');
    await mkdir(context);
    await writeFile(join(context, 'Dockerfile'), `FROM busybox\nRUN ! nc 127.0.0.1 ${port} </dev/null | grep host-service\nRUN --network=host nc 127.0.0.1 ${port} </dev/null | grep host-service\n`);
  });

  afterAll(async () => {
    for (const s of servers) await s.stop();
    await new Promise<void>((r) => (echo === undefined ? r() : echo.close(() => r())));
    await tmp?.[Symbol.asyncDispose]();
    await registry?.stop();
  });

  it('refuses network.host when the server does not allow it, even if the client asks', async () => {
    const builder = await serve('plain', []);
    const res = await runTbuild(['build', '--builder', builder, '--allow', 'network.host', '--output', `type=tar,dest=${join(tmp.path, 'out.tar')}`, context]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('granting entitlement network.host is not allowed by build daemon configuration');
    expect(res.stderr).toContain('--allow-insecure-entitlement network.host');
    const globalHost = await runTbuild(['build', '--builder', builder, '--network', 'host', '--output', `type=tar,dest=${join(tmp.path, 'out.tar')}`, context]);
    expect(globalHost.stderr).toContain('granting entitlement network.host is not allowed');
  });

  it('runs RUN --network=host on the host network when the server allows it and the client asks', async () => {
    const builder = await serve('granting', ['--allow-insecure-entitlement', 'network.host']);
    const denied = await runTbuild(['build', '--builder', builder, '--output', `type=tar,dest=${join(tmp.path, 'out.tar')}`, context]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('entitlement network.host is not allowed');
    const granted = await runTbuild(['build', '--builder', builder, '--allow', 'network.host', '--progress', 'plain', '--output', `type=tar,dest=${join(tmp.path, 'out.tar')}`, context]);
    expect(granted.code, granted.stderr).toBe(0);
  });

  it('rejects an unknown entitlement on the server command line', async () => {
    const res = await runTbuild(['serve', '--allow-insecure-entitlement', 'device', '--addr', `unix://${join(tmp.path, 'x.sock')}`]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('Cannot use --allow-insecure-entitlement=device: expected network.host or security.insecure');
  });
});
