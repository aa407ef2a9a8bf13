/**
 * The three builders bench/compare.ts times on the shared cases: tbuild (its launcher and a resident builder of the
 * run's own; `node bin/launcher.js`, the launcher in JavaScript, and `node bin/tbuild.js` for the direct column), Docker's BuildKit (Debian's docker.io 20.10, as
 * ../shared/bench/peers/setup.sh starts it) and buildah (its own storage under the run's folder). Each resets to an
 * empty build cache with the case's base image local (cold), builds a case's context into its own image store, and
 * pushes an image to the loopback registry; each says its peak memory and removes what it made.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile, rm, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '..', '..');
export const LAUNCHER = join(REPO, 'native', 'build', 'tbuild');
export const ENTRY = join(REPO, 'bin', 'tbuild.js');
export const JS_LAUNCHER = join(REPO, 'bin', 'launcher.js');
const DOCKER = '/usr/bin/docker';
const DOCKER_ENV = { DOCKER_BUILDKIT: '1', DOCKER_API_VERSION: '1.41' };

/** Case is one laid-out benchmark case as the builders see it. */
export interface Case {
  readonly name: string;
  readonly context: string;
  /** base is the image the Dockerfile starts from, made local before a cold build. */
  readonly base: string;
  /** hostNetwork: RUN steps need the outside network (the Debian mirror), which dockerd 20.10 gives only this way. */
  readonly hostNetwork: boolean;
}

/** Builder is one image builder under test. */
export interface Builder {
  readonly name: string;
  /** reset empties the builder's cache for the case and makes its base image local (untimed). */
  reset(c: Case): Promise<void>;
  /** build builds the case into the builder's own image store, tagged `tag`. */
  build(c: Case, tag: string): Promise<void>;
  /** push pushes an image built as `tag` (a registry reference) to its registry. */
  push(c: Case, tag: string): Promise<void>;
  /** peak says the builder's peak memory, in MiB where it is a number. */
  peak(): Promise<string>;
  close(): Promise<void>;
}

let current: ChildProcess | undefined;
let stopping = false;

/** stopCurrent ends the command running now and fails every later one but those of the clean-up (on SIGINT/SIGTERM). */
export function stopCurrent(): void {
  stopping = true;
  current?.kill('SIGTERM');
}

/** cleaningUp lets commands run again: the clean-up's. */
export function cleaningUp(): void {
  stopping = false;
}

