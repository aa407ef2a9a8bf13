import { lstat, mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readTarToMap } from '../compat/buildkit/fixtures.js';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { run, runTbuild } from '../helpers/cli.js';

interface Config {
  created?: string;
  history: { created?: string; created_by?: string }[];
}

const EPOCH = '2001-09-09T01:46:40Z';
const EPOCH_SECONDS = 1_000_000_000;

/** topLayer reads the last layer of an OCI archive's image: its annotations and each entry's mtime (seconds). */
async function topLayer(archive: string): Promise<{ annotations: Record<string, string> | undefined; mtimes: Map<string, number> }> {
  const files = await readTarToMap(archive);
  const blob = (digest: string): Buffer => files.get(`blobs/${digest.replace(':', '/')}`)?.data ?? Buffer.alloc(0);
  const index = JSON.parse(files.get('index.json')?.data.toString() ?? '{}') as { manifests: { digest: string }[] };
  const manifest = JSON.parse(blob(index.manifests[0]?.digest ?? '').toString()) as { layers: { digest: string; annotations?: Record<string, string> }[] };
  const top = manifest.layers.at(-1);
  const entries = await readTarToMap(gunzipSync(blob(top?.digest ?? '')));
  return { annotations: top?.annotations, mtimes: new Map([...entries].map(([name, m]) => [name, Math.floor((m.header.mtime?.getTime() ?? 0) / 1000)])) };
}

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

  it('leaves the layers\' file times as built unless rewrite-timestamp=true; tar and local outputs give every file the epoch', async () => {
    const dir = await context('times', 'FROM busybox\nCOPY old.txt /old.txt\nRUN echo hi > /hi\n');
    // A context file older than the epoch: rewrite-timestamp keeps its time, the tar and local outputs replace it.
    const OLD = EPOCH_SECONDS - 86_400;
    await writeFile(join(dir, 'old.txt'), 'old\n');
    await utimes(join(dir, 'old.txt'), OLD, OLD);
    const [plain, rewritten, rootfs, local] = [join(env.tmp.path, 'times.tar'), join(env.tmp.path, 'times-rewritten.tar'), join(env.tmp.path, 'times-rootfs.tar'), join(env.tmp.path, 'times-local')];
    const outputs = [`type=oci,dest=${plain}`, `type=oci,dest=${rewritten},rewrite-timestamp=true`, `type=tar,dest=${rootfs}`, `type=local,dest=${local}`];
    const built = await tbuild(['--build-arg', `SOURCE_DATE_EPOCH=${EPOCH_SECONDS}`, ...outputs.flatMap((o) => ['--output', o]), dir]);
    expect(built.code, built.stderr).toBe(0);

    // As in BuildKit, the epoch alone dates the image: /hi keeps the time the RUN wrote it.
    const asBuilt = await topLayer(plain);
    expect(asBuilt.annotations).toBeUndefined();
    expect(asBuilt.mtimes.get('hi')).toBeGreaterThan(EPOCH_SECONDS);
    const clamped = await topLayer(rewritten);
    expect(clamped.annotations).toEqual({ 'buildkit/rewritten-timestamp': String(EPOCH_SECONDS) });
    expect(clamped.mtimes.get('hi')).toBe(EPOCH_SECONDS);

    const tarTimes = new Set([...(await readTarToMap(rootfs))].map(([, m]) => Math.floor((m.header.mtime?.getTime() ?? 0) / 1000)));
    expect([...tarTimes]).toEqual([EPOCH_SECONDS]);
    for (const path of ['hi', 'old.txt', 'bin', 'bin/sh']) expect([path, (await lstat(join(local, path))).mtimeMs]).toEqual([path, EPOCH_SECONDS * 1000]);
  });
});
