import { join, resolve } from 'node:path';
import { UsageError } from '../base/errors.js';
import type { Platform } from '../base/oci.js';
import type { BuildRequest, OutputSpec, RunResources } from '../controller/index.js';
import { parseAnnotations, parseLabels, withAnnotations } from './image-flags.js';
import { parseOutput } from './output-spec.js';
import { parsePlatformFlag } from './platform-flag.js';
import { parseAttestations } from './attest-flags.js';
import { parseAddHost, parseShmSize, parseUlimit } from './run-flags.js';
import { parseCgroupParent, parseResources, RESOURCE_FLAGS, type ResourceKey } from './resource-flags.js';
import { parseBuildContext, parseCall, parsePrint, type CallFormat } from './inspect-flags.js';
import { parseCacheFrom, parseCacheTo } from './cache-spec.js';
import { takeBoolFlags } from './bool-flags.js';
import { parseOnError, type OnError } from './debug-flags.js';
import { checkImageNames } from './image-names.js';
import { metadataProvenanceMode } from './build-metadata.js';
import { parseAllow, parseNetwork, parseSecret, parseSsh } from './session-flags.js';
import type { Environment } from './command-io.js';
import { CONNECTION_OPTIONS, parseCommandArgs } from './command-line.js';

/** BUILD_HELP is the text of `tbuild build --help`. */
export const BUILD_HELP = `Usage: tbuild build [OPTIONS] PATH

Build an image from a Dockerfile

Options:
  -t, --tag NAME            Name and optionally a tag (name:tag); repeatable
  -f, --file PATH           Name of the Dockerfile (default: PATH/Dockerfile)
      --build-arg K=V       Set a build-time variable; repeatable
      --target STAGE        Set the target build stage to build
  -o, --output SPEC         Output destination (type=image|registry|oci|docker|local|tar,dest=...,name=...,
                            push=true|false,compression=gzip|zstd|uncompressed,compression-level=N,
                            oci-artifact=true|false, oci-mediatypes=true|false, attestation-referrers=true,
                            platform-split=true|false); repeatable
      --push                Shorthand for --output=type=registry
      --pull                Resolve base images in their registry again (default: use what the store knows)
      --load                Load the image into Docker (DOCKER_HOST or /var/run/docker.sock)
      --platform OS/ARCH    Set the target platform (default: the host's); several, comma-separated, make one
                            image index
      --no-cache            Do not use the cache when building
      --no-cache-filter S   Do not cache the given stage; repeatable
      --explain             Say under each step that ran why it did not come from the cache (as 'tbuild history
                            explain' says it, from the build history)
      --cache-from SPEC     Import build cache (type=registry,ref=REF | type=local,src=DIR | REF); repeatable
      --cache-to SPEC       Export build cache (type=registry,ref=REF | type=local,dest=DIR | type=inline,
                            mode=min|max, compression=gzip|zstd|uncompressed, image-manifest=true|false,
                            oci-mediatypes=true|false, ignore-error=true|false); repeatable
      --progress MODE       auto, tty, plain, rawjson (BuildKit's SolveStatus JSON), json (tbuild's events), quiet
                            or none (default: auto, or $BUILDKIT_PROGRESS)
  -q, --quiet               Print only the image ID (same as --progress quiet)
      --attest SPEC         Attach an attestation to pushed images and OCI archives: type=provenance[,mode=min|max,
                            builder-id=ID,reproducible=true,version=v0.2|v1] or type=sbom (tbuild reads the image's package
                            databases); type=TYPE,disabled=true turns one off; repeatable
      --provenance VALUE    Shorthand for --attest=type=provenance: true, false or mode=min|max. Pushed images get a
                            mode=min provenance by default unless BUILDX_NO_DEFAULT_ATTESTATIONS=1
      --sbom VALUE          Shorthand for --attest=type=sbom: true or false
      --label K=V           Set a label on the image; repeatable
      --annotation [T:]K=V  Add an annotation to the image manifest (T: manifest, index); repeatable
      --root DIR            State folder (default: $TBUILD_ROOT, /var/lib/tbuild as root)
      --config FILE         Settings file (default: /etc/tbuild/tbuild.toml as root)
      --oci-runtime NAME    Run RUN steps with runc or crun instead of tbuild's sandbox
      --no-process-sandbox  Run RUN steps in tbuild's own PID namespace, with its /proc, where a container masks
                            /proc (rootless only; RUN steps can then see and signal tbuild's processes)
      --iidfile FILE        Write the image ID to the file
      --metadata-file FILE  Write build result metadata to the file
      --builder NAME|ADDR   Build on a remote builder: a name (tbuild builder), unix:///PATH, tcp://HOST:PORT or
                            dns+tcp://NAME:PORT (default: $TBUILD_BUILDER, $TBUILD_HOST, then the builder in use)
      --tlscacert FILE      CA certificate that signed the builder's certificate
      --tlscert FILE        Client certificate for the builder (mutual TLS)
      --tlskey FILE         Client key for the builder
      --token TOKEN         Bearer token for the builder (default: $TBUILD_TOKEN)
      --secret SPEC         Secret for RUN --mount=type=secret: id=ID,src=FILE or id=ID,env=VAR; repeatable
      --ssh SPEC            SSH agent for RUN --mount=type=ssh: default, or ID=SOCKET|KEY[,KEY]; repeatable
      --allow ENTITLEMENT   Grant security.insecure or network.host; repeatable
      --network MODE        Network of RUN steps: default, none or host
      --add-host HOST:IP    Add a line to /etc/hosts of RUN steps; repeatable
      --shm-size SIZE       Size of /dev/shm in RUN steps (default: 64m)
      --ulimit NAME=S[:H]   Resource limit of RUN steps (e.g. nofile=1024:2048); repeatable
      --cgroup-parent PATH  Parent cgroup of RUN steps (a path from the cgroup root)
      --resource K=V        Cgroup limit of RUN steps: memory, memory-swap, cpu-shares, cpu-period, cpu-quota,
                            cpuset-cpus, cpuset-mems (e.g. memory=2g); repeatable. -m/--memory, --memory-swap,
                            -c/--cpu-shares, --cpu-period, --cpu-quota, --cpuset-cpus, --cpuset-mems set one each
      --build-context N=SRC Named context for FROM/COPY --from: a folder, docker-image://REF,
                            oci-layout://DIR[:TAG][@DIGEST], a git repository or an http(s) URL; repeatable
      --check               Run the build checks only and print their findings; exits 1 when there are any
      --call MODE           build (default), check, targets (list the stages) or outline (args, secrets);
                            MODE,format=json prints BuildKit's JSON answer; check,ignorestatus=true exits 0
                            with findings
      --print graph         Print the compiled build graph (graph or graph-json) instead of building
      --on-error shell      When a RUN fails, open an interactive shell in its container as the step left it
                            (files, environment, working folder, user, mounts, network), once the build's other
                            steps stopped; exiting it ends the build with the step's error. Needs a terminal
      --shell CMD           The command --on-error=shell runs: a program or a JSON array (default: /bin/sh)
      --debug               Print stack traces with errors
`;

