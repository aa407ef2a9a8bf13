import { execFile } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, runTbuild, writeMirrorConfig, type CliResult, type TempDir } from '../helpers/cli.js';
import { startServe, type ServeProcess } from '../helpers/remote-server.js';
import { seedBusybox, startRegistry, type TestRegistry } from '../fixtures/registry.js';

const REPO = join(import.meta.dirname, '..', '..');

/** Unix sockets and tunnel directories under dir. */
async function leftovers(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isSocket() || e.name.startsWith('tbuild-ssh-fwd-')).map((e) => join(e.parentPath, e.name));
}

async function tunnelDirs(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((n) => n.startsWith('tbuild-ssh-fwd-'));
}

describe('tbuild build --builder --ssh: agents forwarded over the build stream', () => {
  let registry: TestRegistry;
  let tmp: TempDir;
  let root: string;
  let server: ServeProcess;
  let builder: string;
  let agent: Server;
  let agentSock: string;
  let agentConnections = 0;
  const env = { XDG_CONFIG_HOME: '', XDG_CACHE_HOME: '', SSH_AUTH_SOCK: '' };

  const context = async (name: string, dockerfile: string): Promise<string> => {
    const ctx = join(tmp.path, name);
    await mkdir(join(ctx, 'probe'), { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), dockerfile);
    await promisify(execFile)('cc', ['-static', '-O2', '-o', join(ctx, 'probe', 'unix-connect'), join(REPO, 'test/fixtures/unix-connect.c')]);
    return ctx;
  };
  const remote = (args: readonly string[], ctx: string): Promise<CliResult> => runTbuild(['build', '--builder', builder, '--progress', 'plain', ...args, ctx], { env });

  beforeAll(async () => {
    registry = await startRegistry();
    await seedBusybox(registry.host);
    tmp = await makeTempDir('tbuild-remote-ssh-');
    const config = await writeMirrorConfig(tmp.path, registry.host);
    root = join(tmp.path, 'server-root');
    builder = `unix://${join(tmp.path, 'run', 'tbuild.sock')}`;
    env.XDG_CONFIG_HOME = join(tmp.path, 'client', 'config');
    env.XDG_CACHE_HOME = join(tmp.path, 'client', 'cache');
    // A stand-in agent: greets every connection, then answers each chunk with "echo:" and the chunk.
    agentSock = join(tmp.path, 'client', 'agent.sock');
    await mkdir(join(tmp.path, 'client'), { recursive: true });
    agent = createServer((c) => {
      agentConnections++;
      c.write('agent-hello\n');
      c.on('data', (d: Buffer) => c.write(`echo:${d.toString()}`));
    });
    await new Promise<void>((resolve) => agent.listen(agentSock, resolve));
    env.SSH_AUTH_SOCK = agentSock;
    server = await startServe(['--addr', builder, '--root', root, '--config', config]);
  });

  afterAll(async () => {
    await server?.stop();
    await new Promise<void>((resolve) => (agent === undefined ? resolve() : agent.close(() => resolve())));
    await tmp?.[Symbol.asyncDispose]();
    await registry?.stop();
  });

  it('tunnels RUN --mount=type=ssh to the client agent and leaves no socket on the builder', async () => {
    const before = await tunnelDirs();
    const ctx = await context(
      'ssh',
      'FROM busybox\nRUN --mount=type=bind,source=probe,target=/probe --mount=type=ssh,required /probe/unix-connect "$SSH_AUTH_SOCK" && echo tunnel-done\n',
    );
    const res = await remote(['--ssh', 'default'], ctx);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain('got agent-hello');
    expect(res.stderr).toContain('got echo:ping');
    expect(res.stderr).toContain('tunnel-done');
    expect(agentConnections).toBeGreaterThanOrEqual(1);
    expect(await leftovers(root)).toEqual([]);
    expect((await tunnelDirs()).filter((d) => !before.includes(d))).toEqual([]);
  });

  it('fails a RUN that requires an agent id the client does not forward', async () => {
    const ctx = await context('ssh-missing', 'FROM busybox\nRUN --mount=type=ssh,id=other,required true\n');
    const res = await remote(['--ssh', 'default'], ctx);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('no SSH key "other" forwarded from the client');
    expect(res.stderr).toContain('pass --ssh other=SOCKET');
  });

  it('refuses --ssh key files for a remote build with a clear error', async () => {
    const key = join(tmp.path, 'id_test');
    await writeFile(key, 'not a key\n');
    const ctx = await context('ssh-key', 'FROM scratch\n');
    const res = await remote(['--ssh', `k=${key}`], ctx);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('Cannot forward --ssh k to a remote builder');
  });
});
