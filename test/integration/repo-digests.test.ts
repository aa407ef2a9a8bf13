import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useDockerEngine } from '../fixtures/docker-engine.js';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { run, runTbuild } from '../helpers/cli.js';

const NO_ATTESTATIONS = { env: { BUILDX_NO_DEFAULT_ATTESTATIONS: '1' } };

describe('RepoDigests of pushed images', () => {
  const env = useBuildEnvironment();
  const engine = useDockerEngine();
  let ctx: string;
  const root = (): string[] => ['--root', join(env.tmp.path, 'root')];
  const inspect = async (name: string): Promise<{ RepoTags: string[]; RepoDigests: string[] }> => {
    const res = await runTbuild(['inspect', ...root(), name]);
    expect(res.code, res.stderr).toBe(0);
    const [doc] = JSON.parse(res.stdout) as { RepoTags: string[]; RepoDigests: string[] }[];
    if (doc === undefined) throw new Error(`tbuild inspect ${name} printed no image`);
    return doc;
  };
  const registryDigest = async (ref: string): Promise<string> => {
    const res = await run('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${ref}`]);
    expect(res.code, res.stderr).toBe(0);
    return res.stdout.trim();
  };

  /** indexDigest is the digest of what a name points at in the registry (an index, not a platform's manifest). */
  const indexDigest = async (ref: string): Promise<string> => {
    const res = await run('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${ref}`]);
    expect(res.code, res.stderr).toBe(0);
    return `sha256:${createHash('sha256').update(res.stdout).digest('hex')}`;
  };

  beforeAll(async () => {
    ctx = join(env.tmp.path, 'ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo repo-digests > /made\n');
  });

  it('shows REPOSITORY@DIGEST of a --push as docker shows the same image pulled, and keeps it when the image is made again', async () => {
    const h = env.registry.host;
    const ref = `${h}/rd/app:v1`;
    const build = (): Promise<{ code: number; stderr: string }> => runTbuild(['build', ...root(), '--config', env.config, '--progress', 'plain', '-t', ref, '--push', ctx], NO_ATTESTATIONS);
    const res = await build();
    expect(res.code, res.stderr).toBe(0);
    const digest = await registryDigest(ref);
    const doc = await inspect(ref);
    expect(doc.RepoDigests).toEqual([`${h}/rd/app@${digest}`]);
    // Docker records the same for the image it pulls from there.
    expect((await engine.docker('pull', ref)).code).toBe(0);
    const docker = await engine.docker('image', 'inspect', '--format', '{{json .RepoDigests}}', ref);
    expect(JSON.parse(docker.stdout)).toEqual(doc.RepoDigests);
    expect((await engine.docker('rmi', ref)).code).toBe(0);
    // A rebuild making the same image (cached) names it again: where it was pushed stays known.
    const again = await runTbuild(['build', ...root(), '--config', env.config, '--progress', 'plain', '-t', ref, ctx]);
    expect(again.code, again.stderr).toBe(0);
    expect((await inspect(ref)).RepoDigests).toEqual([`${h}/rd/app@${digest}`]);
  });

  it('adds the repository tbuild push sends an image to, shown under each of its names', async () => {
    const h = env.registry.host;
    const tagged = `${h}/rd/other:v2`;
    expect((await runTbuild(['tag', ...root(), `${h}/rd/app:v1`, tagged])).code).toBe(0);
    const pushed = await runTbuild(['push', ...root(), '--config', env.config, tagged]);
    expect(pushed.code, pushed.stderr).toBe(0);
    const digest = await registryDigest(tagged);
    for (const name of [tagged, `${h}/rd/app:v1`]) {
      const doc = await inspect(name);
      expect(doc.RepoTags.sort()).toEqual([`${h}/rd/app:v1`, tagged].sort());
      expect(doc.RepoDigests).toContain(`${h}/rd/other@${digest}`);
      expect(doc.RepoDigests).toHaveLength(2);
    }
    const formatted = await runTbuild(['inspect', ...root(), '--format', '{{json .RepoDigests}}', tagged]);
    expect(JSON.parse(formatted.stdout)).toHaveLength(2);
  });

  it('records the digest of the image index a build of several platforms pushes, and none for an image only kept here', async () => {
    const h = env.registry.host;
    const multi = join(env.tmp.path, 'multi');
    await mkdir(multi, { recursive: true });
    await writeFile(join(multi, 'Dockerfile'), 'FROM scratch\nCOPY Dockerfile /\n');
    const ref = `${h}/rd/multi:v1`;
    const res = await runTbuild(['build', ...root(), '--config', env.config, '--progress', 'plain', '--platform', 'linux/amd64,linux/arm64', '-t', ref, '--push', multi]);
    expect(res.code, res.stderr).toBe(0);
    expect((await inspect(ref)).RepoDigests).toEqual([`${h}/rd/multi@${await indexDigest(ref)}`]);
    const local = await runTbuild(['build', ...root(), '--config', env.config, '--progress', 'plain', '-t', 'rd-local:v1', multi]);
    expect(local.code, local.stderr).toBe(0);
    expect((await inspect('rd-local:v1')).RepoDigests).toEqual([]);
  });
});