/** ProgressMode is how build progress is shown. */
export type ProgressMode = 'auto' | 'tty' | 'plain' | 'rawjson' | 'json' | 'quiet' | 'none';

/** BuildFlags is the request a command line asks for, before its Dockerfile is read and its context opened. */
export type BuildFlags = Omit<BuildRequest, 'dockerfile' | 'context' | 'environment'>;

/** ContextArg is the context a command line names: a folder (absolute), standard input (`-`) or a URL (git or http). */
export type ContextArg = { readonly kind: 'folder'; readonly dir: string } | { readonly kind: 'stdin' } | { readonly kind: 'url'; readonly url: string };

/**
 * DockerfileArg is the Dockerfile a command line names: a file (absolute; default PATH/Dockerfile), standard input
 * (`-f -`), or, with a context from standard input or a URL, a path inside it (null for its Dockerfile).
 */
export type DockerfileArg = { readonly kind: 'path'; readonly path: string } | { readonly kind: 'stdin' } | { readonly kind: 'in-context'; readonly path: string | null };

/** CommandPlace is what parsing a command line reads of its process: the folder relative paths start from, and the environment. */
export interface CommandPlace {
  readonly cwd: string;
  readonly env: Environment;
}

/** BuildCommand is a parsed `tbuild build` command line. */
export interface BuildCommand {
  readonly request: BuildFlags;
  readonly context: ContextArg;
  readonly dockerfile: DockerfileArg;
  readonly progress: ProgressMode;
  readonly root: string | undefined;
  readonly iidfile: string | undefined;
  readonly metadataFile: string | undefined;
  readonly ociRuntime: 'runc' | 'crun' | undefined;
  /** --no-process-sandbox: RUN steps share tbuild's PID namespace and /proc. */
  readonly noProcessSandbox: boolean;
  readonly debug: boolean;
  readonly help: boolean;
  /** How `--call` prints its answer (`--call check,format=json`). */
  readonly callFormat: CallFormat;
  /** `--call check,ignorestatus=true`: findings do not make the exit status 1, as buildx ignores the result's status. */
  readonly callIgnoreStatus: boolean;
  /** --builder: a builder's address or name (TBUILD_BUILDER, TBUILD_HOST and `tbuild builder use` are read when the build starts). */
  readonly builder: string | undefined;
  readonly tlsCaCert: string | undefined;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  /** --token (TBUILD_TOKEN is read when the build starts). */
  readonly token: string | undefined;
  /** `--on-error=shell`: a shell in the container of a RUN that fails (`--shell` names its command). */
  readonly onError: OnError | undefined;
}

