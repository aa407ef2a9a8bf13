import { spawn } from 'node:child_process';
import { ConfigError, errnoCode } from '../base/errors.js';
import { isRecord } from './read-body.js';

/** HelperCredentials is what a `docker-credential-*` helper stores for one server. */
export interface HelperCredentials {
  readonly serverUrl: string;
  readonly username: string;
  readonly secret: string;
}

/** HelperAction is one verb of the Docker credential-helper protocol. */
export type HelperAction = 'get' | 'store' | 'erase';

const MAX_OUTPUT = 1 << 20;
// Helpers answer a missing entry with this text on stdout and exit status 1 (docker-credential-helpers/credentials/error.go).
const NOT_FOUND = /credentials not found/i;

/** runCredentialHelper runs `docker-credential-NAME ACTION`, writing `input` to its stdin and returning stdout. */
export function runCredentialHelper(name: string, action: HelperAction, input: string, options: { signal: AbortSignal }): Promise<string> {
  const program = `docker-credential-${name}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, [action], { stdio: ['pipe', 'pipe', 'pipe'], signal: options.signal });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      if (stdout.length < MAX_OUTPUT) stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-4000);
    });
    child.on('error', (err) => {
      if (options.signal.aborted) reject(options.signal.reason);
      else if (errnoCode(err) === 'ENOENT') reject(new ConfigError(`Cannot run credential helper "${program}": not found on PATH`, { cause: err }));
      else reject(new ConfigError(`Cannot run credential helper "${program}"`, { cause: err }));
    });
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else if (action === 'get' && NOT_FOUND.test(stdout + stderr)) resolve('');
      else reject(new ConfigError(`Cannot ${action} credentials with "${program}": exit status ${code}: ${(stdout + stderr).trim()}`));
    });
    // A helper that exits without reading stdin makes this write fail with EPIPE; its exit status tells the story.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** helperGet asks a helper for a server's credentials; undefined when it has none. */
export async function helperGet(name: string, serverUrl: string, options: { signal: AbortSignal }): Promise<HelperCredentials | undefined> {
  const out = await runCredentialHelper(name, 'get', serverUrl, options);
  if (out.trim() === '') return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(out);
  } catch (err) {
    throw new ConfigError(`Cannot read the answer of "docker-credential-${name}": invalid JSON`, { cause: err });
  }
  if (!isRecord(doc)) return undefined;
  const username = typeof doc['Username'] === 'string' ? doc['Username'] : '';
  const secret = typeof doc['Secret'] === 'string' ? doc['Secret'] : '';
  if (username === '' && secret === '') return undefined;
  return { serverUrl, username, secret };
}

/** helperStore saves credentials through a helper. */
export async function helperStore(name: string, creds: HelperCredentials, options: { signal: AbortSignal }): Promise<void> {
  const input = JSON.stringify({ ServerURL: creds.serverUrl, Username: creds.username, Secret: creds.secret });
  await runCredentialHelper(name, 'store', input, options);
}

/** helperErase removes a server's credentials from a helper. */
export async function helperErase(name: string, serverUrl: string, options: { signal: AbortSignal }): Promise<void> {
  await runCredentialHelper(name, 'erase', serverUrl, options);
}
