import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../base/errors.js';
import { parseDigest } from '../../../base/digest.js';
import type { ImageInspection } from '../../../controller/index.js';
import { renderInspection } from '../../../cli/imagetools-output.js';
import { executeTemplate, parseTemplate, rootFields } from '../../../cli/imagetools-template.js';
import { inspectionValue } from '../../../cli/imagetools-view.js';

const D = (c: string) => parseDigest(`sha256:${c.repeat(64)}`);
const config = (architecture: string) => ({
  created: '2024-05-06T07:08:09.100Z',
  architecture,
  os: 'linux',
  config: { Env: ['PATH=/bin'], Cmd: ['sh', '-c', 'a && b'] },
  rootfs: { type: 'layers', diff_ids: [D('d')] },
});

const single: ImageInspection = {
  name: 'host:5000/app',
  ref: 'host:5000/app:latest',
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: D('a'),
  size: 405,
  raw: new Uint8Array(),
  images: new Map([['linux/amd64', config('amd64')]]),
};

const amd64 = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D('1'), size: 405, platform: { architecture: 'amd64', os: 'linux' } };
const attestation = {
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: D('2'),
  size: 839,
  annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': D('1') },
  platform: { architecture: 'unknown', os: 'unknown' },
};
const entry = (d: typeof amd64 | typeof attestation) => ({
  name: `host:5000/app:latest@${d.digest}`,
  mediaType: d.mediaType,
  digest: d.digest,
  platform: { os: d.platform.os, architecture: d.platform.architecture },
  urls: [],
  annotations: 'annotations' in d ? d.annotations : {},
});
const multi: ImageInspection = {
  ...single,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  digest: D('b'),
  size: 855,
  index: { mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [amd64, attestation], entries: [entry(amd64), entry(attestation)] },
  images: new Map([['linux/amd64', config('amd64')], ['linux/arm64', config('arm64')]]),
};

const run = (format: string, ins: ImageInspection): string => executeTemplate(parseTemplate(format), inspectionValue(ins), format);

describe('imagetools inspect --format', () => {
  it('prints {{json .Manifest}} of an image as its descriptor, with Go indentation', () => {
    expect(run('{{json .Manifest}}', single)).toBe(`{\n  "mediaType": "application/vnd.oci.image.manifest.v1+json",\n  "digest": "${D('a')}",\n  "size": 405\n}`);
  });

  it('prints {{json .Manifest}} of an index with its digest and size, and the entries as served', () => {
    const out = JSON.parse(run('{{json .Manifest}}', multi)) as Record<string, unknown>;
    expect(out).toEqual({ schemaVersion: 2, mediaType: multi.mediaType, digest: D('b'), size: 855, manifests: [amd64, attestation] });
    expect(Object.keys(out)).toEqual(['schemaVersion', 'mediaType', 'digest', 'size', 'manifests']);
  });

  it('prints {{json .Image}} as one config for one platform, a map by platform for several, with Go escaping', () => {
    expect(run('{{json .Image}}', single)).toContain('"sh",\n      "-c",\n      "a \\u0026\\u0026 b"');
    expect(Object.keys(JSON.parse(run('{{json .Image}}', multi)) as object)).toEqual(['linux/amd64', 'linux/arm64']);
    expect(JSON.parse(run('{{json (index .Image "linux/arm64")}}', multi))).toMatchObject({ architecture: 'arm64' });
    expect(run('{{json (index .Image "linux/s390x")}}', multi)).toBe('null');
  });

  it('prints fields, pipes to json, indexes maps, trims and skips comments', () => {
    expect(run('{{.Name}} {{.Manifest.Digest}} {{.Manifest.Size}}', single)).toBe(`host:5000/app ${D('a')} 405`);
    expect(run('{{ .Name | json }}', single)).toBe('"host:5000/app"');
    expect(run('a  {{- /* note */ -}}  {{- .Image.Architecture -}}  \n', single)).toBe('aamd64');
    expect(run('{{.Image.Created}}', single)).toBe('2024-05-06 07:08:09.1 +0000 UTC');
    expect(run('{{(index .Image "linux/arm64").Architecture}}', multi)).toBe('arm64');
    expect(run('{{json (index .Manifest.Manifests 0)}}', multi).length).toBeGreaterThan(0);
  });

  it('refuses what it does not support, with the reason', () => {
    const refused = (format: string, ins: ImageInspection = multi): string => {
      try {
        run(format, ins);
      } catch (err) {
        expect(err).toBeInstanceOf(UsageError);
        return (err as Error).message;
      }
      throw new Error(`${format} was accepted`);
    };
    expect(refused('{{range .Manifest.Manifests}}x{{end}}')).toContain('"range" is not supported');
    expect(refused('{{$x := .Name}}')).toContain('template variables are not supported');
    expect(refused('{{json .SBOM}}')).toContain('.SBOM (attestations) is not supported yet');
    expect(refused('{{.Manifest.Nope}}')).toContain("can't evaluate field Nope in type index");
    expect(refused('{{.Image.Architecture}}')).toContain('use (index X "KEY")');
    expect(refused('{{.Image.Config}}', single)).toContain('print it with json');
    expect(refused('{{.Name')).toContain('unclosed action');
  });

  it('tells which parts of the input a template reads, so only .Image templates fetch configs', () => {
    expect([...rootFields(parseTemplate('{{.Manifest.Digest}} {{json (index .Image "x")}}'))]).toEqual(['Manifest', 'Image']);
    expect([...rootFields(parseTemplate('{{json .}}'))]).toEqual(['*']);
  });
});

describe('imagetools inspect output', () => {
  it('lists attestation manifests with their platform and sorted annotations, realigning after them as buildx does', () => {
    const lines = [
      'Name:      host:5000/app:latest',
      'MediaType: application/vnd.oci.image.index.v1+json',
      `Digest:    ${D('b')}`,
      '           ',
      'Manifests: ',
      `  Name:        host:5000/app:latest@${D('1')}`,
      '  MediaType:   application/vnd.oci.image.manifest.v1+json',
      '  Platform:    linux/amd64',
      '               ',
      `  Name:        host:5000/app:latest@${D('2')}`,
      '  MediaType:   application/vnd.oci.image.manifest.v1+json',
      '  Platform:    unknown/unknown',
      '  Annotations: ',
      `    vnd.docker.reference.digest: ${D('1')}`,
      '    vnd.docker.reference.type:   attestation-manifest',
    ];
    expect(renderInspection(multi)).toBe(`${lines.join('\n')}\n`);
  });
});
