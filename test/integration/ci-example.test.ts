import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_CREDENTIALS, startRegistry, type TestRegistry } from '../fixtures/registry.js';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { REPO_ROOT, run, type CliResult } from '../helpers/cli.js';

/** runScript runs examples/ci/build-push.sh unchanged, with its inputs in the environment, as a CI job step would. */
function runScript(env: NodeJS.ProcessEnv): Promise<CliResult> {
  return run('sh', [join(REPO_ROOT, 'examples', 'ci', 'build-push.sh')], { ...(env['WORKDIR'] === undefined ? {} : { cwd: env['WORKDIR'] }), env });
}

describe('examples/ci/build-push.sh', () => {
  const env = useBuildEnvironment();
  let secure: TestRegistry | undefined;
  const registry = (): TestRegistry => {
    if (secure === undefined) throw new Error('The registry with authentication is not started');
    return secure;
  };

  beforeAll(async () => {
    secure = await startRegistry({ htpasswd: true, tls: true });
  });
  afterAll(async () => {
    await secure?.stop();
  });

  it('logs in, builds with the registry cache, pushes every tag, writes the metadata and logs out', async () => {
    const host = registry().host;
    const work = join(env.tmp.path, 'job');
    await mkdir(join(work, 'app'), { recursive: true });
    await writeFile(join(work, 'app', 'Dockerfile'), 'FROM busybox\nRUN echo built-in-ci > /ci\nCOPY greeting /greeting\n');
    await writeFile(join(work, 'app', 'greeting'), 'hello from CI\n');
    const config = join(work, 'tbuild.toml');
    await writeFile(config, `[registry."docker.io"]\nmirrors = ["${env.registry.host}"]\n\n[registry."${host}"]\nhttp = false\nca = ["${registry().caCertPath ?? ''}"]\n`);
    const inputs = (run: string): NodeJS.ProcessEnv => ({
      WORKDIR: work,
      TBUILD: `${process.execPath} ${join(REPO_ROOT, 'bin', 'tbuild.js')}`,
      TBUILD_ROOT: join(work, `root-${run}`),
      TBUILD_CONFIG: config,
      DOCKER_CONFIG: join(work, 'docker-config'),
      REGISTRY: host,
      USERNAME: TEST_CREDENTIALS.username,
      PASSWORD: TEST_CREDENTIALS.password,
      IMAGE: `${host}/ci/app`,
      TAGS: `latest,1.0.${run}`,
      CONTEXT: 'app',
      METADATA_FILE: join(work, `metadata-${run}.json`),
      GITHUB_OUTPUT: join(work, `output-${run}`),
    });

    const first = await runScript(inputs('1'));
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('Login Succeeded');
    const meta = JSON.parse(await readFile(join(work, 'metadata-1.json'), 'utf8')) as Record<string, string>;
    const digest = meta['containerimage.digest'] ?? '';
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await readFile(join(work, 'output-1'), 'utf8')).toBe(`imageid=${meta['containerimage.config.digest'] ?? ''}\ndigest=${digest}\n`);
    const skopeo = (...args: string[]): Promise<CliResult> => run('skopeo', [...args.slice(0, -1), '--tls-verify=false', '--creds', `${TEST_CREDENTIALS.username}:${TEST_CREDENTIALS.password}`, ...args.slice(-1)]);
    for (const tag of ['latest', '1.0.1']) {
      const inspected = await skopeo('inspect', `docker://${host}/ci/app:${tag}`);
      expect(inspected.code, inspected.stderr).toBe(0);
      expect((JSON.parse(inspected.stdout) as { Digest: string }).Digest).toBe(digest);
    }
    const cache = await skopeo('inspect', '--raw', `docker://${host}/ci/app:buildcache`);
    expect(cache.code, cache.stderr).toBe(0);
    // The job logged out: the Docker config keeps no credentials for the registry.
    const dockerConfig = JSON.parse(await readFile(join(work, 'docker-config', 'config.json'), 'utf8')) as { auths?: Record<string, unknown> };
    expect(Object.keys(dockerConfig.auths ?? {})).not.toContain(host);

    // A second job on a fresh machine (another state folder) takes every step from the registry cache.
    const second = await runScript(inputs('2'));
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/RUN echo built-in-ci > \/ci\n#\d+ CACHED/);
    const again = JSON.parse(await readFile(join(work, 'metadata-2.json'), 'utf8')) as Record<string, string>;
    expect(again['containerimage.config.digest']).toBe(meta['containerimage.config.digest']);
    const tagged = await skopeo('inspect', `docker://${host}/ci/app:1.0.2`);
    expect((JSON.parse(tagged.stdout) as { Digest: string }).Digest).toBe(again['containerimage.digest']);
  });
});
