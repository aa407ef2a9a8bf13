import { spawn, type ChildProcess } from 'node:child_process';
import { lstat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errnoCode, UsageError } from '../base/errors.js';
import type { SshSpec } from './request.js';

const AGENT_START_MS = 5000;

/** SshAgents are the agent sockets of a build; disposing stops the agents started for key files. */
export interface SshAgents extends AsyncDisposable {
  readonly sockets: ReadonlyMap<string, string>;
}

/** SshAgentOptions are the caller's agent and environment. */
export interface SshAgentOptions {
  /** The caller's SSH_AUTH_SOCK, for ids given without sockets or keys. */
  readonly sshAuthSock: string | undefined;
  /** The caller's environment, which ssh-agent and ssh-add run with. */
  readonly processEnv: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
}

/** openSshAgents resolves `--ssh` specs: sockets are used as they are, key files are loaded into a new ssh-agent. */
export async function openSshAgents(specs: readonly SshSpec[], o: SshAgentOptions): Promise<SshAgents> {
  const { signal } = o;
  const sockets = new Map<string, string>();
  const agents: { child: ChildProcess; dir: string }[] = [];
  const dispose = async (): Promise<void> => {
    for (const a of agents) {
      a.child.kill('SIGTERM');
      await rm(a.dir, { recursive: true, force: true });
    }
  };
  try {
    for (const spec of specs) {
      const paths = spec.paths.length > 0 ? spec.paths : [o.sshAuthSock ?? ''];
      if (paths[0] === '') throw new UsageError(`Cannot use --ssh ${spec.id}: SSH_AUTH_SOCK is not set`, { hint: `pass --ssh ${spec.id}=/path/to/socket` });
      const kinds = await Promise.all(paths.map(kindOf));
      const socket = paths[0];
      if (kinds.length === 1 && kinds[0] === 'socket' && socket !== undefined) {
        sockets.set(spec.id, socket);
        continue;
      }
      if (kinds.some((k) => k !== 'file')) throw new UsageError(`Cannot use --ssh ${spec.id}: expected one agent socket or key files`);
      // The system's temporary folder keeps the socket path within the 108 bytes a unix socket address holds.
      const dir = await mkdtemp(join(tmpdir(), 'tbuild-ssh-'));
      const sock = join(dir, 'agent.sock');
      const child = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore', env: { ...o.processEnv } });
      agents.push({ child, dir });
      await waitForSocket(sock, child, signal);
      await run('ssh-add', paths, { ...o.processEnv, SSH_AUTH_SOCK: sock });
      sockets.set(spec.id, sock);
    }
  } catch (err) {
    await dispose();
    throw err;
  }
  return { sockets, [Symbol.asyncDispose]: dispose };
}

async function kindOf(path: string): Promise<'socket' | 'file' | 'other'> {
  try {
    const st = await lstat(path);
    return st.isSocket() ? 'socket' : st.isFile() ? 'file' : 'other';
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw new UsageError(`Cannot use --ssh: "${path}" does not exist`);
    throw err;
  }
}

async function waitForSocket(sock: string, child: ChildProcess, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + AGENT_START_MS;
  for (;;) {
    signal.throwIfAborted();
    try {
      if ((await lstat(sock)).isSocket()) return;
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new UsageError('Cannot start ssh-agent for --ssh key files', { hint: 'install openssh-client or pass an agent socket' });
    await new Promise((r) => setTimeout(r, 50));
  }
}

function run(cmd: string, args: readonly string[], env: Readonly<Record<string, string>>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], { stdio: 'ignore', env: { ...env } });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new UsageError(`Cannot load ssh keys: ${cmd} exited with ${String(code)}`))));
  });
}
