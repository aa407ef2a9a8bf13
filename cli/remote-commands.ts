import type { ProgressSink } from '../base/progress.js';
import type { BuildRequest, BuildResult } from '../controller/index.js';
import type { BuilderSpec } from '../remote/index.js';
import { chooseNode, localBuilder, routingKeyOf, stderrWarning, type NodeChoice } from './builder-select.js';
import type { BuildCommand } from './build-command.js';
import { defaultRoot, type CommandIO, type Environment } from './command-io.js';
import { parseCommandArgs } from './command-line.js';
import { INFO_OPTIONS } from './command-table.js';

/** RemoteBuildOutcome is a remote build's result, and the builder and node it ran on (buildx's `builder/node`). */
export interface RemoteBuildOutcome {
  readonly result: BuildResult;
  readonly builderRef: string;
}

/**
 * runRemoteBuild runs `tbuild build --builder ...`: the same request, built by the server the build's routing key
 * ranks first among those that answer.
 */
export async function runRemoteBuild(cmd: BuildCommand, run: { request: BuildRequest; builder: BuilderSpec }, io: CommandIO, o: { signal: AbortSignal; progress: ProgressSink }): Promise<RemoteBuildOutcome> {
  const { request } = run;
  if (request.registryConfigPath !== undefined) {
    io.stderr.write('WARNING: --config is ignored with --builder: the builder uses the settings file given to tbuild serve --config\n');
  }
  const warn = (message: string): void => o.progress.emit({ type: 'warning', message, time: Date.now() });
  const node = await chooseNode(run.builder, { key: routingKeyOf(cmd, request.target), signal: o.signal, warn });
  const { remoteBuild } = await import('../remote/lazy.js');
  // A context from standard input or a URL is fetched into the client's temporary folder before it is sent.
  const result = await remoteBuild(request, node.connection, { signal: o.signal, progress: o.progress, env: io.env, tmp: io.env['TMPDIR'] || '/tmp' });
  return { result, builderRef: node.ref };
}

/** INFO_HELP is the text of `tbuild info --help`. */
export const INFO_HELP = `Usage: tbuild info [--builder NAME|ADDR] [--tlscacert F --tlscert F --tlskey F] [--token T] [--root DIR]

Show the version, platform and state folder of tbuild, or of a remote builder; embedded, also the platforms it can
build (its own and those binfmt_misc emulators run: see tbuild binfmt)
`;

/** infoCommand runs `tbuild info`, locally or against a builder. */
export async function infoCommand(args: readonly string[], io: CommandIO): Promise<number> {
  const { values: v } = parseCommandArgs('info', args, INFO_OPTIONS, { positionals: false });
  if (v.help === true) {
    io.stdout.write(INFO_HELP);
    return 0;
  }
  const spec = await localBuilder(v, io.env);
  if (spec !== undefined) {
    const { remoteInfo } = await import('../remote/lazy.js');
    const conn = (await connectionFor(spec, io)).connection;
    const i = await remoteInfo(conn);
    const platform = [i.platform?.os, i.platform?.architecture, i.platform?.variant].filter((p) => p !== undefined && p !== '').join('/');
    const lines = [
      `Builder:\t${conn.address}`, `Version:\t${i.version}`, `Platform:\t${platform}`, `Root:\t\t${i.root}`,
      `Addresses:\t${i.addresses.join(', ')}`, `Parallel:\t${i.maxParallelBuilds}`, `Running:\t${i.running}`, `Queued:\t\t${i.queued}`,
      `Uptime:\t\t${Math.round(i.uptimeMs / 1000)}s`, `Platforms:\t${i.platforms.join(', ')}`,
    ];
    io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  }
  const { buildablePlatforms, platformList } = await import('../controller/index.js');
  const { hostPlatform } = await import('../base/oci.js');
  const p = hostPlatform();
  const { readFile } = await import('node:fs/promises');
  const pkg: unknown = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
  const version = typeof pkg === 'object' && pkg !== null && 'version' in pkg ? String(pkg.version) : 'unknown';
  io.stdout.write(`Builder:\tembedded\nVersion:\t${version}\nPlatform:\t${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}\nRoot:\t\t${v.root ?? defaultRoot(io.env)}\n`);
  // What RUN steps can run for: this machine's platforms and those its binfmt_misc emulators add (tbuild binfmt).
  io.stdout.write(`Platforms:\t${platformList(await buildablePlatforms())}\n`);
  return 0;
}

/** connectionFor picks the server of a builder a command that is not a build talks to: the first that answers. */
export async function connectionFor(spec: BuilderSpec, io: CommandIO): Promise<NodeChoice> {
  return chooseNode(spec, { signal: AbortSignal.timeout(60_000), warn: stderrWarning(io.stderr) });
}
