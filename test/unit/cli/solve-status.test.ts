import { describe, expect, it } from 'vitest';
import { buildMetadata, metadataProvenanceMode } from '../../../cli/build-metadata.js';
import { createSolveStatus, goTime } from '../../../cli/progress/solve-status.js';

const V = `sha256:${'a'.repeat(64)}`;

describe('SolveStatus of tbuild progress events', () => {
  it("writes times as Go's time.Time marshals them", () => {
    expect(goTime(Date.UTC(2024, 0, 2, 3, 4, 5, 120))).toBe('2024-01-02T03:04:05.12Z');
    expect(goTime(Date.UTC(2024, 0, 2, 3, 4, 5, 0))).toBe('2024-01-02T03:04:05Z');
  });

  it('turns vertex, log, status and warning events into BuildKit fields', () => {
    const convert = createSolveStatus({ sources: new Map([['Dockerfile', 'FROM busybox as b\n']]) });
    expect(convert({ type: 'vertex.started', vertex: V, name: '[1/2] RUN x', time: 1000 })).toEqual({ vertexes: [{ digest: V, name: '[1/2] RUN x', started: '1970-01-01T00:00:01Z' }] });
    expect(convert({ type: 'vertex.log', vertex: V, stream: 'stderr', data: 'hi\n', time: 1500 })).toEqual({ logs: [{ vertex: V, stream: 2, data: 'aGkK', timestamp: '1970-01-01T00:00:01.5Z' }] });
    expect(convert({ type: 'vertex.completed', vertex: V, name: '[1/2] RUN x', time: 2000, durationMs: 1000, error: 'boom' })).toEqual({
      vertexes: [{ digest: V, name: '[1/2] RUN x', started: '1970-01-01T00:00:01Z', completed: '1970-01-01T00:00:02Z', error: 'boom' }],
    });
    const own = convert({ type: 'vertex.cached', vertex: 'exporting', name: 'exporting layers', time: 0 });
    expect(own?.vertexes?.[0]).toMatchObject({ digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), cached: true });
    expect(convert({ type: 'status', vertex: V, id: 'sha256:bb', current: 5, total: 10, completed: true, time: 0 })).toEqual({
      statuses: [{ id: 'sha256:bb', vertex: V, total: 10, current: 5, timestamp: '1970-01-01T00:00:00Z', completed: '1970-01-01T00:00:00Z' }],
    });
    expect(convert({ type: 'vertex.usage', vertex: V, time: 0 })).toBeUndefined();
    const finding = { rule: 'FromAsCasing', description: 'The as keyword should match FROM', url: 'https://docs.docker.com/go/dockerfile/rule/from-as-casing/', detail: "'as' and 'FROM' keywords' casing do not match", location: { file: 'Dockerfile', startLine: 1, endLine: 1 } };
    expect(convert({ type: 'warning', message: 'x', finding, time: 0 })).toEqual({
      warnings: [
        {
          level: 1,
          short: Buffer.from("FromAsCasing: 'as' and 'FROM' keywords' casing do not match (line 1)").toString('base64'),
          detail: [Buffer.from(finding.description).toString('base64')],
          url: finding.url,
          sourceInfo: { filename: 'Dockerfile', data: Buffer.from('FROM busybox as b\n').toString('base64'), language: 'Dockerfile' },
          range: [{ start: { line: 1 }, end: { line: 1 } }],
        },
      ],
    });
  });
});

describe('buildx metadata', () => {
  it('reads BUILDX_METADATA_PROVENANCE as buildx does, only with a metadata file', () => {
    expect(metadataProvenanceMode({}, '/m.json')).toBe('min');
    expect(metadataProvenanceMode({ BUILDX_METADATA_PROVENANCE: 'max' }, '/m.json')).toBe('max');
    for (const off of ['disabled', 'false', '0']) expect(metadataProvenanceMode({ BUILDX_METADATA_PROVENANCE: off }, '/m.json')).toBeUndefined();
    expect(metadataProvenanceMode({ BUILDX_METADATA_PROVENANCE: 'max' }, undefined)).toBeUndefined();
  });

  it('leaves the config digest out for an image index and writes each platform provenance under its own key', () => {
    const index = { mediaType: 'application/vnd.oci.image.index.v1+json', digest: `sha256:${'1'.repeat(64)}`, size: 10 };
    const meta = buildMetadata(
      { imageId: `sha256:${'2'.repeat(64)}`, descriptor: index, names: ['r/x:1'], warnings: [], buildId: 'ab', provenance: [{ platform: 'linux/amd64', json: '{"a":1}' }, { platform: 'linux/arm64', json: '{"b":2}' }] },
      { builderRef: 'tbuild/embedded' },
    );
    expect(meta).toEqual({
      'buildx.build.provenance/linux/amd64': { a: 1 },
      'buildx.build.provenance/linux/arm64': { b: 2 },
      'buildx.build.ref': 'tbuild/embedded/ab',
      'containerimage.descriptor': index,
      'containerimage.digest': index.digest,
      'image.name': 'r/x:1',
    });
    expect(Object.keys(meta)[0]).toBe('buildx.build.provenance/linux/amd64');
  });
});
