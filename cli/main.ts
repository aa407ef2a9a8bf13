import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { UsageError } from '../base/errors.js';
import type { CheckFinding, ProgressEvent, ProgressSink } from '../base/progress.js';
import type { BuildResult, Controller } from '../controller/index.js';
import { BUILD_HELP, parseBuildCommand, writeResultFiles, type BuildCommand } from './build-command.js';
import { createProgress } from './progress/select.js';
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

/** MainOptions are what a caller other than bin/tbuild.js (the resident builder) gives main. */
export interface MainOptions {
  /** Cancels a build like SIGINT does. */
  readonly signal?: AbortSignal;
}

/** main runs the tbuild command line and returns the exit status. */
export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const [command, ...rest] = argv;
  let debug = argv.includes('--debug');
  let dockerfiles = new Map<string, string>();
  try {
    switch (command) {
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(MAIN_HELP);
        return command === undefined ? 2 : 0;
      case '--version':
      case 'version':
        process.stdout.write(await version());
        return 0;
      case 'build': {
        const cmd = parseBuildCommand(rest);
        debug = cmd.debug;
        if (cmd.help) {
          process.stdout.write(BUILD_HELP);
          return 0;
        }
        if (cmd.input !== undefined) {
          // `-f -`, a context `-` or a context URL: read or fetch them into files first (removed after the build).
          const { fetchInputs } = await import('./fetched-inputs.js');
          await using inputs = await fetchInputs(cmd, process.stdin, options.signal ?? new AbortController().signal);
          dockerfiles = new Map([[basename(inputs.cmd.request.dockerfile), inputs.cmd.request.dockerfile]]);
          return await build(inputs.cmd, options.signal);
        }
        dockerfiles = new Map([[basename(cmd.request.dockerfile), cmd.request.dockerfile]]);
        return await build(cmd, options.signal);
      }
      case 'images':
        return await images(rest);
      case 'rmi':
        return await removeImages(rest);
      case 'du':
      case 'prune':
        return await cacheCommand(command, rest);
      case 'debug':
        return await debugCommand(rest);
      case 'serve':
        return await (await import('./serve-command.js')).serveCommand(rest);
      case 'info':
        return await (await import('./remote-commands.js')).infoCommand(rest);
      case 'binfmt':
        return await (await import('./binfmt-command.js')).binfmtCommand(rest);
      case 'imagetools':
        return await (await import('./imagetools-command.js')).imagetoolsCommand(rest, options.signal);
      case 'login':
        return await (await import('./login-command.js')).runLogin(rest);
      case 'logout':
        return await (await import('./login-command.js')).runLogout(rest);
      case 'daemon':
        // Hidden: the resident builder the launcher (native/build/tbuild) starts and forwards builds to.
        return await (await import('./daemon-command.js')).daemonCommand(rest, (args, o) => main(args, o));
      default:
        throw new UsageError(`Unknown command "${command}"`, { hint: "run 'tbuild --help' for the list of commands" });
    }
  } catch (err) {
    process.stderr.write(renderError(err, { debug, files: dockerfiles }));
    return exitCodeFor(err);
  }
}

async function buildEmbedded(cmd: BuildCommand, signal: AbortSignal, progress: ProgressSink): Promise<BuildResult> {
  const { createController, defaultRoot } = await import('../controller/index.js');
  await using controller = await createController({ root: cmd.root ?? defaultRoot(), ...(cmd.ociRuntime === undefined ? {} : { ociRuntime: cmd.ociRuntime }) });
  return await controller.build(cmd.request, { signal, progress });
}

