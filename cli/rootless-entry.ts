import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { constants as osConstants, userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { errnoCode } from '../base/errors.js';
import { isExecutableOnPath } from '../base/fs.js';
import { subordinateRanges } from '../base/user-namespace.js';
import type { Environment } from './command-io.js';
import { COMMON_OPTIONS, type CommandLine } from './command-line.js';
import { commandSpec } from './command-table.js';

/**
 * Rootless tbuild: started by an ordinary user, tbuild runs itself again inside a new user and mount namespace whose
 * root is that user (as rootlesskit does for BuildKit). util-linux's unshare(1) makes it: with the user's ranges of
 * /etc/subuid and /etc/subgid, mapped from id 1 up through the setuid newuidmap and newgidmap, images keep their
 * files' owners; without them only id 0 (the user) is mapped, and a file can be given to no other id.
 */

/** Commands that touch neither the store nor the sandbox run as they are, without a namespace. */
const OUTSIDE_COMMANDS: ReadonlySet<string | undefined> = new Set([undefined, '--help', '-h', 'help', '--version', 'version', 'completion', 'login', 'logout', 'imagetools']);

/**
 * needsNamespace tells whether a command line touches the store or the sandbox: not a command that needs none, nor
 * one that only asks for its help (`tbuild serve --help`, `tbuild history ls -h`), nor an unknown command (refused).
 */
export function needsNamespace(command: string | undefined, args: readonly string[]): boolean {
  if (OUTSIDE_COMMANDS.has(command)) return false;
  const spec = command === undefined ? undefined : commandSpec(command);
  if (spec === undefined) return false;
  const end = args.indexOf('--');
  const own = end < 0 ? args : args.slice(0, end);
  const sub = spec.subcommands?.[own[0] ?? ''];
  // Lenient: a command line the command will refuse still shows whether it asks for help.
  const { values } = parseArgs({ args: sub === undefined ? [...own] : own.slice(1), options: { ...(sub ?? spec).options, ...COMMON_OPTIONS }, strict: false, allowPositionals: true });
  return values['help'] !== true;
}

/** IdMapping is how the namespace maps ids: the user's subordinate ranges, or the user alone, with the reason. */
export type IdMapping = { readonly kind: 'subordinate' } | { readonly kind: 'single'; readonly reason: string };

async function readIfExists(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return '';
    throw err;
  }
}

/** chooseIdMapping finds whether the user has subordinate ids to map, and newuidmap/newgidmap to map them with. */
export async function chooseIdMapping(env: Environment, files = { subuid: '/etc/subuid', subgid: '/etc/subgid' }): Promise<IdMapping> {
  const { username: name, uid } = userInfo();
  // newgidmap looks the user up by login name or user id in /etc/subgid too.
  const user = { name, id: uid };
  for (const file of [files.subuid, files.subgid]) {
    if (subordinateRanges(await readIfExists(file), user).length === 0) return { kind: 'single', reason: `${file} grants user "${name}" no subordinate ids` };
  }
  for (const tool of ['newuidmap', 'newgidmap']) {
    if (!(await isExecutableOnPath(tool, env['PATH'] ?? '/usr/bin:/bin'))) return { kind: 'single', reason: `${tool} is not installed (Debian: apt-get install uidmap)` };
  }
  return { kind: 'subordinate' };
}

/** unshareArgs is the unshare(1) command line that runs `command` as root of a new user and mount namespace. */
export function unshareArgs(mapping: IdMapping, command: readonly string[]): string[] {
  const map = mapping.kind === 'subordinate' ? ['--map-auto', '--map-root-user'] : ['--map-root-user'];
  // Mounts made inside stay private to the namespace (unshare's default propagation), and go with it.
  return ['--user', ...map, '--mount', '--', ...command];
}

/**
 * runRootless runs this command line again in a user namespace, tbuild having been started by an ordinary user (main
 * calls it only then: inside the namespace the process is root), and returns its exit status; undefined when this
 * process should run it itself (a command that needs no namespace).
 */
export async function runRootless(argv: readonly string[], line: CommandLine, env: Environment): Promise<number | undefined> {
  if (!needsNamespace(line.command, line.args)) return undefined;
  const mapping = await chooseIdMapping(env);
  if (mapping.kind === 'single') {
    process.stderr.write(`tbuild: warning: running rootless with one id: ${mapping.reason}; files cannot be given to owners other than root (see README, Rootless)\n`);
  }
  const script = process.argv[1];
  if (script === undefined) return undefined;
  const child = spawn('unshare', unshareArgs(mapping, [process.execPath, ...process.execArgv, script, ...argv]), { stdio: 'inherit' });
  // The terminal sends SIGINT to both processes; the one in the namespace handles it. Others are passed on.
  const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.on(signal, forward);
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (c, s) => resolve([c, s]));
    });
    return code ?? 128 + (signal === null ? 0 : osConstants.signals[signal]);
  } finally {
    for (const signal of signals) process.off(signal, forward);
  }
}
