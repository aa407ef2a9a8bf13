import { UsageError } from '../base/errors.js';
import type { ProgressSink } from '../base/progress.js';
import type { BuildRequest, BuildResult } from '../controller/index.js';
import type { BuilderConnection } from '../remote/index.js';
import type { BuildCommand } from './build-command.js';
import { defaultRoot, type CommandIO, type Environment } from './command-io.js';
import { parseCommandArgs } from './command-line.js';
import { INFO_OPTIONS } from './command-table.js';

/** connectionOf picks the builder from flags, then TBUILD_HOST and TBUILD_TOKEN; undefined means embedded. */
export function connectionOf(
  v: { builder?: string | undefined; tlscacert?: string | undefined; tlscert?: string | undefined; tlskey?: string | undefined; token?: string | undefined },
  env: Environment,
): BuilderConnection | undefined {
  const address = v.builder ?? env['TBUILD_HOST'];
  if (address === undefined || address === '') return undefined;
  return { address, tls: { ca: v.tlscacert, cert: v.tlscert, key: v.tlskey }, token: v.token ?? env['TBUILD_TOKEN'] };
}

/** runRemoteBuild runs `tbuild build --builder ...`: the same request, built by the server. */
export async function runRemoteBuild(cmd: BuildCommand, request: BuildRequest, io: CommandIO, o: { signal: AbortSignal; progress: ProgressSink }): Promise<BuildResult> {
  const conn = connectionOf({ builder: cmd.builder, tlscacert: cmd.tlsCaCert, tlscert: cmd.tlsCert, tlskey: cmd.tlsKey, token: cmd.token }, io.env);
  if (conn === undefined) throw new UsageError('Cannot build remotely without --builder or TBUILD_HOST');
  if (request.registryConfigPath !== undefined) {
    io.stderr.write('WARNING: --config is ignored with --builder: the builder uses the settings file given to tbuild serve --config\n');
  }
  const { remoteBuild } = await import('../remote/index.js');
  // A context from standard input or a URL is fetched into the client's temporary folder before it is sent.
  return remoteBuild(request, conn, { signal: o.signal, progress: o.progress, env: io.env, tmp: io.env['TMPDIR'] || '/tmp' });
}

/** INFO_HELP is the text of `tbuild info --help`. */
export const INFO_HELP = `Usage: tbuild info [--builder ADDR] [--tlscacert F --tlscert F --tlskey F] [--token T] [--root DIR]

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
  const conn = localConnection(v, io.env);
  if (conn !== undefined) {
    const { remoteInfo } = await import('../remote/index.js');
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

/**
 * localConnection is the builder a command that also works locally talks to: none when --root names a local state
 * folder (it wins over TBUILD_HOST), and --root with --builder is refused, as the builder has its own state folder.
 */
export function localConnection(
  v: { root?: string | undefined; builder?: string | undefined; tlscacert?: string | undefined; tlscert?: string | undefined; tlskey?: string | undefined; token?: string | undefined },
  env: Environment,
): BuilderConnection | undefined {
  if (v.root !== undefined && v.builder !== undefined) {
    throw new UsageError('Cannot use --root with --builder: the builder keeps its state in the folder tbuild serve --root names');
  }
  return v.root === undefined ? connectionOf(v, env) : undefined;
}