async function build(cmd: BuildCommand, cancel: AbortSignal | undefined): Promise<number> {
  const abort = new AbortController();
  const onSignal = (): void => abort.abort(new (UsageError)('Build cancelled'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  if (cancel?.aborted === true) onSignal();
  cancel?.addEventListener('abort', onSignal);
  const shown = await createProgress(cmd.progress);
  // --check prints its findings on stdout, those made before a Dockerfile error too (the result never comes).
  const findings: CheckFinding[] = [];
  const progress = {
    emit: (e: ProgressEvent): void => {
      if (e.type === 'warning' && e.finding !== undefined) findings.push(e.finding);
      shown.emit(e);
    },
    close: () => shown.close(),
  };
  try {
    const result =
      cmd.builder === undefined
        ? await buildEmbedded(cmd, abort.signal, progress)
        : await (await import('./remote-commands.js')).runRemoteBuild(cmd, { signal: abort.signal, progress });
    progress.close();
    if (cmd.request.check === true || cmd.request.print !== undefined) {
      return await (await import('./inspect-flags.js')).writeInspectResult(cmd, result, findings, process.stdout);
    }
    await writeResultFiles(cmd, result);
    if (cmd.progress !== 'quiet' && result.imageId !== undefined && cmd.progress !== 'rawjson') {
      process.stderr.write(`Image ${result.imageId}${result.names.length > 0 ? ` (${result.names.join(', ')})` : ''}\n`);
    }
    if (cmd.progress === 'quiet' && result.imageId !== undefined) process.stdout.write(`${result.imageId}\n`);
    return 0;
  } catch (err) {
    progress.close();
    if (cmd.request.check === true) await writeCheckFailure(cmd, findings, err);
    if (abort.signal.aborted) {
      const { CancelledError } = await import('../base/errors.js');
      throw new CancelledError('Build cancelled', { cause: err });
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    cancel?.removeEventListener('abort', onSignal);
  }
}

function rootOption(args: readonly string[]): string | undefined {
  const i = args.indexOf('--root');
  const inline = args.find((a) => a.startsWith('--root='));
  return i >= 0 ? args[i + 1] : inline?.slice('--root='.length);
}

/** openController opens the controller of the `--root` a command names (default: defaultRoot()). */
async function openController(args: readonly string[]): Promise<Controller> {
  const { createController, defaultRoot } = await import('../controller/index.js');
  return createController({ root: rootOption(args) ?? defaultRoot() });
}

async function images(args: readonly string[]): Promise<number> {
  const { renderImages } = await import('./images-command.js');
  await using controller = await openController(args);
  process.stdout.write(renderImages(await controller.images()));
  return 0;
}

async function removeImages(args: readonly string[]): Promise<number> {
  const { RMI_HELP, runRemoveImages } = await import('./images-command.js');
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(RMI_HELP);
    return 0;
  }
  await using controller = await openController(args);
  process.stdout.write(await runRemoveImages(controller, args));
  return 0;
}

async function cacheCommand(command: 'du' | 'prune', args: readonly string[]): Promise<number> {
  const remote = await import('./remote-commands.js');
  if (remote.wantsRemoteCache(args) && !args.includes('--help') && !args.includes('-h')) return await remote.remoteCacheCommand(command, args);
  const { DU_HELP, PRUNE_HELP, readPruneArgs, renderDiskUsage, renderPruneReport } = await import('./cache-commands.js');
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(command === 'du' ? DU_HELP : PRUNE_HELP);
    return 0;
  }
  if (command === 'prune') {
    const options = readPruneArgs(args);
    await using controller = await openController(args);
    process.stdout.write(renderPruneReport(await controller.prune(options)));
    return 0;
  }
  await using controller = await openController(args);
  process.stdout.write(renderDiskUsage(await controller.du(), args.includes('--verbose')));
  return 0;
}

async function debugCommand(args: readonly string[]): Promise<number> {
  const [sub, file] = args;
  if (sub !== 'ast' || file === undefined) throw new UsageError('Cannot run debug: expected "tbuild debug ast FILE"');
  const { parseDockerfile, dumpAst } = await import('../controller/index.js');
  const text = await readFile(file, 'utf8');
  process.stdout.write(dumpAst(parseDockerfile(text, { file: basename(file) }).ast));
  return 0;
}

/** writeCheckFailure prints the findings of a --check that ended in an error, as buildx prints a lint result with one. */
async function writeCheckFailure(cmd: BuildCommand, findings: readonly CheckFinding[], err: unknown): Promise<void> {
  const { lintResults, readCheckSource, renderCheckText } = await import('./check-report.js');
  const source = await readCheckSource(cmd.request.dockerfile);
  process.stdout.write(cmd.callFormat === 'json' ? `${JSON.stringify(lintResults(findings, source, err), null, 2)}\n` : renderCheckText(findings, source));
}