/** REMOTE_CONTEXT tells a context at a URL (git or http) from a folder, as docker build does. */
const REMOTE_CONTEXT = /^(https?:\/\/|git:\/\/|ssh:\/\/|git@|github\.com\/)/i;

/** BUILD_OPTIONS are the options of `tbuild build`, as node:util parseArgs reads them. */
export const BUILD_OPTIONS = {
  tag: { type: 'string', short: 't', multiple: true },
  file: { type: 'string', short: 'f' },
  'build-arg': { type: 'string', multiple: true },
  target: { type: 'string' },
  output: { type: 'string', short: 'o', multiple: true },
  push: { type: 'boolean' },
  pull: { type: 'boolean' },
  load: { type: 'boolean' },
  platform: { type: 'string', multiple: true },
  'no-cache': { type: 'boolean' },
  'no-cache-filter': { type: 'string', multiple: true },
  explain: { type: 'boolean' },
  'cache-from': { type: 'string', multiple: true },
  'cache-to': { type: 'string', multiple: true },
  progress: { type: 'string' },
  root: { type: 'string' },
  config: { type: 'string' },
  'oci-runtime': { type: 'string' },
  'no-process-sandbox': { type: 'boolean' },
  iidfile: { type: 'string' },
  'metadata-file': { type: 'string' },
  debug: { type: 'boolean' },
  'build-context': { type: 'string', multiple: true },
  check: { type: 'boolean' },
  print: { type: 'string' },
  call: { type: 'string' },
  secret: { type: 'string', multiple: true },
  ssh: { type: 'string', multiple: true },
  allow: { type: 'string', multiple: true },
  network: { type: 'string' },
  label: { type: 'string', multiple: true },
  annotation: { type: 'string', multiple: true },
  attest: { type: 'string', multiple: true },
  provenance: { type: 'string' },
  sbom: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  'add-host': { type: 'string', multiple: true },
  'shm-size': { type: 'string' },
  ulimit: { type: 'string', multiple: true },
  'cgroup-parent': { type: 'string' },
  resource: { type: 'string', multiple: true },
  memory: { type: 'string', short: 'm' },
  'memory-swap': { type: 'string' },
  'cpu-shares': { type: 'string', short: 'c' },
  'cpu-period': { type: 'string' },
  'cpu-quota': { type: 'string' },
  'cpuset-cpus': { type: 'string' },
  'cpuset-mems': { type: 'string' },
  'on-error': { type: 'string' },
  shell: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  ...CONNECTION_OPTIONS,
} as const;

/** PROGRESS_MODES are the --progress values. */
export const PROGRESS_MODES: readonly ProgressMode[] = ['auto', 'tty', 'plain', 'rawjson', 'json', 'quiet', 'none'];

