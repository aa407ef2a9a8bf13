/**
 * tbuild as npm installs it: the package packed from this built tree, installed from a loopback npm registry (the
 * checkout's own node_modules, so nothing is downloaded) globally, globally on a PATH without a C compiler, and into a
 * project for npx. The `tbuild` command of the install runs the launcher that `npm install` built, whose resident
 * builder (found through the socket of the test's own) runs the installed package's code.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { access, constants, mkdir, readdir, readFile, realpath, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNpmRegistry, type NpmRegistry } from '../fixtures/npm-registry.js';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { REPO_ROOT, run, type CliResult } from '../helpers/cli.js';
import { daemonPids, isAlive, liveDaemonPid, readDaemonLog, startCommand, waitFor } from '../helpers/launcher.js';

const INSTALL_TIMEOUT_MS = 300_000;
/** What a PATH without a C compiler leaves out. */
const COMPILERS = /^(cc|c89|c99|c\+\+|cpp|gcc|g\+\+|make|gmake|tcc)$|gcc|g\+\+|clang|-cc$|-cpp/;

describe('tbuild installed with npm', () => {
  const env = useBuildEnvironment();
  let version: string;
  let registry: NpmRegistry | undefined;
  let tarball: string;
  const socketDirs: string[] = [];

  /**
   * childEnv is a clean environment: no npm settings of the command that runs the tests, no launcher switches, no
   * compiler or make settings (the install builds with the defaults, as a user's would).
   */
  const childEnv = (extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv => {
    const kept = Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && !k.startsWith('TBUILD_') && !/^(CC|CFLAGS|MAKEFLAGS|MFLAGS|MAKELEVEL)$/.test(k));
    return { ...Object.fromEntries(kept), XDG_CACHE_HOME: join(env.tmp.path, 'xdg-cache'), ...extra };
  };
  const exec = (file: string, args: readonly string[], o: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> =>
    startCommand(file, args, { cwd: o.cwd ?? env.tmp.path, env: childEnv(o.env ?? {}) }).done;
  /** npm runs npm with the test's registry, cache and (empty) settings files. */
  const npm = (args: readonly string[], o: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> => {
    return exec('npm', [...args, ...npmSettings(), '--registry', registry?.url ?? '', '--no-audit', '--no-fund', '--no-update-notifier'], o);
  };
  /** npmSettings are npm's cache and settings files of the test's own (empty: none of this machine's). */
  const npmSettings = (): string[] => {
    const rc = (name: string): string => join(env.tmp.path, name);
    return ['--cache', rc('npm-cache'), '--userconfig', rc('npmrc'), '--globalconfig', rc('npmrc-global')];
  };
  /** socketEnv gives each install a resident builder socket of its own, in the test's folder. */
  const socketEnv = async (name: string): Promise<{ dir: string; env: NodeJS.ProcessEnv }> => {
    const dir = join(env.tmp.path, `sock-${name}`);
    socketDirs.push(dir);
    return { dir, env: { TBUILD_DAEMON_SOCKET: join(dir, 'daemon.sock') } };
  };
  const context = async (text: string): Promise<string> => {
    const dir = join(env.tmp.path, `ctx-${randomBytes(4).toString('hex')}`);
    await mkdir(dir);
    await writeFile(join(dir, 'Dockerfile'), `FROM busybox\nRUN echo ${text} > /out.txt\n`);
    return dir;
  };
  const buildArgs = (ctx: string, extra: readonly string[] = []): string[] => [
    'build', '--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'plain', ...extra, '-o', `type=tar,dest=${ctx}.tar`, ctx,
  ];
  const builtFile = async (ctx: string): Promise<string> => (await run('tar', ['-xOf', `${ctx}.tar`, 'out.txt'])).stdout;
  const served = async (dir: string): Promise<number> => (await readDaemonLog(dir)).split('\n').filter((l) => l.includes('build served')).length;

  /**
   * buildsThroughResidentBuilder runs two builds with `command`: the first starts the resident builder, which must
   * run `entry` (the installed package's), and serves the second. It returns the builder's socket.
   */
  const buildsThroughResidentBuilder = async (
    command: readonly string[],
    entry: string,
    o: { cwd: string; name: string; env?: NodeJS.ProcessEnv; extra?: readonly string[] },
  ): Promise<{ dir: string; env: NodeJS.ProcessEnv }> => {
    const sock = await socketEnv(o.name);
    const [file = '', ...args] = command;
    const first = await context(`first-${o.name}`);
    const direct = await exec(file, [...args, ...buildArgs(first, o.extra)], { cwd: o.cwd, env: { ...o.env, ...sock.env } });
    expect(direct.code, direct.stderr).toBe(0);
    await waitFor(async () => (await liveDaemonPid(await readDaemonLog(sock.dir))) !== undefined, 'a resident builder to start');
    const pid = (await liveDaemonPid(await readDaemonLog(sock.dir))) ?? 0;
    expect((await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')).toContain(await realpath(entry));
    const second = await context(`second-${o.name}`);
    const viaDaemon = await exec(file, [...args, ...buildArgs(second, o.extra)], { cwd: o.cwd, env: { ...o.env, ...sock.env } });
    expect(viaDaemon.code, viaDaemon.stderr).toBe(0);
    expect(viaDaemon.stderr).toMatch(/#2 \[2\/2\] RUN echo second-\S+ > \/out.txt\n(?!#2 CACHED)/);
    expect(await served(sock.dir)).toBe(1);
    expect(await builtFile(second)).toBe(`second-${o.name}\n`);
    return sock;
  };

  beforeAll(async () => {
    version = (JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    registry = await startNpmRegistry(REPO_ROOT);
    await writeFile(join(env.tmp.path, 'npmrc'), '');
    await writeFile(join(env.tmp.path, 'npmrc-global'), '');
    const packed = await exec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', env.tmp.path], { cwd: REPO_ROOT });
    expect(packed.code, packed.stderr).toBe(0);
    const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
    tarball = join(env.tmp.path, filename);
  }, INSTALL_TIMEOUT_MS);

  afterAll(async () => {
    const pids = (await Promise.all(socketDirs.map(async (d) => daemonPids(await readDaemonLog(d))))).flat();
    for (const pid of pids) if (await isAlive(pid)) process.kill(pid, 'SIGTERM');
    await waitFor(async () => (await Promise.all(pids.map(isAlive))).every((alive) => !alive), 'resident builders to exit', 15_000);
    await registry?.[Symbol.asyncDispose]();
  });

  it('npm install -g builds the launcher, and the installed tbuild builds through its resident builder', async () => {
    const prefix = join(env.tmp.path, 'global');
    const installed = await npm(['install', '-g', '--prefix', prefix, tarball]);
    expect(installed.code, installed.stderr).toBe(0);
    const pkg = join(prefix, 'lib', 'node_modules', 'tbuild');
    await access(join(pkg, 'native', 'build', 'tbuild'), constants.X_OK);
    await access(join(pkg, 'native', 'build', 'tbuild-sandbox'), constants.X_OK);
    expect(await readFile(join(pkg, 'native', 'build', 'bundle.sha256'), 'utf8')).toBe(await readFile(join(pkg, 'dist', 'bundle', 'main.cjs.sha256'), 'utf8'));

    const tbuild = join(prefix, 'bin', 'tbuild');
    const shown = await exec(tbuild, ['--version']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toBe(`tbuild ${version}\n`);
    const sock = await buildsThroughResidentBuilder([tbuild], join(pkg, 'bin', 'tbuild.js'), { cwd: env.tmp.path, name: 'global' });

    // TBUILD_DAEMON=0: the launcher runs the build in a Node process of its own.
    const ctx = await context('direct');
    const direct = await exec(tbuild, buildArgs(ctx), { env: { ...sock.env, TBUILD_DAEMON: '0' } });
    expect(direct.code, direct.stderr).toBe(0);
    expect(await served(sock.dir)).toBe(1);
    expect(await builtFile(ctx)).toBe('direct\n');
  }, INSTALL_TIMEOUT_MS);

  it('without a C compiler, npm install says what it could not build, and builds go to the resident builder through Node', async () => {
    // A PATH of every program of this one but the compilers and make.
    const bin = join(env.tmp.path, 'no-compiler-bin');
    await mkdir(bin);
    const linked = new Set<string>();
    for (const dir of (process.env['PATH'] ?? '').split(':').filter((d) => d.startsWith('/') && existsSync(d))) {
      for (const name of (await readdir(dir)).filter((n) => !COMPILERS.test(n) && !linked.has(n))) {
        linked.add(name);
        await symlink(join(dir, name), join(bin, name));
      }
    }
    const path = { PATH: bin };
    expect((await exec('sh', ['-c', 'command -v cc || command -v make || echo none'], { env: path })).stdout).toBe('none\n');

    const prefix = join(env.tmp.path, 'global-no-cc');
    const installed = await npm(['install', '-g', '--prefix', prefix, '--foreground-scripts', tarball], { env: path });
    expect(installed.code, installed.stderr).toBe(0);
    expect(installed.stderr).toContain(
      'tbuild: the launcher, the sandbox helper, the context watcher not built (no C compiler (cc), no make): every tbuild command starts Node ' +
        "(a build then goes to the resident builder), RUN steps need --oci-runtime runc or crun; install a C compiler and make, then run 'npm rebuild tbuild' (-g for a global install)\n",
    );
    const pkg = join(prefix, 'lib', 'node_modules', 'tbuild');
    await expect(access(join(pkg, 'native', 'build'))).rejects.toThrow(/ENOENT/);

    const tbuild = join(prefix, 'bin', 'tbuild');
    const shown = await exec(tbuild, ['--version'], { env: path });
    expect(shown.stdout).toBe(`tbuild ${version}\n`);
    // bin/launcher.js starts the resident builder and hands it the next build, with RUN in runc.
    const sock = await buildsThroughResidentBuilder([tbuild], join(pkg, 'bin', 'tbuild.js'), { cwd: env.tmp.path, env: path, name: 'no-cc', extra: ['--oci-runtime', 'runc'] });
    // Without --oci-runtime, RUN says how to get the sandbox helper or to do without it.
    const ctx = await context('no-compiler');
    const failed = await exec(tbuild, buildArgs(ctx), { env: { ...path, ...sock.env } });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`Cannot find the sandbox helper ${join(await realpath(pkg), 'native', 'build', 'tbuild-sandbox')}: it is built from native/`);
    expect(failed.stderr).toContain('or run RUN steps with --oci-runtime runc or crun');
    expect(await served(sock.dir)).toBe(2);
    // TBUILD_DAEMON=0: bin/launcher.js runs the build in its own process, with the same answer.
    const direct = await exec(tbuild, buildArgs(ctx), { env: { ...path, ...sock.env, TBUILD_DAEMON: '0' } });
    expect([direct.code, direct.stderr.includes('Cannot find the sandbox helper')]).toEqual([1, true]);
    expect(await served(sock.dir)).toBe(2);
  }, INSTALL_TIMEOUT_MS);

  it('npx tbuild runs the launcher of a project\'s npm install', async () => {
    const app = join(env.tmp.path, 'app');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    const installed = await npm(['install', tarball], { cwd: app });
    expect(installed.code, installed.stderr).toBe(0);
    const shown = await npm(['exec', '--offline', '--', 'tbuild', '--version'], { cwd: app });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toBe(`tbuild ${version}\n`);
    await buildsThroughResidentBuilder(['npx', '--offline', ...npmSettings(), 'tbuild'], join(app, 'node_modules', 'tbuild', 'bin', 'tbuild.js'), { cwd: app, name: 'npx' });
  }, INSTALL_TIMEOUT_MS);
});
