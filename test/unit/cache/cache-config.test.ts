import { describe, expect, it } from 'vitest';
import { digestOf } from '../../../base/digest.js';
import { checkCacheConfig, layerDescriptor, recordChain, type CacheConfig } from '../../../cache/cache-config.js';

const gzip = 'application/vnd.oci.image.layer.v1.tar+gzip';
const layer = (n: number): { mediaType: string; digest: string; size: number; diffId: string } => ({
  mediaType: gzip,
  digest: digestOf(`blob ${n}`),
  size: 100 + n,
  diffId: digestOf(`tar ${n}`),
});
const key = (n: number): string => digestOf(`key ${n}`);

function valid(): { schemaVersion: number; layers: unknown[]; records: unknown[] } {
  return {
    schemaVersion: 1,
    layers: [layer(0), layer(1), layer(2)],
    records: [
      { key: key(0), layer: 0, parent: [] },
      { key: key(1), layer: 2, parent: [0, 1] },
      { key: key(2), layer: null, parent: [] },
    ],
  };
}

function reasonOf(value: unknown): string {
  const checked = checkCacheConfig(value);
  if (checked.ok) throw new Error('expected the config to be refused');
  return checked.reason;
}

describe('cache config validation', () => {
  it('accepts a valid config and keeps only the known fields', () => {
    const doc = valid();
    doc.layers[0] = { ...layer(0), annotations: { x: 'y' } };
    const checked = checkCacheConfig({ ...doc, extra: true });
    expect(checked.ok).toBe(true);
    if (!checked.ok) return;
    expect(checked.config.layers[0]).toEqual(layer(0));
    expect(checked.config.records).toEqual(valid().records);
    expect(Object.keys(checked.config).sort()).toEqual(['layers', 'records', 'schemaVersion']);
  });

  it('keeps a layer creation time and refuses one that is not a time', () => {
    const doc = valid();
    doc.layers[1] = { ...layer(1), createdAt: '2024-05-01T10:00:00.000Z' };
    const checked = checkCacheConfig(doc);
    expect(checked.ok && checked.config.layers[1]?.createdAt).toBe('2024-05-01T10:00:00.000Z');
    doc.layers[1] = { ...layer(1), createdAt: 'yesterday' };
    expect(reasonOf(doc)).toMatch(/no valid createdAt/);
  });

  it('refuses documents of another shape or version', () => {
    expect(reasonOf('text')).toBe('not a JSON object');
    expect(reasonOf([])).toBe('not a JSON object');
    expect(reasonOf({ ...valid(), schemaVersion: 2 })).toBe('unsupported schemaVersion 2');
    expect(reasonOf({ ...valid(), layers: {} })).toBe('layers or records is not a list');
    expect(reasonOf({ ...valid(), records: null })).toBe('layers or records is not a list');
  });

  it('refuses layers without a valid media type, digest, diff ID or size', () => {
    const withLayer = (l: unknown): unknown => ({ ...valid(), layers: [l], records: [] });
    expect(reasonOf(withLayer('sha256:00'))).toBe('a layer is not an object');
    expect(reasonOf(withLayer({ ...layer(0), digest: 'sha256:short' }))).toMatch(/valid mediaType, digest or diffId/);
    expect(reasonOf(withLayer({ ...layer(0), diffId: undefined }))).toMatch(/valid mediaType, digest or diffId/);
    expect(reasonOf(withLayer({ ...layer(0), mediaType: 7 }))).toMatch(/valid mediaType, digest or diffId/);
    expect(reasonOf(withLayer({ ...layer(0), size: -1 }))).toBe(`layer ${layer(0).digest} has no valid size`);
    expect(reasonOf(withLayer({ ...layer(0), size: 1.5 }))).toBe(`layer ${layer(0).digest} has no valid size`);
  });

  it('refuses records with a bad key or layer indexes outside the layer list', () => {
    const withRecord = (r: unknown): unknown => ({ ...valid(), records: [r] });
    expect(reasonOf(withRecord(7))).toBe('a record is not an object');
    expect(reasonOf(withRecord({ key: 'latest', layer: 0, parent: [] }))).toBe('a record has no valid key');
    expect(reasonOf(withRecord({ key: key(0), layer: 3, parent: [] }))).toBe(`record ${key(0)} has invalid layer indexes`);
    expect(reasonOf(withRecord({ key: key(0), layer: 0, parent: [-1] }))).toBe(`record ${key(0)} has invalid layer indexes`);
    expect(reasonOf(withRecord({ key: key(0), layer: 0, parent: [0.5] }))).toBe(`record ${key(0)} has invalid layer indexes`);
    expect(reasonOf(withRecord({ key: key(0), layer: 0 }))).toBe(`record ${key(0)} has invalid layer indexes`);
  });
});

describe('cache record chains', () => {
  const checked = checkCacheConfig(valid());
  if (!checked.ok) throw new Error(checked.reason);
  const config: CacheConfig = checked.config;

  it('lists a record layers bottom first, its own layer last', () => {
    const [, second, empty] = config.records;
    if (second === undefined || empty === undefined) throw new Error('fixture has three records');
    expect(recordChain(config, second).map((l) => l.digest)).toEqual([layer(0).digest, layer(1).digest, layer(2).digest]);
    // An empty (scratch) result has no layer of its own.
    expect(recordChain(config, empty)).toEqual([]);
  });

  it('describes a layer as an OCI descriptor without its diff ID', () => {
    const first = config.layers[0];
    if (first === undefined) throw new Error('fixture has layers');
    expect(layerDescriptor(first)).toEqual({ mediaType: gzip, digest: layer(0).digest, size: 100 });
  });
});
