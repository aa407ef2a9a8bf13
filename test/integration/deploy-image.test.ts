import { copyFile, cp, mkdir, readdir, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeBases } from '../compat/bases.js';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { REPO_ROOT, run, runTbuild } from '../helpers/cli.js';

/**
 * deploy/Dockerfile, built by tbuild without network for node or npm: the node image is the suite's debian base with
 * this machine's node and npm at the official image's paths, npm installs from this machine's npm cache (a named
 * context) with --offline. Debian's packages come from Debian's mirror, as the Dockerfile's apt-get asks: the build
 * takes minutes on a loaded machine, hence the long timeout.
 */

const BUILD_TIMEOUT_MS = 1_500_000;

interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: { readonly os: string };
}

/** npmFiles finds this machine's npm (the package folder) and npm's cache folder, failing loudly without them. */
async function npmFiles(): Promise<{ npmDir: string; cacheDir: string }> {
  const which = await run('sh', ['-c', 'command -v npm']);
  expect(which.code, 'npm is on the PATH').toBe(0);
  const npmDir = dirname(dirname(await realpath(which.stdout.trim())));
  const cache = await run('npm', ['config', 'get', 'cache']);
  expect(cache.code, cache.stderr).toBe(0);
  const cacheDir = cache.stdout.trim();
  expect((await stat(join(cacheDir, '_cacache'))).isDirectory(), `npm's cache ${cacheDir}/_cacache (run npm ci in the repository once)`).toBe(true);
  return { npmDir, cacheDir };
}

/**
 * warmNpmCache makes sure npm's cache holds what `npm ci --offline` reads for this lock file (the packuments too,
 * which `npm install NAME` may leave out): an npm ci of the lock file in a folder of its own, from the cache where it
 * can, from the registry for what the cache lacks.
 */
async function warmNpmCache(dir: string): Promise<void> {
  await mkdir(dir);
  await copyFile(join(REPO_ROOT, 'package.json'), join(dir, 'package.json'));
  await copyFile(join(REPO_ROOT, 'package-lock.json'), join(dir, 'package-lock.json'));
  const res = await run('npm', ['ci', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir });
  expect(res.code, `npm ci of the lock file, to fill npm's cache: ${res.stderr}`).toBe(0);
}

describe('deploy/Dockerfile: tbuild\'s own image', () => {
  const env = useBuildEnvironment();

  async function registryJson<T>(path: string): Promise<T> {
    const res = await fetch(`${env.registry.url}/v2/${path}`, { headers: { accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json' } });
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  }

  it('builds offline from the repository, runs tbuild --version as uid 1000, and stays lean', async () => {
    const h = env.registry.host;
    await makeBases(h);
    const { npmDir, cacheDir } = await npmFiles();
    await warmNpmCache(join(env.tmp.path, 'npm-warm'));
    const common = ['--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'plain'];

    const nodeCtx = join(env.tmp.path, 'node-image');
    await mkdir(nodeCtx);
    await copyFile(process.execPath, join(nodeCtx, 'node'));
    await cp(npmDir, join(nodeCtx, 'npm'), { recursive: true, verbatimSymlinks: true });
    await writeFile(
      join(nodeCtx, 'Dockerfile'),
      'FROM debian:bookworm\nCOPY node /usr/local/bin/node\nCOPY npm /usr/local/lib/node_modules/npm\nRUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm\n',
    );
    const node = await runTbuild(['build', ...common, '-t', `${h}/test/node:20`, '--push', nodeCtx]);
    expect(node.code, node.stderr).toBe(0);

    const image = `${h}/test/tbuild:deploy`;
    const built = await runTbuild([
      'build', ...common, '-f', join(REPO_ROOT, 'deploy', 'Dockerfile'),
      '--build-arg', `NODE_IMAGE=${h}/test/node:20`, '--build-arg', 'NPM_FLAGS=--offline', '--build-context', `npm-cache=${cacheDir}`,
      '-t', image, '--push', REPO_ROOT,
    ]);
    expect(built.code, built.stderr.slice(-4000)).toBe(0);

    const index = await registryJson<{ manifests: readonly Descriptor[] }>('test/tbuild/manifests/deploy');
    const imageDesc = index.manifests.find((m) => m.platform?.os === 'linux');
    if (imageDesc === undefined) throw new Error(`no linux image in ${JSON.stringify(index)}`);
    const manifest = await registryJson<{ config: Descriptor; layers: readonly Descriptor[] }>(`test/tbuild/manifests/${imageDesc.digest}`);
    const config = await registryJson<{ config: { User?: string; Entrypoint?: string[]; Cmd?: string[]; ExposedPorts?: Record<string, unknown> } }>(`test/tbuild/blobs/${manifest.config.digest}`);
    expect(config.config.User).toBe('1000:1000');
    expect(config.config.Entrypoint).toEqual(['tbuild']);
    expect(config.config.Cmd).toEqual(['serve', '--addr', 'unix:///run/tbuild/tbuild.sock', '--health-addr', ':8376']);
    expect(Object.keys(config.config.ExposedPorts ?? {}).sort()).toEqual(['8375/tcp', '8376/tcp']);
    // Compressed, 147 MB when written: the debian base 51 MB, the runtime packages 45 MB (apt's caches left out), node
    // 37 MB, tbuild with its production packages 15 MB.
    const size = manifest.layers.reduce((n, l) => n + l.size, 0);
    expect(size).toBeLessThan(170 * 1024 * 1024);

    // tbuild's own sandbox runs the image: the user the image names, its tbuild, the launcher's link on the PATH; no
    // compiler and no development package (typescript) made it into the final stage.
    const runCtx = join(env.tmp.path, 'run-image');
    await mkdir(runCtx);
    await writeFile(
      join(runCtx, 'Dockerfile'),
      `FROM ${image}\nRUN (tbuild --version; id -u; readlink /usr/local/bin/tbuild; cat /etc/subuid; LC_ALL=C ls /opt/tbuild/native/build; command -v gcc || echo no-gcc; ls /opt/tbuild/node_modules/typescript 2>&1 || true) > /tmp/out\nFROM scratch\nCOPY --from=0 /tmp/out /out\n`,
    );
    const out = join(env.tmp.path, 'out');
    const ran = await runTbuild(['build', ...common, '-o', `type=local,dest=${out}`, runCtx]);
    expect(ran.code, ran.stderr).toBe(0);
    // The programs `make -C native` builds (helper, launcher, context watcher), not its generated C files.
    const programs = (await readdir(join(REPO_ROOT, 'native', 'build'))).filter((f) => !f.endsWith('.c')).sort();
    expect(programs).toContain('tbuild-sandbox');
    const { version } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect((await readFile(join(out, 'out'), 'utf8')).split('\n')).toEqual([
      `tbuild ${version}`, '1000', '/opt/tbuild/native/build/tbuild', 'tbuild:100000:65536', ...programs, 'no-gcc',
      "ls: cannot access '/opt/tbuild/node_modules/typescript': No such file or directory", '',
    ]);
  }, BUILD_TIMEOUT_MS);
});
