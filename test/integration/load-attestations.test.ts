import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ImageIndex } from '../../base/oci.js';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { run, runTbuild } from '../helpers/cli.js';

const ATTESTATION = 'attestation-manifest';

describe('attestations of images loaded from an OCI archive', () => {
  const env = useBuildEnvironment();
  let ctx: string;
  const tb = async (...args: string[]): Promise<string> => {
    const res = await runTbuild(args);
    expect(res.code, `${args.join(' ')}\n${res.stderr}`).toBe(0);
    return res.stdout;
  };
  /** layout unpacks an archive and reads the index its index.json names, with a reader of its blobs. */
  const layout = async (tar: string): Promise<{ top: ImageIndex; digest: string; blob: (digest: string) => Promise<Buffer> }> => {
    const dir = `${tar}.d`;
    await mkdir(dir, { recursive: true });
    expect((await run('tar', ['-xf', tar, '-C', dir])).code).toBe(0);
    const blob = (digest: string): Promise<Buffer> => readFile(join(dir, 'blobs', 'sha256', digest.slice(7)));
    const root = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as ImageIndex;
    const digest = root.manifests[0]?.digest ?? '';
    return { top: JSON.parse((await blob(digest)).toString('utf8')) as ImageIndex, digest, blob };
  };
  const attestations = (index: ImageIndex): string[] => index.manifests.filter((m) => m.annotations?.['vnd.docker.reference.type'] === ATTESTATION).map((m) => m.digest);

  beforeAll(async () => {
    ctx = join(env.tmp.path, 'ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY Dockerfile /\n');
  });

  it('keeps the attestation of a loaded image through tbuild save (the same index, byte for byte) and tbuild push, after a prune', async () => {
    const built = join(env.tmp.path, 'built.tar');
    await tb('build', '--root', join(env.tmp.path, 'root-build'), '--config', env.config, '--progress', 'plain', '--provenance', 'mode=min', '-o', `type=oci,dest=${built},name=att:v1`, ctx);
    const original = await layout(built);
    expect(attestations(original.top)).toHaveLength(1);

    const root = join(env.tmp.path, 'root-load');
    expect(await tb('load', '--root', root, '-i', built)).toBe('Loaded image: att:v1\n');
    // The attestation's blobs are the image's: pruning the cache leaves them.
    await tb('prune', '--root', root, '--all', '--force');
    const saved = join(env.tmp.path, 'saved.tar');
    await tb('save', '--root', root, '-o', saved, 'att:v1');
    const again = await layout(saved);
    expect(again.digest).toBe(original.digest);
    const [attestation] = attestations(again.top);
    expect(attestation).toBeDefined();
    const manifest = JSON.parse((await again.blob(attestation ?? '')).toString('utf8')) as { layers: { digest: string }[] };
    for (const l of manifest.layers) expect(createHash('sha256').update(await again.blob(l.digest)).digest('hex')).toBe(l.digest.slice(7));

    const ref = `${env.registry.host}/att/loaded:v1`;
    await tb('tag', '--root', root, 'att:v1', ref);
    await tb('push', '--root', root, '--config', env.config, ref);
    const pushed = await run('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${ref}`]);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(attestations(JSON.parse(pushed.stdout) as ImageIndex)).toEqual([attestation]);
    const fetched = await run('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${env.registry.host}/att/loaded@${attestation ?? ''}`]);
    expect(fetched.code, fetched.stderr).toBe(0);
  });

  it('keeps the attestation of every platform of a loaded image index', async () => {
    const built = join(env.tmp.path, 'multi.tar');
    await tb('build', '--root', join(env.tmp.path, 'root-build'), '--config', env.config, '--progress', 'plain', '--platform', 'linux/amd64,linux/arm64', '--provenance', 'mode=min', '-o', `type=oci,dest=${built},name=att-multi:v1`, ctx);
    const original = await layout(built);
    expect(attestations(original.top)).toHaveLength(2);
    const root = join(env.tmp.path, 'root-load');
    await tb('load', '--root', root, '-i', built);
    const ref = `${env.registry.host}/att/multi:v1`;
    await tb('tag', '--root', root, 'att-multi:v1', ref);
    await tb('push', '--root', root, '--config', env.config, ref);
    const pushed = await run('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${ref}`]);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(attestations(JSON.parse(pushed.stdout) as ImageIndex)).toEqual(attestations(original.top));
  });
});
