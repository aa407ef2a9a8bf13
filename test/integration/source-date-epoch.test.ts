import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { run, runTbuild } from '../helpers/cli.js';

interface Config {
  created?: string;
  history: { created?: string; created_by?: string }[];
}

const EPOCH = '2001-09-09T01:46:40Z';

/**
 * Docker 20.10 (BuildKit v0.8) ignores SOURCE_DATE_EPOCH; current BuildKit's Dockerfile frontend dates every
 * history entry the build adds at the epoch and its exporter keeps the base image's entries as they are, even
 * those dated after the epoch (moby/buildkit#4614). The image's `created` is its newest entry's: the epoch.
 */
describe('SOURCE_DATE_EPOCH dates the history a build adds, end to end', () => {
  const env = useBuildEnvironment();

  async function context(name: string, dockerfile: string): Promise<string> {
    const dir = join(env.tmp.path, name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'Dockerfile'), dockerfile);
    return dir;
  }

  async function configOf(archive: string): Promise<Config> {
    const res = await run('skopeo', ['inspect', '--raw', '--config', `oci-archive:${archive}`]);
    expect(res.code, res.stderr).toBe(0);
    return JSON.parse(res.stdout) as Config;
  }

  const tbuild = (args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    runTbuild(['build', '--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'plain', ...args], { env: extraEnv });

  it('dates the entries the build adds at the epoch and keeps those of a base dated otherwise', async () => {
    // A base whose history carries two dates: busybox's (1970) and this build's own (now, after the epoch).
    const baseRef = `${env.registry.host}/library/dated:1`;
    const baseArchive = join(env.tmp.path, 'base.tar');
    const pushed = await tbuild(['-t', baseRef, '--push', '--output', `type=oci,dest=${baseArchive}`, await context('base', 'FROM busybox\nRUN echo base > /base\nCMD ["sh"]\n')]);
    expect(pushed.code, pushed.stderr).toBe(0);
    const base = await configOf(baseArchive);
    expect(new Set(base.history.map((h) => h.created)).size).toBe(2);

    const dir = await context('app', `FROM ${baseRef}\nRUN echo hi > /hi\nENV A=1\n`);
    const archive = join(env.tmp.path, 'app.tar');
    const built = await tbuild(['--build-arg', 'SOURCE_DATE_EPOCH=1000000000', '--output', `type=oci,dest=${archive}`, dir]);
    expect(built.code, built.stderr).toBe(0);
    const image = await configOf(archive);
    expect(image.history.map((h) => h.created)).toEqual([...base.history.map((h) => h.created), EPOCH, EPOCH]);
    expect(image.history.slice(-2).map((h) => h.created_by)).toEqual(['RUN /bin/sh -c echo hi > /hi # buildkit', 'ENV A=1']);
    expect(image.created).toBe(EPOCH);

    // The environment variable works as the build arg does (buildx passes it on the same way).
    const fromEnv = join(env.tmp.path, 'app-env.tar');
    const viaEnv = await tbuild(['--output', `type=oci,dest=${fromEnv}`, dir], { SOURCE_DATE_EPOCH: '1000000000' });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    expect(await configOf(fromEnv)).toEqual(image);
  });
});
