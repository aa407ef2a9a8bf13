import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../base/errors.js';
import { parseCacheFrom, parseCacheTo } from '../../../cli/cache-spec.js';

/** CWD is the folder the command runs in: relative paths start from it. */
const CWD = '/w';


describe('--cache-from', () => {
  it('reads a bare reference as a registry cache', () => {
    expect(parseCacheFrom('reg.example/app:cache', CWD)).toEqual({ type: 'registry', ref: 'reg.example/app:cache' });
  });

  it('reads type=registry with ref=, and takes registry when type is left out', () => {
    expect(parseCacheFrom('type=registry,ref=reg.example/app:cache', CWD)).toEqual({ type: 'registry', ref: 'reg.example/app:cache' });
    expect(parseCacheFrom('ref=reg.example/app:cache', CWD)).toEqual({ type: 'registry', ref: 'reg.example/app:cache' });
  });

  it('reads type=local with src= made absolute', () => {
    expect(parseCacheFrom('type=local,src=cache-dir', CWD)).toEqual({ type: 'local', src: '/w/cache-dir' });
  });

  it('refuses a missing ref= or src= and unknown types, naming the problem', () => {
    expect(() => parseCacheFrom('type=registry', CWD)).toThrow(UsageError);
    expect(() => parseCacheFrom('type=registry,ref=', CWD)).toThrow(/without ref=/);
    expect(() => parseCacheFrom('type=local', CWD)).toThrow(/--cache-from type=local without src=/);
    expect(() => parseCacheFrom('type=oops', CWD)).toThrow(/type=oops: expected registry or local/);
  });

  it('refuses the gha, s3 and azblob backends before the build, naming registry and local instead', () => {
    for (const type of ['gha', 's3', 'azblob']) {
      expect(() => parseCacheFrom(`type=${type},scope=x`, CWD)).toThrow(
        expect.objectContaining({ message: `Cannot use --cache-from type=${type}: tbuild does not support the ${type} cache backend`, hint: expect.stringMatching(/type=registry,ref=REF.*type=local/) }),
      );
      expect(() => parseCacheTo(`type=${type},mode=max`, CWD)).toThrow(
        expect.objectContaining({ message: `Cannot use --cache-to type=${type}: tbuild does not support the ${type} cache backend`, hint: expect.stringMatching(/type=registry,ref=REF.*type=local.*type=inline/) }),
      );
    }
  });

  it('refuses attributes it does not implement, naming them', () => {
    expect(() => parseCacheFrom('type=registry,ref=r/x:c,registry.insecure=true', CWD)).toThrow(/attribute "registry.insecure" is not supported/);
    expect(() => parseCacheFrom('type=local,src=d,digest=sha256:00', CWD)).toThrow(/--cache-from type=local: attribute "digest"/);
    expect(() => parseCacheTo('type=registry,ref=r/x:c,compression-level=3', CWD)).toThrow(/--cache-to type=registry: attribute "compression-level"/);
    expect(() => parseCacheTo('type=local,dest=d,ref=r/x', CWD)).toThrow(/attribute "ref"/);
    expect(() => parseCacheTo('type=inline,mode=max', CWD)).toThrow(/type=inline with mode=max/);
    expect(parseCacheTo('type=inline,mode=min', CWD)).toEqual({ type: 'inline' });
  });
});

describe('--cache-to', () => {
  const defaults = { mode: 'min', compression: 'gzip', imageManifest: true, ociMediaTypes: true, ignoreError: false } as const;

  it('reads a bare reference as a registry cache with BuildKit defaults (mode=min, gzip, an OCI image manifest)', () => {
    expect(parseCacheTo('reg.example/app:cache', CWD)).toEqual({ type: 'registry', target: 'reg.example/app:cache', ...defaults });
  });

  it('reads every option of a registry cache', () => {
    expect(parseCacheTo('type=registry,ref=reg.example/app:cache,mode=max,compression=zstd,image-manifest=false,ignore-error=true', CWD)).toEqual({
      type: 'registry',
      target: 'reg.example/app:cache',
      mode: 'max',
      compression: 'zstd',
      imageManifest: false,
      ociMediaTypes: true,
      ignoreError: true,
    });
  });

  it('makes an index with Docker media types by default when oci-mediatypes=false, and refuses an image manifest with them', () => {
    expect(parseCacheTo('type=registry,ref=r,oci-mediatypes=false', CWD)).toEqual({ type: 'registry', target: 'r', ...defaults, imageManifest: false, ociMediaTypes: false });
    expect(() => parseCacheTo('type=registry,ref=r,oci-mediatypes=false,image-manifest=true', CWD)).toThrow(/an image manifest cache needs OCI media types/);
  });

  it('reads type=local with dest= made absolute, and type=inline without options', () => {
    expect(parseCacheTo('type=local,dest=out/cache,compression=uncompressed', CWD)).toEqual({
      type: 'local',
      target: '/w/out/cache',
      ...defaults,
      compression: 'uncompressed',
    });
    expect(parseCacheTo('type=inline', CWD)).toEqual({ type: 'inline' });
  });

  it('refuses bad values, naming the option and what it accepts', () => {
    expect(() => parseCacheTo('type=registry,ref=r,mode=all', CWD)).toThrow(/mode=all: expected min or max/);
    expect(() => parseCacheTo('type=registry,ref=r,compression=lz4', CWD)).toThrow(/compression=lz4: expected gzip, zstd, uncompressed/);
    expect(() => parseCacheTo('type=registry,ref=r,image-manifest=yes', CWD)).toThrow(/image-manifest="yes": expected true or false/);
    expect(() => parseCacheTo('type=registry,ref=r,ignore-error=maybe', CWD)).toThrow(/ignore-error="maybe": expected true or false/);
    expect(() => parseCacheTo('type=oops,bucket=b', CWD)).toThrow(/type=oops: expected registry, local or inline/);
    expect(() => parseCacheTo('type=registry,mode=max', CWD)).toThrow(/--cache-to type=registry without ref=/);
    expect(() => parseCacheTo('type=local', CWD)).toThrow(/--cache-to type=local without dest=/);
  });

  it('needs type= once options are given, as buildx does', () => {
    expect(() => parseCacheTo('ref=reg.example/app:cache', CWD)).toThrow(UsageError);
  });
});
