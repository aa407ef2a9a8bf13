import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { copyBuiltTree, daemonPids, isAlive, liveDaemonPid, readDaemonLog, startCommand, waitFor, type RunningCommand } from '../helpers/launcher.js';

/** normalise drops what differs between two runs of one build: timings and resource use. */
function normalise(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => !/^#\d+ (memory peak|DONE)/.test(l))
    .map((l) => l.replace(/^(#\d+) \d+\.\d+ /, '$1 '))
    .join('\n');
}

describe('tbuild launcher: builds served by the resident builder', () => {
  const env = useBuildEnvironment();
  let tree: { launcher: string; entry: string };
  let socketDir: string;
  let root: string;

  const clientEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
    const { TBUILD_DAEMON: _ignored, ...rest } = process.env;
    return { ...rest, TBUILD_DAEMON_SOCKET: join(socketDir, 'daemon.sock'), TBUILD_NODE: process.execPath, ...extra };
  };
  const launch = (args: readonly string[], o: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): RunningCommand =>
    startCommand(tree.launcher, ['build', '--root', root, '--config', env.config, ...args], { cwd: o.cwd ?? env.tmp.path, env: clientEnv(o.env) });
  const context = async (name: string, dockerfile: string): Promise<string> => {
    const dir = join(env.tmp.path, name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'Dockerfile'), dockerfile);
    return dir;
  };
  const log = (): Promise<string> => readDaemonLog(socketDir);
  const served = async (): Promise<number> => (await log()).split('\n').filter((l) => l.includes('build served')).length;
  const socketExists = (): Promise<boolean> => stat(join(socketDir, 'daemon.sock')).then(() => true, () => false);
  /** liveDaemon returns the pid of the running resident builder, starting one with a build when there is none. */
  const liveDaemon = async (): Promise<number> => {
    const running = await liveDaemonPid(await log());
    if (running !== undefined) return running;
    const res = await launch(['--progress', 'quiet', await context('primer', 'FROM busybox\n')]).done;
    expect(res.code, res.stderr).toBe(0);
    await waitFor(async () => (await liveDaemonPid(await log())) !== undefined && (await socketExists()), 'a resident builder to start');
    return (await liveDaemonPid(await log())) ?? 0;
  };

  beforeAll(async () => {
    tree = await copyBuiltTree(join(env.tmp.path, 'tbuild'));
    socketDir = join(env.tmp.path, 'sock');
    root = join(env.tmp.path, 'root');
  });

  afterAll(async () => {
    if (socketDir === undefined) return;
    const pids = daemonPids(await log());
    for (const pid of pids) if (await isAlive(pid)) process.kill(pid, 'SIGTERM');
    await waitFor(async () => (await Promise.all(pids.map(isAlive))).every((alive) => !alive), 'resident builders to exit', 15_000);
  });

  it('runs the first build directly and starts a resident builder, which serves the next', async () => {
    const ctx = await context('hello', 'FROM busybox\nRUN echo hello > /hello\n');
    const first = await launch(['--progress', 'plain', ctx]).done;
    expect(first.code, first.stderr).toBe(0);
    await waitFor(async () => (await liveDaemonPid(await log())) !== undefined && (await socketExists()), 'a resident builder to start');
    expect(await served()).toBe(0);
    const second = await launch(['--progress', 'plain', ctx]).done;
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/#2 \[2\/2\] RUN echo hello > \/hello\n#2 CACHED/);
    expect(await served()).toBe(1);
    expect((await stat(join(socketDir, 'daemon.sock'))).mode & 0o777).toBe(0o600);
    expect((await stat(socketDir)).mode & 0o777).toBe(0o700);
  });

  it('gives a failing RUN the exit status and error text of a direct run', async () => {
    await liveDaemon();
    const ctx = await context('failing', `FROM busybox\nRUN echo oops-${randomBytes(4).toString('hex')} && exit 3\n`);
    const before = await served();
    const viaDaemon = await launch(['--progress', 'plain', ctx]).done;
    expect(await served()).toBe(before + 1);
    const direct = await launch(['--progress', 'plain', ctx], { env: { TBUILD_DAEMON: '0' } }).done;
    expect(await served()).toBe(before + 1);
    expect(direct.code).toBe(1);
    expect(viaDaemon.code).toBe(1);
    expect(viaDaemon.stderr).toContain('did not complete successfully: exit code: 3');
    expect(normalise(viaDaemon.stderr)).toBe(normalise(direct.stderr));
    expect(viaDaemon.stdout).toBe(direct.stdout);
  });

  it("resolves relative paths against the client's folder and reads secrets from the client's environment", async () => {
    await liveDaemon();
    const value = `s3cret-${randomBytes(4).toString('hex')}`;
    const ctx = await context('secret', `FROM busybox\nRUN --mount=type=secret,id=tok,required test "$(cat /run/secrets/tok)" = "${value}" && echo secret-seen\n`);
    const cwd = join(env.tmp.path, 'client-cwd');
    await mkdir(cwd, { recursive: true });
    const before = await served();
    const res = await launch(['--progress', 'plain', '--secret', 'id=tok,env=TOK_FROM_CLIENT', '-t', 'launcher-secret', '--iidfile', 'iid.txt', ctx], { cwd, env: { TOK_FROM_CLIENT: value } }).done;
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain('secret-seen');
    expect(await served()).toBe(before + 1);
    expect(await readFile(join(cwd, 'iid.txt'), 'utf8')).toMatch(/^sha256:[0-9a-f]{64}$/);
    const quiet = await launch(['--progress', 'quiet', '--secret', 'id=tok,env=TOK_FROM_CLIENT', '-t', 'launcher-secret', ctx], { cwd, env: { TOK_FROM_CLIENT: value } }).done;
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect(await served()).toBe(before + 2);
  });

  it("runs a build that names the client's stdio directly", async () => {
    await liveDaemon();
    const before = await served();
    const ctx = await context('stdio', 'FROM busybox\nRUN echo stdio\n');
    // /proc/self/… and /dev/std… name the launcher's own files, which the resident builder does not share.
    const res = await launch(['--progress', 'quiet', '-t', 'launcher-stdio', '--iidfile', '/proc/self/cwd/iid-stdio.txt', ctx]).done;
    expect(res.code, res.stderr).toBe(0);
    expect(await readFile(join(env.tmp.path, 'iid-stdio.txt'), 'utf8')).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await served()).toBe(before);
  });

  it('serves two builds at once, each with its own folder and environment', async () => {
    await liveDaemon();
    const tag = randomBytes(4).toString('hex');
    // Each RUN leaves its mark in a cache mount both share, then waits (at most 60 s) for the other's: neither can
    // finish unless the two run at the same time.
    const rendezvous = (me: string, other: string): string =>
      `FROM busybox\nRUN --mount=type=secret,id=who,env=WHO --mount=type=cache,id=meet-${tag},target=/meet ` +
      `touch /meet/${me} && i=0; until [ -e /meet/${other} ]; do i=$((i+1)); [ $i -lt 600 ] || exit 7; sleep 0.1; done; echo "met-$WHO-${me}"\n`;
    const cwdA = join(env.tmp.path, `cwd-a-${tag}`);
    const cwdB = join(env.tmp.path, `cwd-b-${tag}`);
    await Promise.all([mkdir(cwdA), mkdir(cwdB)]);
    const before = await served();
    const args = (name: string, dir: string): string[] => ['--progress', 'plain', '--secret', 'id=who,env=WHO_AM_I', '-t', name, '--iidfile', 'iid', dir];
    const a = launch(args(`meet-a-${tag}`, await context(`meet-a-${tag}`, rendezvous('a', 'b'))), { cwd: cwdA, env: { WHO_AM_I: 'alpha' } });
    const b = launch(args(`meet-b-${tag}`, await context(`meet-b-${tag}`, rendezvous('b', 'a'))), { cwd: cwdB, env: { WHO_AM_I: 'beta' } });
    const [doneA, doneB] = await Promise.all([a.done, b.done]);
    expect(doneA.code, doneA.stderr).toBe(0);
    expect(doneB.code, doneB.stderr).toBe(0);
    expect(doneA.stderr).toContain('met-alpha-a');
    expect(doneB.stderr).toContain('met-beta-b');
    // Both were served by the resident builder, each writing its image ID into its own folder.
    expect(await served()).toBe(before + 2);
    expect(await readFile(join(cwdA, 'iid'), 'utf8')).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await readFile(join(cwdB, 'iid'), 'utf8')).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('cancels a served build on SIGINT with status 130 and keeps serving', async () => {
    const pid = await liveDaemon();
    const marker = `cancel-${randomBytes(4).toString('hex')}`;
    const build = launch(['--progress', 'plain', await context('cancel', `FROM busybox\nRUN echo ${marker}-$((1+1)) && sleep 30\n`)]);
    await build.shown(`${marker}-2`);
    const sent = Date.now();
    build.kill('SIGINT');
    const done = await build.done;
    expect(done.code, done.stderr).toBe(130);
    expect(Date.now() - sent).toBeLessThan(5_000);
    expect(done.stderr).toContain('Build cancelled');
    expect(await log()).toContain('cancelled=true');
    const before = await served();
    const next = await launch(['--progress', 'quiet', await context('after-cancel', 'FROM busybox\nRUN echo after\n')]).done;
    expect(next.code, next.stderr).toBe(0);
    expect(await served()).toBe(before + 1);
    expect(daemonPids(await log()).at(-1)).toBe(pid);
  });

  it('answers stale and exits once the build output changes; the build runs directly and a new builder serves the next', async () => {
    const pid = await liveDaemon();
    await appendFile(join(env.tmp.path, 'tbuild', 'dist', 'bundle', 'main.cjs'), '\n');
    const before = await served();
    const res = await launch(['--progress', 'quiet', await context('stale', 'FROM busybox\nRUN echo stale\n')]).done;
    expect(res.code, res.stderr).toBe(0);
    expect(await served()).toBe(before);
    expect(await log()).toContain('stopping reason=stale');
    await waitFor(async () => !(await isAlive(pid)), 'the stale resident builder to exit', 10_000);
    // The launcher that got "stale" started a resident builder with the new code.
    await waitFor(async () => ((await liveDaemonPid(await log())) ?? pid) !== pid && (await socketExists()), 'a new resident builder');
    const next = await launch(['--progress', 'quiet', await context('after-stale', 'FROM busybox\nRUN echo after-stale\n')]).done;
    expect(next.code, next.stderr).toBe(0);
    expect(await served()).toBe(before + 1);
  });

  it('exits after the idle timeout and removes its socket', async () => {
    const sock = join(env.tmp.path, 'idle', 'daemon.sock');
    const daemon = startCommand(process.execPath, [tree.entry, 'daemon', '--socket', sock, '--idle', '1'], { cwd: env.tmp.path, env: clientEnv() });
    const res = await daemon.done;
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain('stopping reason=idle');
    await expect(stat(sock)).rejects.toThrow(/ENOENT/);
  });

  it("stops on 'tbuild daemon stop'", async () => {
    const pid = await liveDaemon();
    const stop = await startCommand(process.execPath, [tree.entry, 'daemon', 'stop', '--socket', join(socketDir, 'daemon.sock')], { cwd: env.tmp.path, env: clientEnv() }).done;
    expect(stop.code, stop.stderr).toBe(0);
    await waitFor(async () => !(await isAlive(pid)), 'the resident builder to exit', 10_000);
  });
});
