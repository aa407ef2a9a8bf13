import type { ProgressSink } from '../base/progress.js';
import type { BuildRequest, BuildResult } from '../controller/index.js';
import { resolve } from 'node:path';
import { ConfigError, SnapshotError } from '../base/errors.js';
import type { BuilderConnection, BuilderSpec, InfoMsg } from '../remote/index.js';
import { buildOnNode, localBuilder, routingKeyOf, stderrWarning } from './builder-select.js';
import type { BuildCommand } from './build-command.js';
import { defaultRoot, settingsFileOf, type CommandIO, type Environment } from './command-io.js';
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
  const { remoteBuild } = await import('../remote/lazy.js');
  // A context from standard input or a URL is fetched into the client's temporary folder before it is sent.
  const tmp = io.env['TMPDIR'] || '/tmp';
  const key = routingKeyOf(cmd, request.target);
  const { result, ref } = await buildOnNode(run.builder, { key, signal: o.signal, warn }, (connection) =>
    remoteBuild(request, connection, { signal: o.signal, progress: o.progress, env: io.env, tmp, project: { routingKey: key, piped: cmd.context.kind === 'stdin' || cmd.dockerfile.kind === 'stdin' } }),
  );
  return { result, builderRef: ref };
}

/** INFO_HELP is the text of `tbuild info --help`. */
export const INFO_HELP = `Usage: tbuild info [--builder NAME|ADDR] [--tlscacert F --tlscert F --tlskey F] [--token T] [--root DIR] [--config FILE]

Show the version, platform and state folder of tbuild, or of a remote builder; embedded, also the platforms it can
build (its own and those binfmt_misc emulators run: see tbuild binfmt) and what mounts the overlays of RUN steps
(the settings file's [store] overlay: the kernel's overlayfs or fuse-overlayfs, and why)
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
    return forEachNode(spec, io, async (conn) => {
      const i = await remoteInfo(conn);
      const platform = [i.platform?.os, i.platform?.architecture, i.platform?.variant].filter((p) => p !== undefined && p !== '').join('/');
      const lines = [
        `Builder:\t${conn.address}`, `Version:\t${i.version}`, `Platform:\t${platform}`, `Root:\t\t${i.root}`,
        `Addresses:\t${i.addresses.join(', ')}`, `Parallel:\t${i.maxParallelBuilds}`, `Running:\t${i.running}`, `Queued:\t\t${i.queued}`,
        `Uptime:\t\t${Math.round(i.uptimeMs / 1000)}s`, `Platforms:\t${i.platforms.join(', ')}`,
        ...(i.tenant === '' ? [] : [`Tenant:\t\t${tenantText(i)}`]),
      ];
      return `${lines.join('\n')}\n`;
    });
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
  io.stdout.write(`Overlay:\t${await overlayText(v.root ?? defaultRoot(io.env), await settingsFileOf(io.env, v.config === undefined ? undefined : resolve(v.config)))}\n`);
  return 0;
}

/**
 * forEachNode runs a command that is not a build on every server of a builder and writes what each answers, under a
 * line naming the server when there are several. A server that fails is named in a warning and the others go on;
 * the status is 1 when one failed. A builder of one server fails with its error.
 */
export async function forEachNode(spec: BuilderSpec, io: CommandIO, run: (conn: BuilderConnection) => Promise<string>): Promise<number> {
  const { resolveNodes } = await import('../remote/lazy.js');
  const warn = stderrWarning(io.stderr);
  const { targets, failures } = await resolveNodes(spec);
  const only = targets[0];
  if (targets.length === 1 && failures.length === 0 && only !== undefined) {
    io.stdout.write(await run(only.connection));
    return 0;
  }
  for (const f of failures) warn(f.error.message);
  let status = failures.length === 0 ? 0 : 1;
  for (const t of targets) {
    try {
      const out = await run(t.connection);
      io.stdout.write(`Node ${t.node} (${t.connection.address}):\n${out}`);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      warn(err.message);
      status = 1;
    }
  }
  return status;
}

/** overlayText says which driver mounts the overlays of RUN steps and why, or why none can. */
async function overlayText(root: string, settingsFile: string | undefined): Promise<string> {
  const { overlayDriverOf } = await import('../controller/index.js');
  try {
    const decision = await overlayDriverOf(root, settingsFile);
    return `${decision.driver === 'kernel' ? 'kernel overlayfs' : 'fuse-overlayfs'} (${decision.reason})`;
  } catch (err) {
    if (!(err instanceof SnapshotError)) throw err;
    return `none: ${err.message}`;
  }
}

/** tenantText is the calling tenant of `tbuild info --builder`: its name, load and limits. */
function tenantText(i: InfoMsg): string {
  const limits = [...(i.tenantMaxBuilds === 0 ? [] : [`max-builds ${i.tenantMaxBuilds}`]), ...(i.tenantMaxQueued < 0 ? [] : [`max-queued ${i.tenantMaxQueued}`])];
  return `${i.tenant} (${i.tenantRunning} running, ${i.tenantQueued} queued${limits.length === 0 ? '' : `; ${limits.join(', ')}`})`;
}
