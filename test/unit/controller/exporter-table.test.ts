import { describe, expect, it } from 'vitest';
import { EXPORTERS, exporterFor } from '../../../controller/exporters/table.js';
import type { ExporterTable, OutputExporter, OutputType } from '../../../controller/exporters/types.js';
import { mergeSummary } from '../../../controller/outputs.js';
import type { OutputSpec } from '../../../controller/request.js';

const image = { compression: 'gzip', forceCompression: false } as const;
const outputs: readonly OutputSpec[] = [
  { type: 'image', names: ['x'], push: false, image },
  { type: 'oci', dest: '/tmp/x.tar', names: [], image },
  { type: 'docker', dest: '/tmp/x.tar', names: [], image },
  { type: 'load', names: [], image },
  { type: 'local', dest: '/tmp/x' },
  { type: 'tar', dest: '/tmp/x.tar' },
];

/** recordingTable is a table whose factories record the output they were given under their own kind. */
function recordingTable(seen: [OutputType, OutputSpec][]): ExporterTable {
  const factory = (kind: OutputType) => (output: OutputSpec): OutputExporter => {
    seen.push([kind, output]);
    const summary = Promise.resolve({ names: [kind] });
    return { exportOne: () => summary, exportPlatforms: () => summary };
  };
  return { image: factory('image'), oci: factory('oci'), docker: factory('docker'), load: factory('load'), local: factory('local'), tar: factory('tar') };
}

describe('the exporter table', () => {
  it('has a factory for every kind of output', () => {
    expect(Object.keys(EXPORTERS).sort()).toEqual(outputs.map((o) => o.type).sort());
    for (const output of outputs) {
      const exporter = exporterFor(output);
      expect(typeof exporter.exportOne).toBe('function');
      expect(typeof exporter.exportPlatforms).toBe('function');
    }
  });

  it("gives each output to its own kind's factory", () => {
    const seen: [OutputType, OutputSpec][] = [];
    const table = recordingTable(seen);
    for (const output of outputs) exporterFor(output, table);
    expect(seen).toEqual(outputs.map((o) => [o.type, o]));
  });

  it('is checked for every kind by the compiler', () => {
    const seen: [OutputType, OutputSpec][] = [];
    const { tar: _tar, ...partial } = recordingTable(seen);
    // @ts-expect-error a table without the tar exporter is not an ExporterTable
    const table: ExporterTable = partial;
    expect(Object.keys(table)).not.toContain('tar');
  });
});

describe('merging output summaries', () => {
  it("keeps every output's names and the last image and digests", () => {
    const a = mergeSummary({ names: [] }, { imageId: 'sha256:a', manifestDigest: 'sha256:ma', pushedDigest: 'sha256:pa', names: ['one'] });
    const b = mergeSummary(a, { imageId: 'sha256:b', manifestDigest: 'sha256:mb', names: [] });
    expect(b).toEqual({ imageId: 'sha256:b', manifestDigest: 'sha256:mb', pushedDigest: 'sha256:pa', names: ['one'] });
    expect(mergeSummary(b, { names: ['two'] }).names).toEqual(['one', 'two']);
  });
});
