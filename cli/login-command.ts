import { resolve } from 'node:path';
import { UsageError } from '../base/errors.js';
import { parseCommandArgs } from './command-line.js';
import { LOGIN_OPTIONS } from './command-table.js';
import { dockerConfigDir, settingsFileOf } from './command-io.js';

/** LOGIN_HELP is the usage text of `tbuild login`. */
export const LOGIN_HELP = `Usage: tbuild login [OPTIONS] REGISTRY

Log in to a registry. The credentials are checked against the registry first, then stored in
Docker's config.json ($DOCKER_CONFIG or ~/.docker), through its credential helper when one is set.

Options:
  -u, --username USER   User name
  -p, --password PASS   Password or token (prefer --password-stdin)
      --password-stdin  Read the password from standard input
      --config FILE     tbuild.toml with registry settings (CA, plain HTTP)
`;

/** LOGOUT_HELP is the usage text of `tbuild logout`. */
export const LOGOUT_HELP = `Usage: tbuild logout REGISTRY

Remove the stored credentials of a registry.
`;

/** runLogin runs `tbuild login` and returns the exit status. */
export async function runLogin(args: readonly string[]): Promise<number> {
  const { values: v, positionals } = parseCommandArgs('login', args, LOGIN_OPTIONS);
  if (v['help'] === true) {
    process.stdout.write(LOGIN_HELP);
    return 0;
  }
  const registry = onlyRegistry(positionals, 'login');
  const username = typeof v['username'] === 'string' ? v['username'] : undefined;
  if (username === undefined) throw new UsageError('Cannot log in: missing --username', { hint: 'run "tbuild login -u USER --password-stdin REGISTRY"' });
  if (typeof v['password'] === 'string' && v['password-stdin'] === true) throw new UsageError('Cannot use --password and --password-stdin together');
  if (typeof v['password'] === 'string') process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  const password = typeof v['password'] === 'string' ? v['password'] : v['password-stdin'] === true ? await readStdin() : undefined;
  if (password === undefined) throw new UsageError('Cannot log in: missing --password-stdin (or --password)');
  const { loginToRegistry } = await import('../controller/index.js');
  const settings = await settingsFileOf(process.env, typeof v['config'] === 'string' ? resolve(v['config']) : undefined);
  const config = settings === undefined ? {} : { registryConfigPath: settings };
  const saved = await loginToRegistry({ registry, username, password, dockerConfigDir: dockerConfigDir(process.env), ...config }, { signal: interruptSignal() });
  if (saved.helper === undefined) process.stderr.write(`WARNING! Your password will be stored unencrypted in ${saved.file}.\n`);
  process.stdout.write('Login Succeeded\n');
  return 0;
}

/** runLogout runs `tbuild logout` and returns the exit status. */
export async function runLogout(args: readonly string[]): Promise<number> {
  const { values: v, positionals } = parseCommandArgs('logout', args, {});
  if (v['help'] === true) {
    process.stdout.write(LOGOUT_HELP);
    return 0;
  }
  const registry = onlyRegistry(positionals, 'logout');
  const { logoutFromRegistry } = await import('../controller/index.js');
  const removed = await logoutFromRegistry({ registry, dockerConfigDir: dockerConfigDir(process.env) }, { signal: interruptSignal() });
  process.stdout.write(removed ? `Removing login credentials for ${registry}\n` : `Not logged in to ${registry}\n`);
  return 0;
}

function onlyRegistry(positionals: readonly string[], command: string): string {
  const [registry, ...extra] = positionals;
  if (registry === undefined || extra.length > 0) throw new UsageError(`Cannot run ${command}: expected exactly one REGISTRY`);
  return registry;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  // As with docker, one trailing newline (from echo) is not part of the password.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function interruptSignal(): AbortSignal {
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort(new UsageError('Login cancelled')));
  return AbortSignal.any([abort.signal, AbortSignal.timeout(120_000)]);
}
