import { spawn } from 'node:child_process';
import { chmod, lstat, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { expect, it } from 'vitest';
import { useBuildEnvironment, type BuildEnvironment } from '../../helpers/build-env.js';
import { run, runTbuild, type CliResult } from '../../helpers/cli.js';
import { KNOWN_FAILURES } from './known-failures.js';

/** Entry is one item of a build context, as BuildKit's tests create them with fstest. */
export type Entry =
  | string
  | { readonly content: string | Buffer; readonly mode?: number }
  | { readonly dir: true; readonly mode?: number }
  | { readonly symlink: string }
  | { readonly socket: true };

/** file, dir, symlink and socket spell fstest.CreateFile, CreateDir, Symlink and CreateSocket. */
export const file = (content: string | Buffer, mode = 0o600): Entry => ({ content, mode });
export const dir = (mode = 0o755): Entry => ({ dir: true, mode });
export const link = (target: string): Entry => ({ symlink: target });
export const socket = (): Entry => ({ socket: true });

/** BuildOptions are the parts of BuildKit's SolveOpt the ported tests use. */
export interface BuildOptions {
  /** Context folder to reuse (from an earlier build or `context()`); else one is made from `files`. */
  readonly dir?: string;
  readonly files?: Record<string, Entry>;
  readonly buildArgs?: Record<string, string>;
  readonly target?: string;
  /** Dockerfile path relative to the context (`-f`), when not `Dockerfile`. */
  readonly file?: string;
  /** local: export the result's files (BuildKit's ExporterLocal); oci: export an OCI archive and read the image. */
  readonly output?: 'local' | 'oci' | 'none';
  /** Attributes of the oci output besides type and dest (BuildKit's ExportEntry.Attrs). */
  readonly outputAttrs?: Record<string, string>;
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Working folder of tbuild, and the context argument to pass instead of the context's path (e.g. `.`). */
  readonly cwd?: string;
  readonly contextArg?: string;
  /** Standard input of tbuild (a context read from `-`). */
  readonly input?: Buffer;
}

/** ImageConfig is the part of an OCI image config the ported tests read. */
export interface ImageConfig {
  readonly created?: string;
  readonly architecture?: string;
  readonly os?: string;
  readonly config: {
    readonly User?: string;
    readonly Env?: string[];
    readonly Cmd?: string[] | null;
    readonly Entrypoint?: string[] | null;
    readonly WorkingDir?: string;
    readonly Labels?: Record<string, string>;
    readonly ExposedPorts?: Record<string, object>;
    readonly Volumes?: Record<string, object>;
    readonly OnBuild?: string[] | null;
    readonly Shell?: string[];
  };
  readonly rootfs: { readonly diff_ids: string[] };
  readonly history?: { created_by?: string; empty_layer?: boolean; comment?: string }[];
}

/** BuildResult is one finished build: its exit, output and, when asked, its exported files or image. */
export interface BuildResult extends CliResult {
  /** The context folder the build read. */
  readonly dir: string;
  /** Folder of the type=local export. */
  readonly out: string;
  /** Path of the type=oci archive. */
  readonly archive: string;
  /** read returns an exported file's text (type=local). */
  read(path: string): Promise<string>;
  /** image returns the image config of the type=oci export. */
  image(): Promise<ImageConfig>;
}

let counter = 0;

/** writeEntries creates a build context's items under root. */
export async function writeEntries(root: string, files: Record<string, Entry>): Promise<void> {
  for (const [path, entry] of Object.entries(files)) {
    const target = join(root, path);
    await mkdir(dirname(target), { recursive: true });
    if (typeof entry === 'string') {
      await writeFile(target, entry, { mode: 0o600 });
    } else if ('content' in entry) {
      await writeFile(target, entry.content);
      await chmod(target, entry.mode ?? 0o600);
    } else if ('dir' in entry) {
      await mkdir(target, { recursive: true });
      await chmod(target, entry.mode ?? 0o755);
    } else if ('symlink' in entry) {
      await symlink(entry.symlink, target);
    } else {
      await makeSocket(target);
    }
  }
}

/** makeSocket leaves a unix socket file at path (bound by a process that exits, so the file stays). */
async function makeSocket(path: string): Promise<void> {
  const res = await run('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', path]);
  if (res.code !== 0) throw new Error(`cannot create socket ${path}: ${res.stderr}`);
  expect((await lstat(path)).isSocket()).toBe(true);
}

