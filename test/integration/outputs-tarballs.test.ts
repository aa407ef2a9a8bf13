import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, run, runTbuild, writeMirrorConfig, type TempDir } from '../helpers/cli.js';
import { useDockerEngine } from '../fixtures/docker-engine.js';
import { seedBusybox, startRegistry, type TestRegistry } from '../fixtures/registry.js';


const DOCKERFILE = `FROM busybox
COPY data.txt /data/data.txt
RUN mkdir -p /out && echo built > /out/made-by-run && touch /out/stamp
LABEL org.example.case=reproducible
`;

describe('tarball outputs: reproducible with SOURCE_DATE_EPOCH and rewrite-timestamp, and accepted by peers', () => {
  const engine = useDockerEngine();
  let registry: TestRegistry;
  let tmp: TempDir;
  let config: string;
  let ctx: string;
  const build = (root: string, output: string, env: NodeJS.ProcessEnv = {}) =>
    runTbuild(['build', '--root', root, '--config', config, '--progress', 'plain', '-t', 'repro:v1', '--output', output, ctx], { env });

  beforeAll(async () => {
    registry = await startRegistry();
    await seedBusybox(registry.host);
    tmp = await makeTempDir();
    config = await writeMirrorConfig(tmp.path, registry.host);
    ctx = join(tmp.path, 'ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE);
    await writeFile(join(ctx, 'data.txt'), 'data\n');
  });

  afterAll(async () => {
    await tmp?.[Symbol.asyncDispose]();
    await registry?.stop();
  });

  // As with BuildKit, SOURCE_DATE_EPOCH alone dates the image; the layers' file times are clamped only with
  // rewrite-timestamp=true, as a buildx user asks for reproducible layers.
  it('gives byte-identical OCI tarballs and the same digest from two stores with the same SOURCE_DATE_EPOCH and rewrite-timestamp', async () => {
    const env = { SOURCE_DATE_EPOCH: '1700000000' };
    const tars: Buffer[] = [];
    const digests: string[] = [];
    for (const n of [1, 2]) {
      const tar = join(tmp.path, `repro-${n}.tar`);
      const meta = join(tmp.path, `meta-${n}.json`);
      const res = await runTbuild(['build', '--root', join(tmp.path, `root-${n}`), '--config', config, '--progress', 'plain', '-t', 'repro:v1', '--metadata-file', meta, '--output', `type=oci,dest=${tar},rewrite-timestamp=true`, ctx], { env });
      expect(res.code, res.stderr).toBe(0);
      tars.push(await readFile(tar));
      digests.push((JSON.parse(await readFile(meta, 'utf8')) as Record<string, string>)['containerimage.digest'] ?? '');
      // Let the clock move so unclamped times would differ.
      await new Promise((r) => setTimeout(r, 1100));
    }
    expect(digests[0]).toMatch(/^sha256:/);
    expect(digests[1]).toBe(digests[0]);
    expect(tars[1]?.equals(tars[0] ?? Buffer.alloc(0))).toBe(true);
    const cfg = await run('skopeo', ['inspect', '--config', `oci-archive:${join(tmp.path, 'repro-1.tar')}`]);
    expect(Date.parse((JSON.parse(cfg.stdout) as { created: string }).created)).toBe(1700000000 * 1000);
  });

  for (const type of ['oci', 'docker'] as const) {
    for (const compression of ['gzip', 'zstd', 'uncompressed'] as const) {
      it(`writes a ${type} tarball (${compression}) that skopeo, umoci and oci-image-tool accept`, async () => {
        const tar = join(tmp.path, `${type}-${compression}.tar`);
        const res = await build(join(tmp.path, 'root-1'), `type=${type},dest=${tar},compression=${compression},force-compression=true`);
        expect(res.code, res.stderr).toBe(0);
        const transport = type === 'oci' ? 'oci-archive' : 'docker-archive';
        const inspect = await run('skopeo', ['inspect', `${transport}:${tar}`]);
        expect(inspect.code, inspect.stderr).toBe(0);
        expect((JSON.parse(inspect.stdout) as { Labels: Record<string, string> }).Labels['org.example.case']).toBe('reproducible');
        // A recompressed base layer is the same archive: converted from its blob, it keeps the base image's diff ID.
        const base = await run('skopeo', ['inspect', '--tls-verify=false', '--config', `docker://${registry.host}/library/busybox:latest`]);
        const built = await run('skopeo', ['inspect', '--config', `${transport}:${tar}`]);
        const diffIds = (out: string): string[] => (JSON.parse(out) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
        expect(diffIds(built.stdout)[0]).toBe(diffIds(base.stdout)[0]);
        // umoci and oci-image-tool read OCI layouts: extract the OCI archive, or copy the docker one into a layout.
        const layout = join(tmp.path, `layout-${type}-${compression}`);
        await mkdir(layout);
        const copy = type === 'oci' ? await run('tar', ['-xf', tar, '-C', layout]) : await run('skopeo', ['copy', `${transport}:${tar}`, `oci:${layout}:v1`]);
        expect(copy.code, copy.stderr).toBe(0);
        // Debian's oci-image-tool and umoci predate the zstd layer media type: skopeo alone reads zstd OCI layouts.
        if (type === 'oci' && compression === 'zstd') return;
        const validate = await run('oci-image-tool', ['validate', '--type', 'image', layout]);
        expect(validate.code, validate.stdout + validate.stderr).toBe(0);
        const bundle = join(tmp.path, `bundle-${type}-${compression}`);
        const unpack = await run('umoci', ['unpack', '--rootless', '--image', `${layout}:v1`, bundle]);
        expect(unpack.code, unpack.stderr).toBe(0);
        expect(await readFile(join(bundle, 'rootfs/out/made-by-run'), 'utf8')).toBe('built\n');
      });
    }
  }

  it('loads the docker tarball with docker load', async () => {
    const tar = join(tmp.path, 'docker-gzip.tar');
    const load = await engine.docker('load', '-i', tar);
    expect(load.code, load.stderr).toBe(0);
    expect(load.stdout).toContain('repro:v1');
    expect((await engine.docker('rmi', 'repro:v1')).code).toBe(0);
  });
});
