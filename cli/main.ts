import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { UsageError } from '../base/errors.js';
import type { Controller } from '../controller/index.js';
import { BUILD_HELP, parseBuildCommand } from './build-command.js';
import { CLOSED_PIPE_STATUS, defaultRoot, processIO, settingsFileOf, type CommandIO } from './command-io.js';
import { parseCommandArgs, splitCommandLine } from './command-line.js';
import { COMMANDS, DU_OPTIONS, IMAGES_OPTIONS, PRUNE_OPTIONS, RMI_OPTIONS, commandSpec, renderMainHelp } from './command-table.js';
import { exitCodeFor, isOutputClosed, renderError } from './render-error.js';

async function version(): Promise<string> {
  const pkg: unknown = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
  const v = typeof pkg === 'object' && pkg !== null && 'version' in pkg ? String(pkg.version) : 'unknown';
  return `tbuild ${v}\n`;
}

/**
 * main runs the tbuild command line and returns the exit status. Builds run in `client`, the process they are for: a
 * launcher client of the resident builder, or this one (bin/tbuild.js) when none is given, which runs rootless when
 * an ordinary user started it.
 */
export async function main(argv: readonly string[], client?: CommandIO): Promise<number> {
  let debug = argv.includes('--debug');
  let sources: ReadonlyMap<string, string> = new Map();
  const io = client ?? processIO();
  try {
    const line = splitCommandLine(argv);
    const { command, args: rest } = line;
    // Started by an ordinary user: the command runs in a user namespace of its own (a launcher client's never comes here).
    // As root nothing of it loads.
    const ordinaryUser = client === undefined && process.getuid?.() !== 0;
    const rootless = ordinaryUser ? await (await import('./rootless-entry.js')).runRootless(argv, line, io.env) : undefined;
    if (rootless !== undefined) return rootless;
    switch (command) {
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.stdout.write(renderMainHelp());
        return command === undefined ? 2 : 0;
      case '--version':
      case 'version':
        io.stdout.write(await version());
        return 0;
      case 'build': {
        const cmd = parseBuildCommand(rest, io);
        debug = cmd.debug;
        if (cmd.help) {
          io.stdout.write(BUILD_HELP);
          return 0;
        }
        const { prepareBuild, runBuild } = await import('./build-run.js');
        const run = await prepareBuild(cmd, io);
        sources = run.sources;
        return await runBuild(cmd, run, io);
      }
      case 'images':
        return await images(rest, io);
      case 'rmi':
        return await removeImages(rest, io);
      case 'tag':
      case 'push':
      case 'save':
      case 'load':
      case 'inspect':
        return await (await import('./store-commands.js')).storeCommand(command, rest, io, (root) => openController(root, io));
      case 'du':
        return await diskUsage(rest, io);
      case 'prune':
        return await prune(rest, io);
      case 'debug':
        return await debugCommand(rest, io);
      case 'history':
        return await (await import('./history-command.js')).historyCommand(rest, io, (root) => openController(root, io));
      case 'serve':
        return await (await import('./serve-command.js')).serveCommand(rest);
      case 'builder':
        return await (await import('./builder-command.js')).builderCommand(rest, io);
      case 'info':
        return await (await import('./remote-commands.js')).infoCommand(rest, io);
      case 'binfmt':
        return await (await import('./binfmt-command.js')).binfmtCommand(rest);
      case 'imagetools':
        return await (await import('./imagetools-command.js')).imagetoolsCommand(rest, undefined);
      case 'login':
        return await (await import('./login-command.js')).runLogin(rest);
      case 'logout':
        return await (await import('./login-command.js')).runLogout(rest);
      case 'completion':
        return await (await import('./completion-command.js')).completionCommand(rest, io);
      case 'daemon':
        // Hidden: the resident builder the launcher (native/build/tbuild) starts and forwards builds to.
        return await (await import('./daemon-command.js')).daemonCommand(rest, (args, client) => main(args, client));
      default:
        throw new UsageError(`Unknown command "${command}"`, { hint: unknownCommandHint(command) });
    }
  } catch (err) {
    // A closed pipe on standard output ends the command quietly, as it ends other command-line tools.
    if (isOutputClosed(err) && !debug) return CLOSED_PIPE_STATUS;
    io.stderr.write(renderError(err, { debug, sources }));
    return exitCodeFor(err);
  }
}

/** unknownCommandHint names the command a misspelt one was probably meant to be, as docker does. */
function unknownCommandHint(command: string): string {
  const near = Object.keys(COMMANDS).filter((name) => commandSpec(name)?.hidden !== true && editDistance(name, command) <= 2);
  return near.length > 0 ? `did you mean "${near.join('" or "')}"? run 'tbuild --help' for the list of commands` : "run 'tbuild --help' for the list of commands";
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length] ?? 0;
}

