import { spawn, type ChildProcess } from 'node:child_process';
import { lstat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerfileError, errnoCode, UsageError } from '../base/errors.js';
import { walkVertices, type Vertex } from '../solver/graph/index.js';
import { LocalSecretProvider, type SecretProvider, type SecretSource } from '../solver/ops/index.js';
import type { Entitlement, SecretSpec, SshSpec } from './request.js';

const AGENT_START_MS = 5000;

/** secretSources maps secret ids to where their values are read; values are never read here. */
export function secretSources(specs: readonly SecretSpec[]): Map<string, SecretSource> {
  const out = new Map<string, SecretSource>();
  for (const s of specs) out.set(s.id, s.kind === 'file' ? { kind: 'file', path: s.path } : { kind: 'env', name: s.env });
  return out;
}

/** localSecretProvider serves `--secret` values from files and environment variables of this process. */
export function localSecretProvider(specs: readonly SecretSpec[], env: NodeJS.ProcessEnv = process.env): SecretProvider {
  return new LocalSecretProvider(secretSources(specs), env);
}

/** checkEntitlements refuses RUN steps that need an entitlement the build was not given. */
export function checkEntitlements(root: Vertex, allowed: readonly Entitlement[]): void {
  for (const v of walkVertices([root])) {
    const op = v.op;
    if (op.kind !== 'exec') continue;
    const location = v.metadata.location;
    if (op.security === 'insecure' && !allowed.includes('security.insecure')) {
      throw new DockerfileError('Cannot run RUN --security=insecure: entitlement security.insecure is not allowed', {
        ...(location === undefined ? {} : { location }),
        hint: 'pass --allow security.insecure',
      });
    }
    if (op.network === 'host' && !allowed.includes('network.host')) {
      throw new DockerfileError('Cannot run RUN --network=host: entitlement network.host is not allowed', {
        ...(location === undefined ? {} : { location }),
        hint: 'pass --allow network.host',
      });
    }
  }
}

/** SshAgents are the agent sockets of a build; disposing stops the agents started for key files. */
export interface SshAgents extends AsyncDisposable {
  readonly sockets: ReadonlyMap<string, string>;
}

/** openSshAgents resolves `--ssh` specs: sockets are used as they are, key files are loaded into a new ssh-agent. */
export async function openSshAgents(specs: readonly SshSpec[], signal: AbortSignal): Promise<SshAgents> {
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
      const paths = spec.paths.length > 0 ? spec.paths : [process.env['SSH_AUTH_SOCK'] ?? ''];
      if (paths[0] === '') throw new UsageError(`Cannot use --ssh ${spec.id}: SSH_AUTH_SOCK is not set`, { hint: `pass --ssh ${spec.id}=/path/to/socket` });
      const kinds = await Promise.all(paths.map(kindOf));
      const socket = paths[0];
      if (kinds.length === 1 && kinds[0] === 'socket' && socket !== undefined) {
        sockets.set(spec.id, socket);
        continue;
      }
      if (kinds.some((k) => k !== 'file')) throw new UsageError(`Cannot use --ssh ${spec.id}: expected one agent socket or key files`);
      const dir = await mkdtemp(join(tmpdir(), 'tbuild-ssh-'));
      const sock = join(dir, 'agent.sock');
      const child = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
      agents.push({ child, dir });
      await waitForSocket(sock, child, signal);
      await run('ssh-add', paths, { ...process.env, SSH_AUTH_SOCK: sock });
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

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], { stdio: 'ignore', env });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new UsageError(`Cannot load ssh keys: ${cmd} exited with ${String(code)}`))));
  });
}
