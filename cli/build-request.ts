import { Writable, type Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { BuildEnvironment, BuildRequest, ContextSource, DockerfileSource, OutputSpec } from '../controller/index.js';
import { stat } from 'node:fs/promises';
import { errnoReason } from '../base/errno-reason.js';
import { OutputClosedError, UsageError, errnoCode } from '../base/errors.js';
import type { BuildCommand } from './build-command.js';
import { definedEnv, dockerConfigDir, type CommandIO } from './command-io.js';
import { gitInfo } from './git-info.js';
import { checkSecretFiles } from './session-flags.js';

/**
 * openBuildRequest turns a parsed command line into the controller's request, reading what it names in the command's
 * own process: the Dockerfile's bytes (from its file or standard input), the context source (a folder, standard input
 * or a URL), standard output for `-` outputs, and the environment values a build takes.
 */
export async function openBuildRequest(cmd: BuildCommand, io: CommandIO): Promise<BuildRequest> {
  if (cmd.context.kind === 'folder') await checkContextFolder(cmd.context.dir);
  await checkSecretFiles(cmd.request.secrets ?? []);
  return {
    ...cmd.request,
    ...(await gitAttributes(cmd, io)),
    dockerfile: await dockerfileOf(cmd, io.stdin),
    context: contextOf(cmd, io.stdin),
    outputs: cmd.request.outputs.map((o) => toStdout(o, io.stdout)),
    environment: environmentOf(io),
  };
}

/**
 * gitAttributes reads the git checkout of a context folder as buildx does: its commit information for the
 * provenance, and with BUILDX_GIT_LABELS its labels (over --label, as buildx sets them last).
 */
async function gitAttributes(cmd: BuildCommand, io: CommandIO): Promise<Pick<BuildRequest, 'vcs' | 'labels'>> {
  if (cmd.context.kind !== 'folder') return {};
  const namedDirs = (cmd.request.buildContexts ?? []).flatMap((c) => (c.type === 'local' ? [{ name: c.name, dir: c.path }] : []));
  const info = await gitInfo({
    contextDir: cmd.context.dir,
    dockerfile: cmd.dockerfile.kind === 'path' ? cmd.dockerfile.path : undefined,
    namedDirs,
    env: io.env,
  });
  if (info.warning !== undefined) io.stderr.write(`WARNING: current commit information was not captured by the build: ${info.warning}\n`);
  return {
    ...(Object.keys(info.vcs).length === 0 ? {} : { vcs: info.vcs }),
    ...(Object.keys(info.labels).length === 0 ? {} : { labels: { ...cmd.request.labels, ...info.labels } }),
  };
}

async function dockerfileOf(cmd: BuildCommand, stdin: Readable): Promise<DockerfileSource> {
  switch (cmd.dockerfile.kind) {
    case 'path': {
      const { readDockerfileSource } = await import('../controller/index.js');
      return readDockerfileSource(cmd.dockerfile.path);
    }
    case 'stdin':
      return { name: 'Dockerfile', bytes: await buffer(stdin) };
    case 'in-context':
      return { inContext: cmd.dockerfile.path };
  }
}

/** checkContextFolder makes sure a context folder is one before anything reads it (git, the Dockerfile, the files). */
async function checkContextFolder(dir: string): Promise<void> {
  const hint = 'name the folder holding the files COPY and ADD read, as in tbuild build -t NAME .';
  let info;
  try {
    info = await stat(dir);
  } catch (err) {
    const why = errnoCode(err) === 'ENOENT' ? 'no such folder' : errnoReason(err);
    if (why === undefined) throw err;
    throw new UsageError(`Cannot use "${dir}" as the build context: ${why}`, { hint, cause: err });
  }
  if (!info.isDirectory()) throw new UsageError(`Cannot use "${dir}" as the build context: it is a file, not a folder`, { hint });
}

function contextOf(cmd: BuildCommand, stdin: Readable): ContextSource {
  switch (cmd.context.kind) {
    case 'folder':
      return { kind: 'folder', dir: cmd.context.dir };
    case 'stdin':
      return { kind: 'archive', stream: stdin };
    case 'url':
      return { kind: 'url', url: cmd.context.url };
  }
}

/** toStdout points a `-` output at standard output, through a stream whose end leaves standard output open. */
function toStdout(output: OutputSpec, stdout: Writable): OutputSpec {
  if (output.type === 'image' || output.type === 'load' || output.type === 'local' || output.dest !== '-') return output;
  // A reader that stops early (tbuild build -o - . | head -c1) closes the pipe: standard output then emits EPIPE,
  // which the write's callback reports as well; the listener only keeps the event from ending the process.
  const onError = (): void => undefined;
  stdout.on('error', onError);
  const into = new Writable({
    // Each chunk is done once standard output took it: the archive is all written when the export ends.
    write: (chunk: Buffer, _encoding, callback) => void stdout.write(chunk, (err) => callback(err === undefined || err === null ? null : closedOrError(err))),
    destroy: (err, callback) => {
      stdout.off('error', onError);
      callback(err);
    },
    final: (callback) => {
      stdout.off('error', onError);
      callback();
    },
  });
  return { ...output, dest: into };
}

/** closedOrError names a closed pipe as such; other write errors stay as they are. */
function closedOrError(err: Error): Error {
  const code = errnoCode(err);
  if (code !== 'EPIPE' && code !== 'ERR_STREAM_DESTROYED') return err;
  return new OutputClosedError('Cannot write the output to standard output: its reader closed the pipe', { cause: err });
}

/** environmentOf picks what a build takes from the command's environment, as values. */
export function environmentOf(io: Pick<CommandIO, 'env' | 'umask'>): BuildEnvironment {
  const { env } = io;
  const value = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
  const sourceDateEpoch = env['SOURCE_DATE_EPOCH'];
  const sshAuthSock = value('SSH_AUTH_SOCK');
  const dockerHost = value('DOCKER_HOST');
  return {
    ...(sourceDateEpoch === undefined ? {} : { sourceDateEpoch }),
    ...(sshAuthSock === undefined ? {} : { sshAuthSock }),
    ...(dockerHost === undefined ? {} : { dockerHost }),
    dockerConfigDir: dockerConfigDir(env),
    umask: io.umask,
    processEnv: definedEnv(env),
  };
}
