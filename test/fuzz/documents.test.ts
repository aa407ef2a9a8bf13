import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeImageConfig, decodeImageIndex, decodeImageManifest, DocumentFieldError } from '../../base/oci-decode.js';
import { fuzzParams, fuzzTimeout } from './budget.js';

const digest = fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => `sha256:${h}`);
const text = fc.string({ maxLength: 12 });
const labels = fc.dictionary(text, text, { maxKeys: 3 });
const platform = fc.record(
  { architecture: fc.constantFrom('amd64', 'arm64', 'arm'), os: fc.constantFrom('linux', 'windows'), variant: fc.constantFrom('v7', 'v8'), 'os.features': fc.array(text, { maxLength: 2 }) },
  { requiredKeys: ['architecture', 'os'] },
);
const descriptor = fc.record(
  { mediaType: fc.constantFrom('application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.layer.v1.tar+gzip'), digest, size: fc.nat(), annotations: labels, platform, urls: fc.array(text, { maxLength: 2 }) },
  { requiredKeys: ['mediaType', 'digest', 'size'] },
);
const index = fc.record({ schemaVersion: fc.constant(2), mediaType: fc.constant('application/vnd.oci.image.index.v1+json'), manifests: fc.array(descriptor, { maxLength: 4 }), annotations: labels }, { requiredKeys: ['manifests'] });
const manifest = fc.record({ schemaVersion: fc.constant(2), config: descriptor, layers: fc.array(descriptor, { maxLength: 4 }), annotations: labels }, { requiredKeys: ['config', 'layers'] });
const strings = fc.array(text, { maxLength: 3 });
const containerConfig = fc.record(
  {
    User: text, Env: strings, Entrypoint: fc.option(strings), Cmd: fc.option(strings), WorkingDir: text, Labels: labels, StopSignal: text,
    OnBuild: fc.option(strings), Shell: strings, ArgsEscaped: fc.boolean(), ExposedPorts: fc.dictionary(text, fc.constant({}), { maxKeys: 2 }),
    Volumes: fc.dictionary(text, fc.constant({}), { maxKeys: 2 }), Healthcheck: fc.record({ Test: strings, Interval: fc.integer(), Retries: fc.nat() }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);
const config = fc.record(
  {
    architecture: fc.constantFrom('amd64', 'arm64'), os: fc.constant('linux'), created: text, author: text, variant: text, config: containerConfig,
    rootfs: fc.record({ type: fc.constant('layers'), diff_ids: fc.array(digest, { maxLength: 3 }) }),
    history: fc.array(fc.record({ created: text, created_by: text, comment: text, empty_layer: fc.boolean() }, { requiredKeys: [] }), { maxLength: 3 }),
  },
  { requiredKeys: ['architecture', 'os', 'rootfs'] },
);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** paths lists every path into a document, as the decoders name them (`a.b[0].c`). */
function paths(v: Json, path = ''): string[] {
  if (Array.isArray(v)) return v.flatMap((item, i) => [`${path}[${i}]`, ...paths(item, `${path}[${i}]`)]);
  if (v === null || typeof v !== 'object') return [];
  return Object.entries(v).flatMap(([k, item]) => {
    const p = path === '' ? k : `${path}.${k}`;
    return [p, ...paths(item, p)];
  });
}

/** replace sets the value at a path (dots and [i]; map keys with dots are not reached, which is fine for a mutation). */
function replace(doc: Json, path: string, value: Json | undefined): Json {
  const copy = structuredClone(doc);
  const parts = path.match(/[^.[\]]+/g) ?? [];
  let at: Json = copy;
  for (const part of parts.slice(0, -1)) {
    if (at === null || typeof at !== 'object') return copy;
    at = (Array.isArray(at) ? at[Number(part)] : at[part]) ?? null;
  }
  const last = parts[parts.length - 1];
  if (last === undefined || at === null || typeof at !== 'object') return value ?? null;
  if (Array.isArray(at)) at[Number(last)] = value ?? null;
  else if (value === undefined) delete at[last];
  else at[last] = value;
  return copy;
}

/** mutated gives a valid document, or the same with one field set to random JSON or removed. */
function mutated(valid: fc.Arbitrary<Json>): fc.Arbitrary<{ doc: Json; mutated: boolean }> {
  return fc.tuple(valid, fc.nat(), fc.option(fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>), fc.boolean()).map(([doc, pick, value, mutate]) => {
    const all = paths(doc);
    const path = all[pick % Math.max(1, all.length)];
    if (!mutate || path === undefined) return { doc, mutated: false };
    return { doc: replace(doc, path, value ?? undefined), mutated: true };
  });
}

const DECODERS = [
  ['image index', decodeImageIndex, index],
  ['manifest', decodeImageManifest, manifest],
  ['image config', decodeImageConfig, config],
] as const;

describe('manifest, index and config decoding under random and mutated JSON', () => {
  for (const [what, decode, valid] of DECODERS) {
    it(`takes every valid ${what}, and refuses a broken one with a DocumentFieldError naming a field it has`, () => {
      const seen = { taken: 0, refused: 0 };
      fc.assert(
        fc.property(fc.oneof({ weight: 4, arbitrary: mutated(valid as fc.Arbitrary<Json>) }, { weight: 1, arbitrary: fc.jsonValue().map((doc) => ({ doc: doc as Json, mutated: true })) }), ({ doc, mutated: changed }) => {
          let decoded: unknown;
          try {
            decoded = decode(doc);
          } catch (err) {
            if (!(err instanceof DocumentFieldError)) throw err;
            expect(changed).toBe(true);
            seen.refused++;
            expect(err.message).toContain(`${what} field ${err.field}:`);
            // The field is in the document, or its parent is (a required field left out).
            const known = new Set(['(the document)', '', ...paths(doc)]);
            // The last step is `.key`, `[index]` or a map key `["key"]` (JSON-quoted, so it may hold `]` or `.`).
            const parent = err.field.replace(/\[(?:"(?:[^"\\]|\\.)*"|\d+)\]$|(?:^|\.)[^.[\]]+$/, '');
            expect(known.has(err.field) || known.has(parent)).toBe(true);
            return;
          }
          // What is taken decodes again to the same, and a document without nulls comes back as it was.
          // (Compared as JSON text: -0 is written as 0.)
          const text = JSON.stringify(decoded);
          expect(JSON.stringify(decode(JSON.parse(text)))).toBe(text);
          if (!changed) expect(decoded).toEqual(doc);
          seen.taken++;
        }),
        fuzzParams(300),
      );
      // Both ways out are exercised.
      expect(seen.taken).toBeGreaterThan(0);
      expect(seen.refused).toBeGreaterThan(0);
    }, fuzzTimeout(60_000));
  }
});

describe('manifest, index and config decoding: fixed cases', () => {
  it('names a map key holding ] as JSON (a case the fuzzer found in the test itself)', () => {
    expect(() => decodeImageIndex({ manifests: [], annotations: { ']': false } })).toThrow('image index field annotations["]"]: expected a string, got boolean false');
  });

  it('names the field of a layer whose digest is not a digest', () => {
    const doc = { schemaVersion: 2, config: { mediaType: 'x', digest: `sha256:${'a'.repeat(64)}`, size: 1 }, layers: [{ mediaType: 'x', digest: 'md5:1', size: 1 }] };
    expect(() => decodeImageManifest(doc, { ref: 'busybox', action: 'Cannot resolve image' })).toThrow(
      'Cannot resolve image "busybox": manifest field layers[0].digest: expected a sha256 digest, got the string "md5:1"',
    );
  });

  it('names the field of an Env that is not a list of strings, and drops nulls but the ones that reset', () => {
    const base = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } };
    expect(() => decodeImageConfig({ ...base, config: { Env: ['A=1', 2] } })).toThrow('image config field config.Env[1]: expected a string, got number 2');
    expect(decodeImageConfig({ ...base, history: null, config: { Env: null, Cmd: null, Labels: { a: 'b' } } })).toEqual({ ...base, config: { Cmd: null, Labels: { a: 'b' } } });
  });

  it('refuses a size that is negative or not whole, and a platform without an os', () => {
    const d = (over: object) => ({ schemaVersion: 2, manifests: [{ mediaType: 'x', digest: `sha256:${'a'.repeat(64)}`, size: 1, ...over }] });
    expect(() => decodeImageIndex(d({ size: -1 }))).toThrow('image index field manifests[0].size: expected a whole number from 0, got number -1');
    expect(() => decodeImageIndex(d({ size: 1.5 }))).toThrow(/manifests\[0\]\.size/);
    expect(() => decodeImageIndex(d({ platform: { architecture: 'amd64' } }))).toThrow('image index field manifests[0].platform.os: expected a string, got nothing');
  });
});
