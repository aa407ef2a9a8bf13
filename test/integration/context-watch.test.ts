import { readdirSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, readFile, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errnoCode } from '../../base/errors.js';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { copyBuiltTree, isAlive, startCommand, waitFor, type RunningCommand } from '../helpers/launcher.js';

/** watchers lists the tbuild-watch children of a process, with the folder each watches. */
function watchers(parent: number): string[] {
  const out: string[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent && argv[0]?.endsWith('/tbuild-watch') === true) out.push(argv[1] ?? '');
    } catch (err) {
      // The process ended while the list was read.
      if (errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'ESRCH') throw err;
    }
  }
  return out;
}

describe('context watch of the resident builder', () => {
  const env = useBuildEnvironment();
  let tree: { launcher: string; entry: string };
  let daemon: RunningCommand;
  let ctx: string;
  let build = 0;

  const clientEnv = (): NodeJS.ProcessEnv => {
    const { TBUILD_DAEMON: _ignored, ...rest } = process.env;
    return { ...rest, TBUILD_DAEMON_SOCKET: join(env.tmp.path, 'sock', 'daemon.sock'), TBUILD_NODE: process.execPath };
  };
  /** served builds the context through the launcher and returns the files of its image's /ctx, with their contents. */
  const served = async (): Promise<{ files: Record<string, string>; log: string }> => {
    const dest = join(env.tmp.path, `out-${build++}`);
    const args = ['build', '--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'plain', '-o', `type=local,dest=${dest}`, ctx];
    const res = await startCommand(tree.launcher, args, { cwd: env.tmp.path, env: clientEnv() }).done;
    expect(res.code, res.stderr).toBe(0);
    const files: Record<string, string> = {};
    const list = async (dir: string, rel: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const path = rel === '' ? e.name : `${rel}/${e.name}`;
        if (e.isDirectory()) await list(join(dir, e.name), path);
        else files[path] = e.isSymbolicLink() ? `-> ${await readlink(join(dir, e.name))}` : await readFile(join(dir, e.name), 'utf8');
      }
    };
    await list(join(dest, 'ctx'), '');
    return { files, log: res.stderr };
  };

  beforeAll(async () => {
    tree = await copyBuiltTree(join(env.tmp.path, 'tbuild'));
    ctx = join(env.tmp.path, 'ctx');
    await mkdir(join(ctx, 'src'), { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY . /ctx/\n');
    await writeFile(join(ctx, '.dockerignore'), 'secret.txt\n');
    await writeFile(join(ctx, 'secret.txt'), 'ignored\n');
    await writeFile(join(ctx, 'src', 'app.js'), 'one\n');
    daemon = startCommand(process.execPath, [tree.entry, 'daemon', '--socket', join(env.tmp.path, 'sock', 'daemon.sock')], { cwd: env.tmp.path, env: clientEnv() });
    await daemon.shown('resident builder started');
  });

  afterAll(async () => {
    const pid = daemon.pid;
    if (pid === undefined) return;
    daemon.kill('SIGTERM');
    await daemon.done;
    await waitFor(async () => !(await isAlive(pid)), 'the resident builder to exit', 10_000);
  });

  it('watches the context it built and sees each change in the next build', async () => {
    const first = await served();
    expect(first.files).toEqual({ '.dockerignore': 'secret.txt\n', Dockerfile: 'FROM busybox\nCOPY . /ctx/\n', 'src/app.js': 'one\n' });
    expect(watchers(daemon.pid ?? 0)).toEqual([ctx]);
    const warm = await served();
    expect(warm.files).toEqual(first.files);
    expect(warm.log).toMatch(/COPY \. \/ctx\/\n#\d+ CACHED/);
    await appendFile(join(ctx, 'src', 'app.js'), 'two\n');
    expect((await served()).files['src/app.js']).toBe('one\ntwo\n');
    // The .dockerignore is a context file, and what it keeps changes what the COPY reads.
    await writeFile(join(ctx, '.dockerignore'), 'src/\n');
    const ignored = await served();
    expect(ignored.files).toEqual({ '.dockerignore': 'src/\n', Dockerfile: 'FROM busybox\nCOPY . /ctx/\n', 'secret.txt': 'ignored\n' });
    await writeFile(join(ctx, '.dockerignore'), '');
    await mkdir(join(ctx, 'later', 'deep'), { recursive: true });
    await writeFile(join(ctx, 'later', 'deep', 'new.txt'), 'new\n');
    await symlink('../src/app.js', join(ctx, 'later', 'link'));
    expect((await served()).files).toMatchObject({ 'later/deep/new.txt': 'new\n', 'later/link': '-> ../src/app.js' });
    await rename(join(ctx, 'later'), join(ctx, 'moved'));
    await rm(join(ctx, 'secret.txt'));
    await writeFile(join(ctx, 'moved', 'deep', 'new.txt'), 'changed after the move\n');
    const moved = await served();
    expect(Object.keys(moved.files).sort()).toEqual(['.dockerignore', 'Dockerfile', 'moved/deep/new.txt', 'moved/link', 'src/app.js']);
    expect(moved.files['moved/deep/new.txt']).toBe('changed after the move\n');
  });
});
