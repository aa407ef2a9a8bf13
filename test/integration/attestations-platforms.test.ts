import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { seedMultiarchBusybox, SEED_TIMEOUT_MS } from '../fixtures/multiarch-busybox.js';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { run, runTbuild } from '../helpers/cli.js';

interface Descriptor {
  readonly digest: string;
  readonly annotations?: Record<string, string>;
  readonly platform?: { readonly os: string; readonly architecture: string; readonly variant?: string };
}

describe('attestations of an image of several platforms', () => {
  const env = useBuildEnvironment();
  let ctx: string;

  beforeAll(async () => {
    await seedMultiarchBusybox(env.registry.host);
    ctx = join(env.tmp.path, 'ctx');
    await mkdir(ctx);
    // No RUN: nothing runs under emulation.
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox-multiarch\nCOPY hello /hello\n');
    await writeFile(join(ctx, 'hello'), 'hello\n');
  }, SEED_TIMEOUT_MS);

  it('lists every platform image, then one attestation manifest per image, each about its own platform', async () => {
    const h = env.registry.host;
    const flags = ['--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'plain'];
    const res = await runTbuild(['build', ...flags, '--platform', 'linux/amd64,linux/arm64', '--sbom=true', '-t', `${h}/attest/multi:v1`, '--push', ctx]);
    expect(res.code, res.stderr).toBe(0);
    const raw = async (ref: string): Promise<string> => {
      const r = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout;
    };
    const index = JSON.parse(await raw(`${h}/attest/multi:v1`)) as { manifests: Descriptor[] };
    const [amd64, arm64, ...attestations] = index.manifests;
    expect([amd64?.platform?.architecture, arm64?.platform?.architecture]).toEqual(['amd64', 'arm64']);
    expect(attestations.map((a) => [a.platform, a.annotations?.['vnd.docker.reference.digest']])).toEqual([
      [{ architecture: 'unknown', os: 'unknown' }, amd64?.digest],
      [{ architecture: 'unknown', os: 'unknown' }, arm64?.digest],
    ]);
    for (const [i, arch] of ['amd64', 'arm64'].entries()) {
      const manifest = JSON.parse(await raw(`${h}/attest/multi@${attestations[i]?.digest ?? ''}`)) as { layers: { digest: string; annotations: Record<string, string> }[] };
      // The SBOM asked for, and buildx's default provenance of a push.
      expect(manifest.layers.map((l) => l.annotations['in-toto.io/predicate-type'])).toEqual(['https://spdx.dev/Document', 'https://slsa.dev/provenance/v1']);
      const statement = (await (await fetch(`${env.registry.url}/v2/attest/multi/blobs/${manifest.layers[1]?.digest ?? ''}`)).json()) as { subject: { name: string }[] };
      expect(statement.subject.map((s) => s.name)).toEqual([`pkg:docker/${encodeURIComponent(h)}/attest/multi@v1?platform=linux%2F${arch}`]);
    }
  });
});