/** parseBuildCommand reads the arguments after `tbuild build`; relative paths start from `place.cwd`. */
export function parseBuildCommand(args: readonly string[], place: CommandPlace): BuildCommand {
  const { cwd, env } = place;
  // Boolean flags take Go boolean values (`--push=false`), which parseArgs refuses: they are read first.
  const bools = takeBoolFlags(args, BUILD_OPTIONS);
  const parsed = parseCommandArgs('build', bools.args, BUILD_OPTIONS);
  const v = parsed.values;
  const flag = (name: 'push' | 'pull' | 'load' | 'no-cache' | 'explain' | 'quiet' | 'check' | 'debug' | 'help' | 'no-process-sandbox'): boolean => bools.values.get(name) ?? v[name] === true;
  const help = flag('help');
  const context = parsed.positionals[0];
  if (!help && (context === undefined || parsed.positionals.length > 1)) {
    throw new UsageError('Cannot build: expected exactly one context PATH', { hint: 'tbuild build [OPTIONS] PATH' });
  }
  if (flag('quiet') && v.progress !== undefined && v.progress !== 'quiet') throw new UsageError(`Cannot use --quiet with --progress=${v.progress}`);
  // As buildx, BUILDKIT_PROGRESS picks the mode of an auto display.
  const chosen = flag('quiet') ? 'quiet' : (v.progress ?? 'auto');
  const progress = chosen === 'auto' && env['BUILDKIT_PROGRESS'] ? env['BUILDKIT_PROGRESS'] : chosen;
  if (!PROGRESS_MODES.some((m) => m === progress)) {
    throw new UsageError(`Cannot use ${progress === chosen ? '--progress' : 'BUILDKIT_PROGRESS'}=${progress}: expected ${PROGRESS_MODES.join(', ')}`);
  }
  const runtime = v['oci-runtime'];
  if (runtime !== undefined && runtime !== 'runc' && runtime !== 'crun') throw new UsageError(`Cannot use --oci-runtime=${runtime}: expected runc or crun`);
  const stdinContext = context === '-';
  const urlContext = context !== undefined && REMOTE_CONTEXT.test(context);
  const stdinDockerfile = v.file === '-';
  if (stdinContext && stdinDockerfile) throw new UsageError('Cannot read both the context and the Dockerfile from standard input');
  if (urlContext && stdinDockerfile) throw new UsageError('Cannot read the Dockerfile from standard input with a context at a URL');
  const contextArg: ContextArg = stdinContext ? { kind: 'stdin' } : urlContext ? { kind: 'url', url: context } : { kind: 'folder', dir: resolve(cwd, context ?? '.') };
  const dockerfileArg: DockerfileArg =
    stdinDockerfile ? { kind: 'stdin' }
    : contextArg.kind !== 'folder' ? { kind: 'in-context', path: v.file ?? null }
    : { kind: 'path', path: v.file === undefined ? join(contextArg.dir, 'Dockerfile') : resolve(cwd, v.file) };
  const tags = v.tag ?? [];
  const call = v.call === undefined ? undefined : parseCall(v.call);
  const request: BuildFlags = {
    buildArgs: parseBuildArgs(v['build-arg'] ?? [], env),
    ...(v.target === undefined ? {} : { target: v.target }),
    ...(v.platform === undefined ? {} : platformsOf(v.platform)),
    outputs: withAnnotations(outputsFor(v.output ?? [], tags, flag('push'), flag('load')), parseAnnotations(v.annotation ?? [])).map((o) => inFolder(o, cwd)),
    ...(v.label === undefined ? {} : { labels: parseLabels(v.label) }),
    attestations: parseAttestations({ attest: v.attest ?? [], provenance: v.provenance, sbom: v.sbom }, env),
    ...(v['add-host'] === undefined ? {} : { extraHosts: v['add-host'].map(parseAddHost) }),
    ...(v['shm-size'] === undefined ? {} : { shmSizeBytes: parseShmSize(v['shm-size']) }),
    ...(v.ulimit === undefined ? {} : { ulimits: v.ulimit.map(parseUlimit) }),
    ...(v['cgroup-parent'] === undefined ? {} : { cgroupParent: parseCgroupParent(v['cgroup-parent']) }),
    ...resourcesOf(v),
    noCache: flag('no-cache'),
    pull: flag('pull'),
    noCacheFilter: v['no-cache-filter'] ?? [],
    ...(flag('explain') ? { explain: true } : {}),
    cacheFrom: (v['cache-from'] ?? []).map((c) => parseCacheFrom(c, cwd)),
    cacheTo: (v['cache-to'] ?? []).map((c) => parseCacheTo(c, cwd)),
    ...(v.config === undefined ? {} : { registryConfigPath: resolve(cwd, v.config) }),
    ...(v.secret === undefined ? {} : { secrets: v.secret.flatMap((text) => parseSecret(text, place) ?? []) }),
    ...(v.ssh === undefined ? {} : { ssh: v.ssh.map((text) => parseSsh(text, cwd)) }),
    ...(v.allow === undefined ? {} : { allow: v.allow.map(parseAllow) }),
    ...(v.network === undefined ? {} : { network: parseNetwork(v.network) }),
    ...(v['build-context'] === undefined ? {} : { buildContexts: v['build-context'].map((c) => parseBuildContext(c, cwd)) }),
    ...(flag('check') ? { check: true } : {}),
    ...(v.print === undefined ? {} : { print: parsePrint(v.print) }),
    ...call?.request,
    ...metadataProvenanceOf(env, v['metadata-file']),
  };
  checkImageNames(tags, request.outputs);
  if (v.iidfile !== undefined && request.outputs.some((o) => o.type === 'local' || o.type === 'tar')) {
    throw new UsageError('Cannot use --iidfile: local and tar exporters are incompatible with image ID file', { hint: 'as in buildx, --iidfile goes with image outputs' });
  }
  return {
    request,
    context: contextArg,
    dockerfile: dockerfileArg,
    progress: PROGRESS_MODES.find((m) => m === progress) ?? 'auto',
    root: v.root === undefined ? undefined : resolve(cwd, v.root),
    iidfile: v.iidfile === undefined ? undefined : resolve(cwd, v.iidfile),
    metadataFile: v['metadata-file'] === undefined ? undefined : resolve(cwd, v['metadata-file']),
    ociRuntime: runtime,
    noProcessSandbox: flag('no-process-sandbox'),
    debug: flag('debug'),
    callFormat: call?.format ?? 'text',
    callIgnoreStatus: call?.ignoreStatus ?? false,
    help,
    builder: v.builder,
    tlsCaCert: v.tlscacert === undefined ? undefined : resolve(cwd, v.tlscacert),
    tlsCert: v.tlscert === undefined ? undefined : resolve(cwd, v.tlscert),
    tlsKey: v.tlskey === undefined ? undefined : resolve(cwd, v.tlskey),
    token: v.token,
    onError: parseOnError(v['on-error'], v.shell),
  };
}