/** BuildkitSuite runs the ported cases of one BuildKit test file against one build environment. */
export interface BuildkitSuite {
  readonly env: BuildEnvironment;
  /** context writes a fresh context folder and returns its path. */
  context(files: Record<string, Entry>): Promise<string>;
  /** build runs `tbuild build` as BuildKit's test solves, and returns its result (it does not check the exit code). */
  build(options: BuildOptions): Promise<BuildResult>;
  /** succeeds builds files without exporting and asserts success: BuildKit tests whose RUN steps hold the checks. */
  succeeds(files: Record<string, Entry>, options?: BuildOptions): Promise<BuildResult>;
  /**
   * port declares the case for BuildKit's test function fn (of this suite's source file), optionally one of its
   * variants. A case named in known-failures.ts runs as `it.fails`.
   */
  port(fn: string, body: () => Promise<void>, variant?: string): void;
  /** tbuild runs another command (du, prune, rmi, images) on the store the suite's builds use. */
  tbuild(args: readonly string[]): Promise<CliResult>;
}

/** caseKey is how known-failures.ts names a case: `file testFunc` or `file testFunc / variant`. */
export function caseKey(source: string, fn: string, variant?: string): string {
  return variant === undefined ? `${source} ${fn}` : `${source} ${fn} / ${variant}`;
}

/** buildkitSuite prepares a loopback registry with busybox and a temp folder for the cases of BuildKit's source file. */
export function buildkitSuite(source: string): BuildkitSuite {
  const env = useBuildEnvironment();
  const context = async (files: Record<string, Entry>): Promise<string> => {
    const d = join(env.tmp.path, `ctx-${++counter}`);
    await mkdir(d, { recursive: true });
    await writeEntries(d, files);
    return d;
  };
  const root = (): string => join(env.tmp.path, 'root');
  const build = async (o: BuildOptions): Promise<BuildResult> => {
    const d = o.dir ?? (await context(o.files ?? {}));
    const n = ++counter;
    const out = join(env.tmp.path, `out-${n}`);
    const archive = join(env.tmp.path, `image-${n}.tar`);
    const args = ['build', '--root', root(), '--config', env.config, '--progress', 'plain'];
    for (const [k, v] of Object.entries(o.buildArgs ?? {})) args.push('--build-arg', `${k}=${v}`);
    if (o.target !== undefined) args.push('--target', o.target);
    if (o.file !== undefined) args.push('-f', join(d, o.file));
    const output = o.output ?? 'local';
    if (output === 'local') args.push('--output', `type=local,dest=${out}`);
    if (output === 'oci') args.push('--output', [`type=oci,dest=${archive}`, ...Object.entries(o.outputAttrs ?? {}).map(([k, v]) => `${k}=${v}`)].join(','));
    args.push(...(o.args ?? []), o.contextArg ?? d);
    const res = await runTbuild(args, {
      // BuildKit's tests build with buildctl, which attaches no default provenance to pushed images as buildx does.
      env: { BUILDX_NO_DEFAULT_ATTESTATIONS: '1', ...o.env },
      ...(o.cwd === undefined ? {} : { cwd: o.cwd }),
      ...(o.input === undefined ? {} : { input: o.input }),
    });
    return {
      ...res,
      dir: d,
      out,
      archive,
      read: (path) => readFile(join(out, path), 'utf8'),
      image: async () => {
        const inspect = await run('skopeo', ['inspect', '--raw', '--config', `oci-archive:${archive}`]);
        expect(inspect.code, inspect.stderr).toBe(0);
        return JSON.parse(inspect.stdout) as ImageConfig;
      },
    };
  };
  const port = (fn: string, body: () => Promise<void>, variant?: string): void => {
    const key = caseKey(source, fn, variant);
    const bug = KNOWN_FAILURES[key];
    const title = variant === undefined ? `${fn}` : `${fn} / ${variant}`;
    if (bug === undefined) it(title, body);
    else it.fails(`${title} [known failure: ${bug}]`, body);
  };
  const succeeds = async (files: Record<string, Entry>, options: BuildOptions = {}): Promise<BuildResult> => {
    const res = await build({ output: 'none', ...options, files });
    ok(res);
    return res;
  };
  const tbuild = (args: readonly string[]): Promise<CliResult> => runTbuild([...args, '--root', root()]);
  return { env, context, build, succeeds, port, tbuild };
}