/** openController opens the controller of the `--root` a command names (default: defaultRoot()). */
async function openController(root: string | undefined, io: CommandIO): Promise<Controller & AsyncDisposable> {
  // Builds and pushes that name no settings file use the user's default one.
  const settingsFile = await settingsFileOf(io.env, undefined);
  return io.openController({ root: root === undefined ? defaultRoot(io.env) : resolve(io.cwd, root), ...(settingsFile === undefined ? {} : { settingsFile }) });
}

async function images(args: readonly string[], io: CommandIO): Promise<number> {
  const parsed = parseCommandArgs('images', args, IMAGES_OPTIONS);
  const { IMAGES_HELP, runImages } = await import('./images-command.js');
  if (parsed.values.help === true) {
    io.stdout.write(IMAGES_HELP);
    return 0;
  }
  await using controller = await openController(parsed.values.root, io);
  io.stdout.write(await runImages(controller, parsed));
  return 0;
}

async function removeImages(args: readonly string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommandArgs('rmi', args, RMI_OPTIONS);
  const { RMI_HELP, runRemoveImages } = await import('./images-command.js');
  if (values.help === true) {
    io.stdout.write(RMI_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('Cannot remove images: name at least one', { hint: 'tbuild rmi IMAGE [IMAGE...]' });
  await using controller = await openController(values.root, io);
  io.stdout.write(await runRemoveImages(controller, positionals, { force: values.force === true }));
  return 0;
}

async function diskUsage(args: readonly string[], io: CommandIO): Promise<number> {
  const { values } = parseCommandArgs('du', args, DU_OPTIONS, { positionals: false });
  const { DU_HELP, renderDiskUsage } = await import('./cache-commands.js');
  if (values.help === true) {
    io.stdout.write(DU_HELP);
    return 0;
  }
  const spec = await (await import('./builder-select.js')).localBuilder(values, io.env);
  if (spec !== undefined) {
    const { remoteDiskUsage } = await import('../remote/lazy.js');
    return (await import('./remote-commands.js')).forEachNode(spec, io, async (conn) => renderDiskUsage(await remoteDiskUsage(conn), values.verbose === true));
  }
  await using controller = await openController(values.root, io);
  io.stdout.write(renderDiskUsage(await controller.du(), values.verbose === true));
  return 0;
}

async function prune(args: readonly string[], io: CommandIO): Promise<number> {
  const { values } = parseCommandArgs('prune', args, PRUNE_OPTIONS, { positionals: false });
  const { PRUNE_HELP, confirmPrune, parsePruneOptions, renderPruneReport } = await import('./cache-commands.js');
  if (values.help === true) {
    io.stdout.write(PRUNE_HELP);
    return 0;
  }
  const options = parsePruneOptions(values);
  const spec = await (await import('./builder-select.js')).localBuilder(values, io.env);
  // As docker builder prune: a terminal is asked first, --force skips the question.
  if (values.force !== true && !(await confirmPrune(options, io))) {
    io.stderr.write('Build cache prune cancelled\n');
    return 1;
  }
  if (spec !== undefined) {
    const { remotePrune } = await import('../remote/lazy.js');
    return (await import('./remote-commands.js')).forEachNode(spec, io, async (conn) => renderPruneReport(await remotePrune(conn, options)));
  }
  await using controller = await openController(values.root, io);
  io.stdout.write(renderPruneReport(await controller.prune(options)));
  return 0;
}

const DEBUG_HELP = `Usage: tbuild debug ast FILE
       tbuild debug check-store [--root DIR] [--format json] [--all-blobs] [--repair]
       tbuild debug shell [--root DIR] [--shell CMD] IMAGE | --step N [REF]

Commands:
  ast          Print the parsed syntax tree of a Dockerfile
  check-store  Check the store for inconsistencies, and with --repair remove what is safe to remove
  shell        Open a shell in an image of the store, or in a step's result of a recorded build

Run 'tbuild debug check-store --help' or 'tbuild debug shell --help' for their options.
`;

async function debugCommand(args: readonly string[], io: CommandIO): Promise<number> {
  // check-store has options of its own: they are read against its table, not debug's.
  const at = args.findIndex((a) => !a.startsWith('-'));
  if (args[at] === 'check-store') {
    const { checkStoreCommand } = await import('./check-store-command.js');
    return await checkStoreCommand([...args.slice(0, at), ...args.slice(at + 1)], io);
  }
  if (args[at] === 'shell') {
    const { debugShellCommand } = await import('./debug-shell-command.js');
    return await debugShellCommand([...args.slice(0, at), ...args.slice(at + 1)], io);
  }
  const { values, positionals } = parseCommandArgs('debug', args, {});
  if (values.help === true) {
    io.stdout.write(DEBUG_HELP);
    return 0;
  }
  const [sub, file, ...extra] = positionals;
  if (sub !== 'ast' || file === undefined || extra.length > 0) throw new UsageError('Cannot run debug: expected "tbuild debug ast FILE"');
  const { parseDockerfile, dumpAst } = await import('../controller/index.js');
  const text = await readFile(resolve(io.cwd, file), 'utf8');
  io.stdout.write(dumpAst(parseDockerfile(text, { file: basename(file) }).ast));
  return 0;
}