/** resourcesOf reads the cgroup limits: buildx's per-resource flags first, then `--resource` entries, which win. */
function resourcesOf(v: { readonly [K in ResourceKey]?: string | undefined } & { readonly resource?: readonly string[] | undefined }): { resources?: RunResources } {
  const legacy = Object.values(RESOURCE_FLAGS).flatMap((key) => {
    const value = v[key];
    return value === undefined ? [] : [`${key}=${value}`];
  });
  const resources = parseResources([...legacy, ...(v.resource ?? [])]);
  return resources === undefined ? {} : { resources };
}

/** metadataProvenanceOf asks for the build's provenance when a metadata file will hold it (BUILDX_METADATA_PROVENANCE). */
function metadataProvenanceOf(env: Environment, metadataFile: string | undefined): { metadataProvenance?: 'min' | 'max' } {
  const mode = metadataProvenanceMode(env, metadataFile);
  return mode === undefined ? {} : { metadataProvenance: mode };
}

/** inFolder makes an output's file or folder absolute from the command's folder; `-` (standard output) stays. */
function inFolder(output: OutputSpec, cwd: string): OutputSpec {
  if (!('dest' in output) || typeof output.dest !== 'string' || output.dest === '-') return output;
  return { ...output, dest: resolve(cwd, output.dest) };
}

function parseBuildArgs(values: readonly string[], env: Environment): Map<string, string> {
  const out = new Map<string, string>();
  for (const kv of values) {
    const eq = kv.indexOf('=');
    if (eq === 0) throw new UsageError(`Cannot use --build-arg "${kv}": expected KEY=VALUE`);
    // As docker does, `--build-arg KEY` takes the value from the environment.
    if (eq < 0) {
      const fromEnv = env[kv];
      if (fromEnv !== undefined) out.set(kv, fromEnv);
    } else out.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  return out;
}

/** platformsOf reads `--platform a[,b…]`: one platform, or several built together into one image index. */
function platformsOf(values: readonly string[]): { platform: Platform } | { platforms: Platform[] } {
  const unique = parsePlatformFlag(values);
  const [first] = unique;
  if (first === undefined) throw new UsageError(`Cannot use --platform=${values.join(',')}: expected OS/ARCH[/VARIANT]`);
  return unique.length === 1 ? { platform: first } : { platforms: unique };
}

function outputsFor(values: readonly string[], tags: readonly string[], push: boolean, load: boolean): OutputSpec[] {
  const outputs = values.map((o) => parseOutput(o, tags));
  if (load) outputs.push({ type: 'load', names: tags, image: { compression: 'gzip', forceCompression: false } });
  if (!outputs.some((o) => o.type === 'image') && (tags.length > 0 || push) && (values.length === 0 || push)) {
    outputs.push({ type: 'image', names: tags, push, image: { compression: 'gzip', forceCompression: false } });
  } else if (push) {
    const i = outputs.findIndex((o) => o.type === 'image');
    const o = outputs[i];
    if (o === undefined || o.type !== 'image') throw new UsageError('Cannot use --push with outputs that are not images');
    outputs[i] = { ...o, push: true };
  }
  return outputs;
}
