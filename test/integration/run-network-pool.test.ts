import { mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createController, type BuildRequest, type Controller } from '../../controller/index.js';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { startCommand } from '../helpers/launcher.js';

// A controller keeps a pool of ready RUN networks (a namespace with slirp4netns running on it): a RUN takes one the
// pool started while the RUN before it ran, instead of starting its own. Nothing of the pool outlives the controller.

/** slirpOf lists the slirp4netns processes running on namespaces that the process `pid` holds. */
async function slirpOf(pid: number): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const args = (await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (args.some((a) => a.endsWith('slirp4netns')) && args.some((a) => a.startsWith(`/proc/${pid}/fd/`))) found.push(Number(name));
  }
  return found;
}

/** heldNamespaces lists the network namespaces this process holds open. */
async function heldNamespaces(): Promise<string[]> {
  const links = await Promise.all((await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return links.filter((l) => l.startsWith('net:'));
}

/** mountsUnder lists the mounts below a folder. */
async function mountsUnder(dir: string): Promise<string[]> {
  return (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.includes(dir));
}

function requestOf(dockerfile: string, config: string): BuildRequest {
  return { dockerfile: { name: 'Dockerfile', bytes: Buffer.from(dockerfile) }, context: { kind: 'none' }, outputs: [], registryConfigPath: config };
}

const noProgress = { emit: (): void => undefined };

describe('the pool of RUN networks', () => {
  const env = useBuildEnvironment();

  it('gives the second of two sequential RUNs a network started before it, and none outlives the controller', async () => {
    const root = join(env.tmp.path, 'root-sequential');
    let controller: Controller | undefined = await createController({ root, settingsFile: env.config });
    try {
      const built = controller.build(requestOf('FROM busybox\nRUN echo one > /one\nRUN echo two > /two\n', env.config), {
        signal: AbortSignal.timeout(120_000),
        progress: noProgress,
      });
      await built;
      // Both RUNs missed the cache before either ran: the pool started their networks ahead of them.
      expect(controller.info().networks).toMatchObject({ madeOnDemand: 0, taken: 2 });
      const failing = controller.build(requestOf('FROM busybox\nRUN echo three > /three\nRUN exit 3\n', env.config), {
        signal: AbortSignal.timeout(120_000),
        progress: noProgress,
      });
      await expect(failing).rejects.toThrow(/exit code: 3/);
      expect(controller.info().networks).toMatchObject({ madeOnDemand: 0, taken: 4 });
      // No network is made for a RUN that is not coming: none waits in the pool after the builds.
      expect(controller.info().networks).toMatchObject({ idle: 0, prepared: 4 });
      await controller.close();
      controller = undefined;
      expect(await slirpOf(process.pid)).toEqual([]);
      expect(await heldNamespaces()).toEqual([]);
      expect(await mountsUnder(root)).toEqual([]);
    } finally {
      await controller?.close();
    }
  });

  it('gives concurrent builds of one controller a network for each RUN, and none outlives the controller', async () => {
    const root = join(env.tmp.path, 'root-concurrent');
    const controller = await createController({ root, settingsFile: env.config, maxParallelBuilds: 2 });
    try {
      const builds = [1, 2].map((n) =>
        controller.build(requestOf(`FROM busybox\nRUN echo ${n}-a > /a && sleep 0.3\nRUN echo ${n}-b > /b\nRUN echo ${n}-c > /c\n`, env.config), {
          signal: AbortSignal.timeout(120_000),
          progress: noProgress,
        }),
      );
      await Promise.all(builds);
      const networks = controller.info().networks;
      // Every RUN had a network of its own: from the pool or, when the two builds emptied it, made on demand.
      expect((networks?.taken ?? 0) + (networks?.madeOnDemand ?? 0)).toBe(6);
      expect(networks?.taken).toBeGreaterThan(0);
    } finally {
      await controller.close();
    }
    expect(await slirpOf(process.pid)).toEqual([]);
    expect(await heldNamespaces()).toEqual([]);
    expect(await mountsUnder(root)).toEqual([]);
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('leaves no slirp4netns, namespace or mount behind after %s of an embedded CLI build', async (signal) => {
    const ctx = join(env.tmp.path, `ctx-${signal}`);
    const root = join(env.tmp.path, `root-${signal}`);
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo first\nRUN echo started-second && sleep 60\n');
    const cli = startCommand(process.execPath, [join(REPO_ROOT, 'bin', 'tbuild.js'), 'build', '--root', root, '--config', env.config, '--progress', 'plain', ctx], {
      cwd: env.tmp.path,
      env: process.env,
    });
    await cli.shown('started-second');
    expect(cli.pid).toBeDefined();
    const pid = cli.pid ?? 0;
    // The second RUN runs, on a network the pool started while the first ran.
    expect((await slirpOf(pid)).length).toBeGreaterThanOrEqual(1);
    cli.kill(signal);
    const done = await cli.done;
    expect(done.code, done.stderr).toBe(130);
    expect(await slirpOf(pid)).toEqual([]);
    expect(await mountsUnder(root)).toEqual([]);
  });
});
