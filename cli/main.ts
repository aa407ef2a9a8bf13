import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { UsageError } from '../base/errors.js';
import type { Controller } from '../controller/index.js';
import { BUILD_HELP, parseBuildCommand } from './build-command.js';
import { defaultRoot, processIO, type CommandIO } from './command-io.js';
import { exitCodeFor, renderError } from './render-error.js';

const MAIN_HELP = `Usage: tbuild COMMAND

A container image builder: Dockerfile in, OCI image out.

Commands:
  build       Build an image from a Dockerfile
  images      List images in the local image store
  rmi         Remove images from the local image store
  du          Show the disk usage of the build cache
  prune       Remove build cache
  debug ast   Print the parsed syntax tree of a Dockerfile
  serve       Run a remote builder (gRPC) for 'build --builder'
  info        Show information about tbuild or a remote builder
  binfmt      Register QEMU emulators for building other architectures
  imagetools  Inspect images in a registry and make multi-platform indexes of them
  login       Log in to a registry
  logout      Log out from a registry

Options:
  --root DIR  State folder (default: $TBUILD_ROOT, /var/lib/tbuild as root)
  --version   Print the version
  --help      Print this help

Run 'tbuild COMMAND --help' for more information on a command.
`;

async function version(): Promise<string> {
  const pkg: unknown = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
  const v = typeof pkg === 'object' && pkg !== null && 'version' in pkg ? String(pkg.version) : 'unknown';
  return `tbuild ${v}\n`;
}

/**
 * main runs the tbuild command line and returns the exit status. Builds run in `io`, the process they are for: this
 * one (bin/tbuild.js), or a launcher client of the resident builder.
 */
export async function main(argv: readonly string[], io: CommandIO = processIO()): Promise<number> {
  const [command, ...rest] = argv;
  let debug = argv.includes('--debug');
  let sources: ReadonlyMap<string, string> = new Map();
  try {
    switch (command) {
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.stdout.write(MAIN_HELP);
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
      case 'du':
      case 'prune':
        return await cacheCommand(command, rest, io);
      case 'debug':
        return await debugCommand(rest, io);
      case 'serve':
        return await (await import('./serve-command.js')).serveCommand(rest);
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
      case 'daemon':
        // Hidden: the resident builder the launcher (native/build/tbuild) starts and forwards builds to.
        return await (await import('./daemon-command.js')).daemonCommand(rest, (args, client) => main(args, client));
      default:
        throw new UsageError(`Unknown command "${command}"`, { hint: "run 'tbuild --help' for the list of commands" });
    }
  } catch (err) {
    io.stderr.write(renderError(err, { debug, sources }));
    return exitCodeFor(err);
  }
}

function rootOption(args: readonly string[]): string | undefined {
  const i = args.indexOf('--root');
  const inline = args.find((a) => a.startsWith('--root='));
  return i >= 0 ? args[i + 1] : inline?.slice('--root='.length);
}

/** openController opens the controller of the `--root` a command names (default: defaultRoot()). */
function openController(args: readonly string[], io: CommandIO): Promise<Controller & AsyncDisposable> {
  const root = rootOption(args);
  return io.openController({ root: root === undefined ? defaultRoot(io.env) : resolve(io.cwd, root) });
}

async function images(args: readonly string[], io: CommandIO): Promise<number> {
  const { IMAGES_HELP, runImages } = await import('./images-command.js');
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(IMAGES_HELP);
    return 0;
  }
  await using controller = await openController(args, io);
  io.stdout.write(await runImages(controller, args));
  return 0;
}

async function removeImages(args: readonly string[], io: CommandIO): Promise<number> {
  const { RMI_HELP, runRemoveImages } = await import('./images-command.js');
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(RMI_HELP);
    return 0;
  }
  await using controller = await openController(args, io);
  io.stdout.write(await runRemoveImages(controller, args));
  return 0;
}

async function cacheCommand(command: 'du' | 'prune', args: readonly string[], io: CommandIO): Promise<number> {
  const remote = await import('./remote-commands.js');
  if (remote.wantsRemoteCache(args, io.env) && !args.includes('--help') && !args.includes('-h')) return await remote.remoteCacheCommand(command, args, io);
  const { DU_HELP, PRUNE_HELP, readPruneArgs, renderDiskUsage, renderPruneReport } = await import('./cache-commands.js');
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(command === 'du' ? DU_HELP : PRUNE_HELP);
    return 0;
  }
  if (command === 'prune') {
    const options = readPruneArgs(args);
    await using controller = await openController(args, io);
    io.stdout.write(renderPruneReport(await controller.prune(options)));
    return 0;
  }
  await using controller = await openController(args, io);
  io.stdout.write(renderDiskUsage(await controller.du(), args.includes('--verbose')));
  return 0;
}

async function debugCommand(args: readonly string[], io: CommandIO): Promise<number> {
  const [sub, file] = args;
  if (sub !== 'ast' || file === undefined) throw new UsageError('Cannot run debug: expected "tbuild debug ast FILE"');
  const { parseDockerfile, dumpAst } = await import('../controller/index.js');
  const text = await readFile(resolve(io.cwd, file), 'utf8');
  io.stdout.write(dumpAst(parseDockerfile(text, { file: basename(file) }).ast));
  return 0;
}
