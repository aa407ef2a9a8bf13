import { CancelledError, UsageError } from '../base/errors.js';
import type { CheckFinding, ProgressEvent } from '../base/progress.js';
import type { BuildIO, BuildRequest, BuildResult } from '../controller/index.js';
import type { BuildCommand } from './build-command.js';
import { metadataWarnings, writeResultFiles } from './build-metadata.js';
import { warningOf, type VertexWarning } from './progress/solve-status.js';
import { openBuildRequest } from './build-request.js';
import { selectBuilder } from './builder-select.js';
import type { BuilderSpec } from '../remote/index.js';
import { debugShellOn, userTerminal } from './debug-flags.js';
import { checkSourceOf } from './check-report.js';
import { defaultRoot, settingsFileOf, type CommandIO } from './command-io.js';
import { createProgress } from './progress/select.js';

/** BuildRun is a build command about to run: its request, the builder it goes to, and the Dockerfile text errors quote. */
export interface BuildRun {
  readonly request: BuildRequest;
  /** The remote builder (--builder, TBUILD_BUILDER, TBUILD_HOST or the one in use); undefined builds in this process. */
  readonly builder: BuilderSpec | undefined;
  /** Dockerfile text by file name, for the snippets of errors. */
  readonly sources: ReadonlyMap<string, string>;
}

/** prepareBuild reads what a build command names in its process (Dockerfile, standard input, environment). */
export async function prepareBuild(cmd: BuildCommand, io: CommandIO): Promise<BuildRun> {
  const builder = await selectBuilder({ builder: cmd.builder, tlscacert: cmd.tlsCaCert, tlscert: cmd.tlsCert, tlskey: cmd.tlsKey, token: cmd.token }, io.env);
  // A debug shell needs the user's terminal and runs in this process: both are checked before anything is read or built.
  if (cmd.onError !== undefined) {
    if (builder !== undefined) {
      throw new UsageError('Cannot use --on-error=shell with --builder: the shell opens only in builds run by this process', {
        hint: 'build without --builder (and without TBUILD_BUILDER, TBUILD_HOST or a builder in use) to debug a failing step',
      });
    }
    userTerminal(io, '--on-error=shell');
  }
  if (cmd.noProcessSandbox && builder !== undefined) {
    throw new UsageError('Cannot use --no-process-sandbox with --builder: the builder runs RUN steps as its server was started', {
      hint: 'start the server with tbuild serve --no-process-sandbox, or set [executor] process-sandbox = false in its settings file',
    });
  }
  if (cmd.ociRuntime !== undefined && builder !== undefined) {
    throw new UsageError(`Cannot use --oci-runtime with --builder: the builder runs RUN steps with the runtime its server was started with`, {
      hint: `start the server with tbuild serve --oci-runtime ${cmd.ociRuntime}`,
    });
  }
  const request = await openBuildRequest(cmd, io);
  const d = request.dockerfile;
  return { request, builder, sources: new Map('bytes' in d ? [[d.name, Buffer.from(d.bytes).toString('utf8')]] : []) };
}

/** runBuild runs a build command, embedded or on a builder, shows its progress and prints its result. */
export async function runBuild(cmd: BuildCommand, run: BuildRun, io: CommandIO): Promise<number> {
  const abort = new AbortController();
  using _interrupt = io.onInterrupt(() => abort.abort(new UsageError('Build cancelled')));
  const shown = await createProgress(cmd.progress, io.stderr, { env: io.env, debug: cmd.debug, sources: run.sources });
  // buildx writes the build's warnings into the metadata file when BUILDX_METADATA_WARNINGS asks for them.
  const warnings: VertexWarning[] = [];
  const keepWarnings = cmd.metadataFile !== undefined && metadataWarnings(io.env) && run.request.check !== true && run.request.print === undefined;
  // --check prints its findings on stdout, those made before a Dockerfile error too (the result never comes).
  const findings: CheckFinding[] = [];
  const { request } = run;
  const progress = {
    emit: (e: ProgressEvent): void => {
      if (e.type === 'warning' && e.finding !== undefined) {
        findings.push(e.finding);
        // --check prints its findings once, as its result on standard output; buildx's progress does not repeat them.
        if (request.check === true) return;
      }
      if (e.type === 'warning' && keepWarnings) warnings.push(warningOf(e, run.sources));
      shown.emit(e);
    },
  };
  const debugShell =
    cmd.onError === undefined
      ? undefined
      : debugShellOn(userTerminal(io, '--on-error=shell'), {
          ...(cmd.onError.shell === undefined ? {} : { args: cmd.onError.shell }),
          before: () => shown.close(),
          stderr: io.stderr,
        });
  try {
    const { builder } = run;
    const { result, builderRef } =
      builder === undefined
        ? { result: await buildEmbedded(cmd, request, io, { signal: abort.signal, progress, ...(debugShell === undefined ? {} : { debugShell }) }), builderRef: 'tbuild/embedded' }
        : await (await import('./remote-commands.js')).runRemoteBuild(cmd, { request, builder }, io, { signal: abort.signal, progress });
    shown.close();
    if (request.check === true || request.print !== undefined) {
      return (await import('./inspect-flags.js')).writeInspectResult(cmd, result, findings, checkSourceOf(request.dockerfile), io.stdout);
    }
    // buildx.build.ref names the builder and node as buildx does (builder/node/ref).
    await writeResultFiles({ iidfile: cmd.iidfile, metadataFile: cmd.metadataFile, builderRef }, result, { umask: io.umask, warnings });
    if (result.imageId !== undefined && !['quiet', 'none', 'rawjson', 'json'].includes(cmd.progress)) {
      io.stderr.write(`Image ${result.imageId}${result.names.length > 0 ? ` (${result.names.join(', ')})` : ''}\n`);
    }
    if (cmd.progress === 'quiet' && result.imageId !== undefined) io.stdout.write(`${result.imageId}\n`);
    return 0;
  } catch (err) {
    shown.close();
    if (request.check === true) {
      const { lintResults, renderCheckText } = await import('./check-report.js');
      // A --check that ended in an error prints its findings as buildx prints a lint result with one.
      const source = checkSourceOf(request.dockerfile);
      io.stdout.write(cmd.callFormat === 'json' ? `${JSON.stringify(lintResults(findings, source, err), null, 2)}\n` : renderCheckText(findings, source));
    }
    if (abort.signal.aborted) throw new CancelledError('Build cancelled', { cause: err });
    throw err;
  }
}

async function buildEmbedded(cmd: BuildCommand, request: BuildRequest, io: CommandIO, o: BuildIO): Promise<BuildResult> {
  const settingsFile = await settingsFileOf(io.env, undefined);
  await using controller = await io.openController({
    root: cmd.root ?? defaultRoot(io.env),
    ...(cmd.ociRuntime === undefined ? {} : { ociRuntime: cmd.ociRuntime }),
    ...(cmd.noProcessSandbox ? { processSandbox: false } : {}),
    ...(settingsFile === undefined ? {} : { settingsFile }),
  });
  return await controller.build(request, io.answered === undefined ? o : { ...o, answered: io.answered });
}