/**
 * callJson runs `tbuild build --call NAME,format=json` on files (BuildKit's subrequest through its gateway client)
 * and reads the JSON result it prints.
 */
export async function callJson<T>(suite: BuildkitSuite, call: string, files: Record<string, Entry>, args: readonly string[] = []): Promise<T> {
  const res = await suite.build({ files, output: 'none', args: ['--call', `${call},format=json`, ...args] });
  ok(res);
  return JSON.parse(res.stdout) as T;
}

/**
 * expectSubrequest asks `--call subrequests.describe,format=json` (BuildKit's subrequests.Describe) and asserts the
 * list holds the request named, once, as an RPC with a version: the check of BuildKit's testXDescribeDefinition.
 */
export async function expectSubrequest(suite: BuildkitSuite, name: string): Promise<void> {
  const reqs = await callJson<{ name: string; type: string; version: string }[]>(suite, 'subrequests.describe', { Dockerfile: '\nFROM scratch\nCOPY Dockerfile Dockerfile\n' });
  expect(reqs.length).toBeGreaterThan(0);
  const found = reqs.filter((r) => r.name === name);
  expect(found.length).toBe(1);
  for (const req of found) {
    expect(req.type).toBe('rpc');
    expect(req.version).not.toBe('');
  }
}

/** ok asserts a build succeeded, showing the end of its output when it did not. */
export function ok(res: CliResult): void {
  const lines = res.stderr.split('\n');
  const printed = lines.filter((l) => /^#\d+ \d+\.\d+ /.test(l)).slice(-3);
  const error = lines.find((l) => l.startsWith('ERROR')) ?? '';
  expect(res.code, `build failed: ${[...printed, error.slice(0, 400)].join(' | ')}`).toBe(0);
}

/**
 * BUSYBOX_ACCOUNTS is a marked step for Dockerfiles whose assertions name users or groups: the test fixture's busybox
 * has only root, app and nobody/nogroup, while BuildKit's busybox image ships these accounts (daemon, wheel with
 * root as a member, group nobody for 65534...). The step writes BuildKit's busybox account files.
 */
export const BUSYBOX_ACCOUNTS = [
  '# tbuild-port: the fixture busybox lacks the accounts of BuildKit\'s busybox image',
  'RUN printf "%s\\n" root:x:0:0:root:/root:/bin/sh daemon:x:1:1:daemon:/usr/sbin:/bin/false bin:x:2:2:bin:/bin:/bin/false \\',
  '    sys:x:3:3:sys:/dev:/bin/false sync:x:4:100:sync:/bin:/bin/sync mail:x:8:8:mail:/var/spool/mail:/bin/false \\',
  '    www-data:x:33:33:www-data:/var/www:/bin/false operator:x:37:37:Operator:/var:/bin/false \\',
  '    nobody:x:65534:65534:nobody:/home:/bin/false > /etc/passwd \\',
  ' && printf "%s\\n" root:x:0: daemon:x:1: bin:x:2: sys:x:3: adm:x:4: tty:x:5: disk:x:6: lp:x:7: mem:x:8: kmem:x:9: \\',
  '    wheel:x:10:root cdrom:x:11: dialout:x:18: floppy:x:19: video:x:28: audio:x:29: tape:x:32: www-data:x:33: \\',
  '    operator:x:37: utmp:x:43: plugdev:x:46: staff:x:50: lock:x:54: netdev:x:82: users:x:100: nobody:x:65534: > /etc/group',
].join('\n');

/** fails asserts a build failed with an error containing text (BuildKit's require.ErrorContains). */
export function fails(res: CliResult, text: string): void {
  expect(res.code, res.stderr).not.toBe(0);
  expect(`${res.stdout}\n${res.stderr}`).toContain(text);
}

/** adduser is a marked step standing for `RUN adduser -D name`: the fixture's busybox has no adduser applet. */
export function adduser(name: string, id: number): string {
  return `RUN echo '${name}:x:${id}:${id}::/home/${name}:/bin/sh' >> /etc/passwd && echo '${name}:x:${id}:' >> /etc/group # tbuild-port: adduser -D ${name}`;
}
