import { once } from 'node:events';
import { lstat, mkdtemp, rm, stat } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalSshAgentProvider } from '../../../solver/ops/index.js';

let dir: string;
let agent: Server;
const agentConnections = new Set<Socket>();
const signal = new AbortController().signal;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tbuild-ssh-unit-'));
  agent = createServer((c) => {
    agentConnections.add(c);
    c.on('close', () => agentConnections.delete(c));
    c.on('data', (d: Buffer) => c.write(`echo:${d.toString()}`));
  });
  agent.listen(join(dir, 'agent.sock'));
  await once(agent, 'listening');
});

afterAll(async () => {
  await new Promise<void>((resolve) => agent.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

/** roundTrip sends text on a new connection to path and returns the first answer, keeping the connection open. */
async function roundTrip(path: string, text: string): Promise<{ answer: string; socket: Socket }> {
  const socket = connect(path);
  await once(socket, 'connect');
  socket.write(text);
  const [data] = (await once(socket, 'data')) as [Buffer];
  return { answer: data.toString(), socket };
}

describe('LocalSshAgentProvider', () => {
  const provider = (): LocalSshAgentProvider => new LocalSshAgentProvider(new Map([['default', join(dir, 'agent.sock')]]));

  it('gives each RUN a socket of its own with the mount owner and mode, relayed to the agent', async () => {
    const relay = await provider().open('default', { owner: { uid: 100, gid: 102, mode: 0o741 }, signal });
    expect(relay).toBeDefined();
    if (relay === undefined) return;
    expect(relay.path).not.toBe(join(dir, 'agent.sock'));
    const st = await lstat(relay.path);
    expect([st.isSocket(), st.uid, st.gid, st.mode & 0o7777]).toEqual([true, 100, 102, 0o741]);
    expect((await stat(dirname(relay.path))).mode & 0o777).toBe(0o700);
    const { answer, socket } = await roundTrip(relay.path, 'ping');
    expect(answer).toBe('echo:ping');
    expect(agentConnections.size).toBe(1);
    const ended = once(socket, 'close');
    await relay[Symbol.asyncDispose]();
    await ended;
    await expect(lstat(dirname(relay.path))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect.poll(() => agentConnections.size).toBe(0);
  });

  it('has nothing for an id the build was not given', async () => {
    expect(await provider().open('other', { owner: { uid: 0, gid: 0, mode: 0o600 }, signal })).toBeUndefined();
  });
});