/** exec runs a command and fails with the end of its output when it exits non-zero. */
export function exec(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((ok, fail) => {
    if (stopping) {
      fail(new Error(`interrupted before ${cmd} ${args.join(' ')}`));
      return;
    }
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    current = child;
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-8000)));
    child.stderr.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-8000)));
    child.on('error', fail);
    child.on('close', (code) => {
      if (current === child) current = undefined;
      if (code === 0) ok(out);
      else fail(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out.slice(-4000)}`));
    });
  });
}

/** vmHwm is a process's peak resident set (VmHWM) in MiB, from /proc. */
export async function vmHwm(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`/proc/${pid}/status has no VmHWM`);
  return Number(kb) / 1024;
}

const mib = (n: number): string => n.toFixed(0);

/** tbuild through its launcher, served by a resident builder on a socket in the run's folder. */
export class Tbuild implements Builder {
  readonly name = 'tbuild';
  readonly #work: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #socket: string;
  #roots = new Map<string, string>();
  /** #first is the resident builder the run's first build started. */
  #first: number | undefined;
  #resets = 0;

  constructor(work: string) {
    this.#work = work;
    this.#socket = join(work, 'daemon', 'daemon.sock');
    // No idle exit: the peers' builds between two of tbuild's can outlast the default 10 minutes (hugecontext), and
    // the peak memory reported is that of one resident builder through the whole run.
    this.#env = { TBUILD_DAEMON: '1', TBUILD_DAEMON_SOCKET: this.#socket, TBUILD_DAEMON_IDLE: String(7 * 24 * 3600) };
  }

  #root(c: Case): string {
    const root = this.#roots.get(c.name);
    if (root === undefined) throw new Error(`tbuild has no state folder for ${c.name}: reset it first`);
    return root;
  }

  #args(c: Case, tag: string): string[] {
    return ['build', '--root', this.#root(c), '--progress', 'quiet', ...(c.hostNetwork ? ['--network', 'host'] : []), '-t', tag, c.context];
  }

  async reset(c: Case): Promise<void> {
    const old = this.#roots.get(c.name);
    if (old !== undefined) await rm(old, { recursive: true, force: true });
    const root = join(this.#work, `root-${c.name}-${this.#resets++}`);
    this.#roots.set(c.name, root);
    const primer = join(this.#work, `primer-${c.name}`);
    await mkdir(primer, { recursive: true });
    await writeFile(join(primer, 'Dockerfile'), `FROM ${c.base}\n`);
    await exec(LAUNCHER, ['build', '--root', root, '--progress', 'quiet', primer], this.#env);
    this.#first ??= await this.#startedPid();
  }

  /** #startedPid waits for the resident builder the first launcher run starts (it may answer that run itself). */
  async #startedPid(): Promise<number> {
    for (const deadline = Date.now() + 30_000; ; await new Promise((r) => setTimeout(r, 100))) {
      const pid = await this.#pid().catch((err: unknown) => {
        if (Date.now() > deadline) throw err;
        return undefined;
      });
      if (pid !== undefined) return pid;
    }
  }

  async build(c: Case, tag: string): Promise<void> {
    await exec(LAUNCHER, this.#args(c, tag), this.#env);
  }

  /** buildThroughJsLauncher builds as `node bin/launcher.js` (what an install without a C compiler runs): Node's start, then the resident builder. */
  async buildThroughJsLauncher(c: Case, tag: string): Promise<void> {
    await exec(process.execPath, [JS_LAUNCHER, ...this.#args(c, tag)], this.#env);
  }

  /** buildDirect builds as `node bin/tbuild.js`: Node's start and the bundle's loading in every build. */
  async buildDirect(c: Case, tag: string): Promise<void> {
    await exec(process.execPath, [ENTRY, ...this.#args(c, tag)]);
  }

  async push(c: Case, tag: string): Promise<void> {
    await exec(LAUNCHER, ['push', '--root', this.#root(c), '--progress', 'quiet', tag], this.#env);
  }

  /** #pid finds the resident builder serving this run's socket. */
  async #pid(): Promise<number> {
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') return '';
        throw err;
      });
      const args = cmdline.split('\0');
      if (args.includes('daemon') && args.includes(this.#socket)) return Number(entry);
    }
    throw new Error(`no resident builder serves ${this.#socket}`);
  }

  async peak(): Promise<string> {
    const pid = await this.#pid();
    // It restarts when the code on disk changes (npm run build during the run): then only the last one's peak is known.
    return `${mib(await vmHwm(pid))}${pid === this.#first ? '' : ' (of the resident builder that replaced the first during the run)'}`;
  }

  /** close stops the resident builder and waits for its exit, so that nothing holds the run's folder. */
  async close(): Promise<void> {
    const pid = await this.#pid().catch(() => undefined); // none: no build started it, or it has exited already
    await exec(process.execPath, [ENTRY, 'daemon', 'stop', '--socket', this.#socket]);
    for (const deadline = Date.now() + 30_000; pid !== undefined && Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      if (!(await readFile(`/proc/${pid}/cmdline`, 'utf8').then((c) => c.includes(this.#socket), () => false))) return;
    }
    if (pid !== undefined) throw new Error(`the resident builder (pid ${pid}) did not exit within 30 s of 'tbuild daemon stop'`);
  }
}

/** Docker's BuildKit inside dockerd 20.10, driven by Debian's 20.10 CLI. */
export class BuildKit implements Builder {
  readonly name = 'BuildKit';
  readonly #tags = new Set<string>();
  readonly #pid: number;
  readonly #startPeak: number;

  private constructor(pid: number, startPeak: number) {
    this.#pid = pid;
    this.#startPeak = startPeak;
  }

  /** open finds dockerd (its pid file) and notes its peak memory so far. */
  static async open(): Promise<BuildKit> {
    const pid = Number((await readFile('/var/run/docker.pid', 'utf8')).trim());
    return new BuildKit(pid, await vmHwm(pid));
  }

  #docker(...args: string[]): Promise<string> {
    return exec(DOCKER, args, DOCKER_ENV);
  }

  async reset(c: Case): Promise<void> {
    await this.#docker('image', 'inspect', c.base).catch(() => this.#docker('pull', '-q', c.base));
    for (const tag of this.#tags) await this.#docker('rmi', '-f', tag);
    this.#tags.clear();
    await this.#docker('builder', 'prune', '-af');
  }

  async build(c: Case, tag: string): Promise<void> {
    this.#tags.add(tag);
    await this.#docker('build', '-q', ...(c.hostNetwork ? ['--network=host'] : []), '-t', tag, c.context);
  }

  async push(_c: Case, tag: string): Promise<void> {
    await this.#docker('push', '-q', tag);
  }

  async peak(): Promise<string> {
    const now = await vmHwm(this.#pid);
    return `${mib(now)} (${mib(this.#startPeak)} at the start: VmHWM counts since dockerd started, so this run added ${mib(now - this.#startPeak)})`;
  }

  async close(): Promise<void> {
    for (const tag of this.#tags) await this.#docker('rmi', '-f', tag);
    await this.#docker('builder', 'prune', '-af');
  }
}

/** buildah with storage of its own per case under the run's folder; cache mounts go to its TMPDIR there too. */
export class Buildah implements Builder {
  readonly name = 'buildah';
  readonly #work: string;
  #peak = 0;

  constructor(work: string) {
    this.#work = work;
  }

  #dir(c: Case): string {
    return join(this.#work, `buildah-${c.name}`);
  }

  /** #buildah runs buildah on the case's storage under /usr/bin/time, keeping the largest peak RSS it reports. */
  async #buildah(c: Case, ...args: string[]): Promise<void> {
    const dir = this.#dir(c);
    const rss = join(dir, 'rss');
    const storage = ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--storage-driver', 'overlay'];
    await exec('/usr/bin/time', ['-f', '%M', '-o', rss, 'buildah', ...storage, ...args], { TMPDIR: join(dir, 'tmp') });
    this.#peak = Math.max(this.#peak, Number((await readFile(rss, 'utf8')).trim().split('\n').pop()) / 1024);
  }

  async reset(c: Case): Promise<void> {
    await this.#wipe(this.#dir(c));
    await mkdir(join(this.#dir(c), 'tmp'), { recursive: true });
    await this.#buildah(c, 'pull', '-q', c.base);
  }

  async build(c: Case, tag: string): Promise<void> {
    await this.#buildah(c, 'build', '--layers', '-q', ...(c.hostNetwork ? ['--network', 'host'] : []), '-t', tag, c.context);
  }

  async push(c: Case, tag: string): Promise<void> {
    await this.#buildah(c, 'push', '-q', '--tls-verify=false', tag);
  }

  async peak(): Promise<string> {
    return mib(this.#peak);
  }

  /** #wipe removes a storage folder, unmounting first whatever containers/storage left mounted in it. */
  async #wipe(dir: string): Promise<void> {
    const mounts = (await readFile('/proc/mounts', 'utf8')).split('\n').map((l) => l.split(' ')[1] ?? '');
    for (const m of mounts.filter((p) => p.startsWith(`${dir}/`)).reverse()) await exec('umount', ['-l', m]);
    await rm(dir, { recursive: true, force: true });
  }

  async close(): Promise<void> {
    for (const entry of await readdir(this.#work)) if (entry.startsWith('buildah-')) await this.#wipe(join(this.#work, entry));
  }
}
