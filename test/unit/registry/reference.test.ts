import { describe, expect, it } from 'vitest';
import { RegistryError } from '../../../base/errors.js';
import { familiarName, familiarString, formatReference, parseReference } from '../../../registry/reference.js';

const D = 'sha256:' + 'a'.repeat(64);

// Cases follow Docker's ParseNormalizedNamed + TagNameOnly behaviour.
const NORMALISED: readonly (readonly [string, string, string])[] = [
  ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
  ['library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['docker.io/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['index.docker.io/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['docker.io/library/busybox:latest', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['foo/bar', 'docker.io/foo/bar:latest', 'foo/bar:latest'],
  ['foo/bar/baz', 'docker.io/foo/bar/baz:latest', 'foo/bar/baz:latest'],
  ['localhost/foo', 'localhost/foo:latest', 'localhost/foo:latest'],
  ['localhost:5000/foo', 'localhost:5000/foo:latest', 'localhost:5000/foo:latest'],
  ['127.0.0.1:5000/library/busybox:v1', '127.0.0.1:5000/library/busybox:v1', '127.0.0.1:5000/library/busybox:v1'],
  ['gcr.io/distroless/static:nonroot', 'gcr.io/distroless/static:nonroot', 'gcr.io/distroless/static:nonroot'],
  ['example.com/a.b_c__d-e---f', 'example.com/a.b_c__d-e---f:latest', 'example.com/a.b_c__d-e---f:latest'],
  [`busybox@${D}`, `docker.io/library/busybox@${D}`, `busybox@${D}`],
  [`busybox:1.36@${D}`, `docker.io/library/busybox:1.36@${D}`, `busybox:1.36@${D}`],
  [`host:5000/repo@${D}`, `host:5000/repo@${D}`, `host:5000/repo@${D}`],
  ['Foo/bar', 'Foo/bar:latest', 'Foo/bar:latest'],
  ['[::1]:5000/foo', '[::1]:5000/foo:latest', '[::1]:5000/foo:latest'],
  ['localhost:5000', 'docker.io/library/localhost:5000', 'localhost:5000'],
  ['busybox:TAG_with.dots-1', 'docker.io/library/busybox:TAG_with.dots-1', 'busybox:TAG_with.dots-1'],
];

const INVALID: readonly (readonly [string, RegExp])[] = [
  ['', /at least one component/],
  ['Busybox', /must be lowercase/],
  ['docker.io/Foo/bar', /must be lowercase/],
  ['a'.repeat(64), /64-byte hexadecimal/],
  ['busybox:', /invalid tag/],
  ['busybox:-x', /invalid tag/],
  [`busybox:${'t'.repeat(129)}`, /invalid tag/],
  ['busybox@sha256:abc', /unsupported digest/],
  ['busybox@notadigest', /invalid digest/],
  ['foo//bar', /invalid reference format/],
  ['foo/bar/', /invalid reference format/],
  ['-foo/bar', /invalid reference format/],
  ['foo_/bar', /invalid reference format/],
  [':tag', /invalid reference format/],
  ['foo bar', /invalid reference format/],
  ['a:b:c', /invalid reference format/],
  [`example.com/${'a'.repeat(250)}`, /not be more than 255/],
  ['-host.com:5000/foo', /invalid registry host/],
];

describe('parseReference', () => {
  it.each(NORMALISED)('normalises %s', (input, full, familiar) => {
    const ref = parseReference(input);
    expect(formatReference(ref)).toBe(full);
    expect(familiarString(ref)).toBe(familiar);
  });

  it.each(INVALID)('rejects %j', (input, message) => {
    let error: unknown;
    try {
      parseReference(input);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({ code: 'REFERENCE_INVALID', ref: input });
    expect(error instanceof Error ? error.message : '').toMatch(message);
  });

  it('splits registry, repository, tag and digest', () => {
    expect(parseReference(`127.0.0.1:5000/a/b:c@${D}`)).toEqual({ registry: '127.0.0.1:5000', repository: 'a/b', tag: 'c', digest: D });
    expect(parseReference(`a@${D}`)).toEqual({ registry: 'docker.io', repository: 'library/a', digest: D });
  });

  it('gives the familiar name', () => {
    expect(familiarName(parseReference('docker.io/library/busybox'))).toBe('busybox');
    expect(familiarName(parseReference('docker.io/library/a/b'))).toBe('library/a/b');
    expect(familiarName(parseReference('quay.io/x/y'))).toBe('quay.io/x/y');
  });
});
