import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { runTbuild } from '../helpers/cli.js';

const execFileAsync = promisify(execFile);

interface IndexDoc {
  mediaType: string;
  manifests: { mediaType: string; digest: string; platform: { os: string; architecture: string }; annotations?: Record<string, string> }[];
}

async function skopeoRaw(ref: string): Promise<Buffer> {
  const { stdout } = await execFileAsync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`], { encoding: 'buffer', maxBuffer: 1 << 22 });
  return stdout;
}

describe('tbuild imagetools with an image tbuild pushed with its provenance attestation', () => {
  const env = useBuildEnvironment();
  let image: string;
  let index: IndexDoc;
  let indexBytes: Buffer;

  beforeAll(async () => {
    const ctx = join(env.tmp.path, 'ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo attested > /file\n');
    image = `${env.registry.host}/attested/app:1`;
    const res = await runTbuild(['build', '--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'quiet', '--push', '-t', image, ctx]);
    expect(res.code, res.stderr).toBe(0);
    indexBytes = await skopeoRaw(image);
    index = JSON.parse(indexBytes.toString()) as IndexDoc;
  });

  it('lists the attestation manifest as buildx does: platform unknown/unknown and its annotations', async () => {
    const [img, att] = index.manifests;
    expect(att?.annotations?.['vnd.docker.reference.type']).toBe('attestation-manifest');
    const res = await runTbuild(['imagetools', 'inspect', '--config', env.config, image]);
    expect(res.code, res.stderr).toBe(0);
    const digest = `sha256:${createHash('sha256').update(indexBytes).digest('hex')}`;
    expect(res.stdout).toBe(
      [
        `Name:      ${image}`,
        `MediaType: ${index.mediaType}`,
        `Digest:    ${digest}`,
        '           ',
        'Manifests: ',
        `  Name:        ${image}@${img?.digest}`,
        `  MediaType:   ${img?.mediaType}`,
        `  Platform:    linux/${img?.platform.architecture}`,
        '               ',
        `  Name:        ${image}@${att?.digest}`,
        `  MediaType:   ${att?.mediaType}`,
        '  Platform:    unknown/unknown',
        '  Annotations: ',
        `    vnd.docker.reference.digest: ${img?.digest}`,
        '    vnd.docker.reference.type:   attestation-manifest',
        '',
      ].join('\n'),
    );
    // The attestation manifest is no image: .Image is the one platform's config.
    const config = await runTbuild(['imagetools', 'inspect', '--config', env.config, '--format', '{{json .Image}}', image]);
    expect(JSON.parse(config.stdout)).toMatchObject({ architecture: img?.platform.architecture, os: 'linux' });
  });

  it('copies the index with its attestation manifest to another repository unchanged', async () => {
    const target = `${env.registry.host}/attested/copy:1`;
    const res = await runTbuild(['imagetools', 'create', '--config', env.config, '--progress', 'plain', '-t', target, image]);
    expect(res.code, res.stderr).toBe(0);
    expect(await skopeoRaw(target)).toEqual(indexBytes);
    const att = index.manifests[1];
    expect(att).toBeDefined();
    expect(JSON.parse((await skopeoRaw(`${env.registry.host}/attested/copy@${att?.digest}`)).toString())).toMatchObject({ layers: [{ mediaType: 'application/vnd.in-toto+json' }] });
    expect(res.stderr).not.toMatch(/^#1 pushing sha256:/m);
  });
});
