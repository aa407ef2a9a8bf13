import { execFile } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTbuild } from '../helpers/cli.js';
import { useBuildEnvironment, useRemoteBuilder } from '../helpers/build-env.js';

const REPO = join(import.meta.dirname, '..', '..');

// BuildKit gives RUN --mount=type=ssh a socket of its own with the mount's uid, gid and mode (0 0 0600 by default),
// relaying each connection to the agent (ported testSSHSocketParams checks `stat` only); tbuild does the same for
// every executor and for a remote builder.
const DOCKERFILE = [
  'FROM busybox',
  'RUN --mount=type=ssh stat -c "default %u %g %a" "$SSH_AUTH_SOCK"',
  'RUN --mount=type=bind,source=probe,target=/probe --mount=type=ssh,mode=741,uid=100,gid=102 \\',
  '  stat -c "params %u %g %a" "$SSH_AUTH_SOCK" && /probe/unix-connect "$SSH_AUTH_SOCK"',
  '',
].join('\n');

const EXPECTED = ['default 0 0 600', 'params 100 102 741', 'got agent-hello', 'got echo:ping'];

/** runLines lists the RUN output lines of plain progress, without step numbers, times and the context upload. */
function runLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((l) => /^#\d+ \d+\.\d+ (.*)$/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined && !/^(sent|transferred) /.test(l));
}

async function relayDirs(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith('tbuild-ssh-fwd-'));
}

describe('RUN --mount=type=ssh socket owner and mode', () => {
  const env = useBuildEnvironment();
  const remote = useRemoteBuilder(env);
  const ctx = (): string => join(env.tmp.path, 'ctx');
  const agentSock = (): string => join(env.tmp.path, 'agent.sock');
  let agent: Server | undefined;

  beforeAll(async () => {
    await mkdir(join(ctx(), 'probe'), { recursive: true });
    await writeFile(join(ctx(), 'Dockerfile'), DOCKERFILE);
    await promisify(execFile)('cc', ['-static', '-O2', '-o', join(ctx(), 'probe', 'unix-connect'), join(REPO, 'test/fixtures/unix-connect.c')]);
    // A stand-in agent: greets every connection, then answers each chunk with "echo:" and the chunk.
    const server = createServer((c) => {
      c.write('agent-hello\n');
      c.on('data', (d: Buffer) => c.write(`echo:${d.toString()}`));
    });
    await new Promise<void>((resolve) => server.listen(agentSock(), resolve));
    agent = server;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => (agent === undefined ? resolve() : agent.close(() => resolve())));
  });

  for (const runtime of ['sandbox', 'runc', 'crun'] as const) {
    it(`relays the agent through a socket with the mount's owner and mode (${runtime})`, async () => {
      // A temporary folder of its own, where the relay sockets go, so other builds on the host do not show in it.
      const tmp = join(env.tmp.path, `tmp-${runtime}`);
      await mkdir(tmp, { recursive: true });
      const select = runtime === 'sandbox' ? [] : ['--oci-runtime', runtime];
      const root = join(env.tmp.path, `root-${runtime}`);
      const args = ['build', '--root', root, '--config', env.config, '--no-cache', '--progress', 'plain', ...select];
      const res = await runTbuild([...args, '--ssh', `default=${agentSock()}`, ctx()], { env: { TMPDIR: tmp } });
      expect(res.code, res.stderr).toBe(0);
      expect(runLines(res.stderr)).toEqual(EXPECTED);
      expect(await relayDirs(tmp)).toEqual([]);
    });
  }

  it("fails a RUN requiring an agent id the build was not given, in BuildKit's words", async () => {
    const dir = join(env.tmp.path, 'missing');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'Dockerfile'), 'FROM busybox\nRUN --mount=type=ssh,id=other,required true\n');
    const args = ['build', '--root', join(env.tmp.path, 'root-sandbox'), '--config', env.config, '--progress', 'plain'];
    const res = await runTbuild([...args, '--ssh', `default=${agentSock()}`, dir]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('no SSH key "other" forwarded from the client');
    expect(res.stderr).toContain('pass --ssh other=SOCKET');
  });

  it('relays the agent the same way on a remote builder', async () => {
    const res = await runTbuild(['build', '--builder', remote.address, '--no-cache', '--progress', 'plain', '--ssh', `default=${agentSock()}`, ctx()]);
    expect(res.code, res.stderr).toBe(0);
    expect(runLines(res.stderr)).toEqual(EXPECTED);
  });
});
