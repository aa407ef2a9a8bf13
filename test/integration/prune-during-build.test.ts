import { spawn } from 'node:child_process';
import { access, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, run, runTbuild, type CliResult } from '../helpers/cli.js';
import { useBuildEnvironment } from '../helpers/build-env.js';

/** started runs tbuild held at a pause point (TBUILD_TEST_PAUSE): `reached` resolves once it waits there. */
function started(args: readonly string[], point: string, folder: string): { readonly done: Promise<CliResult>; readonly reached: Promise<void>; release(): Promise<void> } {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'tbuild.js'), ...args], { env: { ...process.env, TBUILD_TEST_PAUSE: `${point}:${folder}` }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
  let exited = false;
  void done.then(() => (exited = true));
  const reached = (async () => {
    for (;;) {
      if (exited) throw new Error(`tbuild ${args[0] ?? ''} ended before reaching "${point}": ${stderr}`);
      try {
        await access(join(folder, 'reached'));
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      await delay(20);
    }
  })();
  return { done, reached, release: () => writeFile(join(folder, 'go'), '') };
}

describe('a prune of the whole store while a build runs in another process', () => {
  const env = useBuildEnvironment();
  const root = (): string => join(env.tmp.path, 'root');
  let ctx: string;

  beforeAll(async () => {
    ctx = join(env.tmp.path, 'ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo first > /first\nRUN cat /first > /second\n');
  });

  it('keeps what the build looked up and is about to use: the build succeeds and the store stays consistent', async () => {
    const warm = await runTbuild(['build', '--root', root(), '--config', env.config, '--progress', 'plain', '-o', `type=tar,dest=${join(env.tmp.path, 'warm.tar')}`, ctx]);
    expect(warm.code, warm.stderr).toBe(0);
    // The build that races the prune adds a step, which runs on the layers its first steps found in the cache.
    await appendDockerfile(ctx, 'RUN cat /second > /third\n');

    const pruneHold = join(env.tmp.path, 'prune-hold');
    const buildHold = join(env.tmp.path, 'build-hold');
    await mkdir(pruneHold);
    await mkdir(buildHold);
    // The prune has looked at the store and found no build running; it waits before removing anything.
    const pruning = started(['prune', '--root', root(), '--all', '--force'], 'prune-sweep', pruneHold);
    await pruning.reached;
    // A build starts meanwhile and finds the base image's layers in the store; it waits before using them.
    const out = join(env.tmp.path, 'raced.tar');
    const building = started(['build', '--root', root(), '--config', env.config, '--progress', 'plain', '-o', `type=tar,dest=${out}`, ctx], 'cache-hit', buildHold);
    await building.reached;
    await pruning.release();
    const pruned = await pruning.done;
    expect(pruned.code, pruned.stderr).toBe(0);
    await building.release();
    const built = await building.done;
    expect(built.code, built.stderr).toBe(0);

    const listing = await run('tar', ['-tf', out]);
    expect(listing.stdout.split('\n')).toEqual(expect.arrayContaining(['first', 'second', 'third', 'bin/busybox']));
    const checked = await runTbuild(['debug', 'check-store', '--root', root(), '--all-blobs']);
    expect([checked.code, checked.stdout]).toEqual([0, '']);
    // The build's lease went with it: nothing in the store is held any more, and a second prune leaves no layer behind.
    const again = await runTbuild(['prune', '--root', root(), '--all', '--force']);
    expect(again.code, again.stderr).toBe(0);
    expect(await readdir(join(root(), 'snapshots'))).toEqual([]);
  }, 180_000);

  it('reclaims the lease of a build killed while it held it, and what only that lease kept', async () => {
    const hold = join(env.tmp.path, 'killed-hold');
    await mkdir(hold);
    const warm = await runTbuild(['build', '--root', root(), '--config', env.config, '--progress', 'plain', ctx]);
    expect(warm.code, warm.stderr).toBe(0);
    await appendDockerfile(ctx, 'RUN echo killed > /killed\n');
    const building = started(['build', '--root', root(), '--config', env.config, '--progress', 'plain', ctx], 'cache-hit', hold);
    await building.reached;
    const pid = Number((await readFile(join(hold, 'reached'), 'utf8')).trim());
    process.kill(pid, 'SIGKILL');
    await building.done;
    const found = await runTbuild(['debug', 'check-store', '--root', root(), '--format', 'json']);
    expect(JSON.parse(found.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'stale-lease', detail: `lease of process ${pid}: process ${pid} is not running` })]));
    const pruned = await runTbuild(['prune', '--root', root(), '--all', '--force']);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(await readdir(join(root(), 'snapshots'))).toEqual([]);
    const after = await runTbuild(['debug', 'check-store', '--root', root(), '--format', 'json']);
    expect((JSON.parse(after.stdout) as { kind: string }[]).map((e) => e.kind)).not.toContain('stale-lease');
  }, 180_000);
});

async function appendDockerfile(ctx: string, line: string): Promise<void> {
  const path = join(ctx, 'Dockerfile');
  await writeFile(path, (await readFile(path, 'utf8')) + line);
}
