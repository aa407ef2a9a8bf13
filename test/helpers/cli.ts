import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** REPO_ROOT is the repository checkout the tests run in. */
export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

/** CliResult is what one tbuild invocation printed and returned. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** runTbuild runs the built CLI (bin/tbuild.js) with arguments and collects its output. */
export function runTbuild(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string | Buffer } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'tbuild.js'), ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const output = collectOutput(child);
  child.stdin.end(options.input ?? '');
  return output;
}

/** collectOutput gathers what a spawned process (with piped stdout and stderr) printed, and its exit status. */
export function collectOutput(child: ChildProcessByStdio<Writable | null, Readable, Readable>): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
  });
}

/** run runs any command and collects its output; `env` adds to this process's environment. */
export function run(cmd: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
  });
}

/**
 * ownedRootfsOutput gives the output flags that give a test the built files with the image's owners: a tar output, which keeps
 * them (a local folder belongs to the user running the build, as BuildKit's does). unpackOwnedRootfs unpacks it.
 */
export function ownedRootfsOutput(dest: string): string[] {
  return ['--output', `type=tar,dest=${dest}.tar`];
}

/** unpackOwnedRootfs unpacks what ownedRootfsOutput(dest) wrote into the folder dest, keeping owners and modes. */
export async function unpackOwnedRootfs(dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  const r = await run('tar', ['--numeric-owner', '--same-owner', '-xpf', `${dest}.tar`, '-C', dest]);
  if (r.code !== 0) throw new Error(`Cannot unpack ${dest}.tar: ${r.stderr}`);
}

/** metadataDigest is the image digest (containerimage.digest) a build's --metadata-file names. */
export async function metadataDigest(file: string): Promise<string> {
  const meta = JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
  const digest = meta['containerimage.digest'];
  if (digest === undefined) throw new Error(`${file} names no image digest`);
  return digest;
}

/** TempDir is a temporary folder removed on dispose. */
export interface TempDir extends AsyncDisposable {
  readonly path: string;
}

/** makeTempDir creates a temporary folder for one test. */
export async function makeTempDir(prefix = 'tbuild-test-'): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

/** writeMirrorConfig writes a settings file that sends docker.io to a loopback registry. */
export async function writeMirrorConfig(dir: string, host: string): Promise<string> {
  const path = join(dir, 'tbuild.toml');
  await writeFile(path, `[registry."docker.io"]\nmirrors = ["${host}"]\n`);
  return path;
}
