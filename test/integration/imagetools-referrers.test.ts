import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { run, runTbuild } from '../helpers/cli.js';

interface Entry {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
}

describe('imagetools create copies referrers', () => {
  const env = useBuildEnvironment();

  const raw = async (ref: string): Promise<string> => {
    const res = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
    expect(res.code, `${ref}: ${res.stderr}`).toBe(0);
    return res.stdout;
  };

  it('copies the attestation manifest a source image has as a referrer, listed under the target fallback tag', async () => {
    const h = env.registry.host;
    const ctx = join(env.tmp.path, 'ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo referred > /r\n');
    const flags = ['--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'plain'];
    const built = await runTbuild(['build', ...flags, '--sbom=true', '-o', `type=registry,name=${h}/refs/src:v1,attestation-referrers=true`, ctx]);
    expect(built.code, built.stderr).toBe(0);
    const [image, attestation] = (JSON.parse(await raw(`${h}/refs/src:v1`)) as { manifests: Entry[] }).manifests;
    expect(image).toBeDefined();
    expect(attestation).toBeDefined();
    const subject = image?.digest ?? '';

    // The source is the image alone, by digest: the attestation comes only as a referrer.
    const created = await runTbuild(['imagetools', 'create', '--config', env.config, '--progress', 'plain', '-t', `${h}/refs/dst:v1`, `${h}/refs/src@${subject}`]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toContain(`copied 1 referrer of ${subject}`);
    // distribution 2.8 has no referrers API: the target lists the copy under its own fallback tag.
    const listed = JSON.parse(await raw(`${h}/refs/dst:${subject.replace(':', '-')}`)) as { manifests: Entry[] };
    expect(listed.manifests).toEqual([{ mediaType: attestation?.mediaType, digest: attestation?.digest, size: attestation?.size, artifactType: 'application/vnd.docker.attestation.manifest.v1+json' }]);
    const copied = JSON.parse(await raw(`${h}/refs/dst@${attestation?.digest ?? ''}`)) as { subject?: { digest: string } };
    expect(copied.subject?.digest).toBe(subject);
    // Every blob of the copied attestation is in the target repository.
    const pulled = await run('skopeo', ['copy', '--src-tls-verify=false', `docker://${h}/refs/dst@${attestation?.digest ?? ''}`, `oci:${join(env.tmp.path, 'att')}`]);
    expect(pulled.code, pulled.stderr).toBe(0);

  });
});
