import { describe, expect, it } from 'vitest';
import { parseOutput } from '../../../cli/output-spec.js';

const gzip = { compression: 'gzip', forceCompression: false };

describe('--output attributes', () => {
  it('reads push-by-digest, name-canonical and tar with Go booleans', () => {
    expect(parseOutput('type=registry,name=r/x,push-by-digest=true,name-canonical=1', [])).toEqual({ type: 'image', names: ['r/x'], push: true, image: gzip, pushByDigest: true, nameCanonical: true });
    expect(parseOutput('type=image,name=r/x,push-by-digest=false', [])).toEqual({ type: 'image', names: ['r/x'], push: false, image: gzip });
    expect(parseOutput('type=oci,dest=out,tar=false', [])).toEqual({ type: 'oci', dest: 'out', names: [], image: gzip, tar: false });
    expect(parseOutput('type=docker,dest=out,tar=F', [])).toEqual({ type: 'docker', dest: 'out', names: [], image: gzip, tar: false });
    expect(parseOutput('type=oci,dest=o.tar,tar=true,oci-mediatypes=true', [])).toEqual({ type: 'oci', dest: 'o.tar', names: [], image: gzip });
  });

  it('names image, oci and docker outputs by the -t tags over their own name=, as buildx does', () => {
    expect(parseOutput('type=registry,name=r/own', ['r/tag:1'])).toMatchObject({ type: 'image', names: ['r/tag:1'] });
    expect(parseOutput('type=oci,dest=o.tar,name=own', ['t1', 't2'])).toMatchObject({ type: 'oci', names: ['t1', 't2'] });
    expect(parseOutput('type=oci,dest=o.tar,"name=a,b"', [])).toMatchObject({ names: ['a', 'b'] });
  });

  it('reads oci-mediatypes=false on every image output, and refuses it with oci-artifact=true', () => {
    for (const spec of ['type=image,name=x,oci-mediatypes=false', 'type=registry,name=x,oci-mediatypes=0', 'type=oci,dest=o,oci-mediatypes=false', 'type=docker,dest=o,oci-mediatypes=false']) {
      expect(parseOutput(spec, [])).toMatchObject({ image: { ...gzip, ociMediaTypes: false } });
    }
    expect(parseOutput('type=docker,oci-mediatypes=false', [])).toMatchObject({ type: 'load', image: { ociMediaTypes: false } });
    expect(() => parseOutput('type=image,name=x,oci-mediatypes=false,oci-artifact=true', [])).toThrow(/oci-artifact=true with oci-mediatypes=false/);
    expect(() => parseOutput('type=image,name=x,oci-mediatypes=maybe', [])).toThrow(/oci-mediatypes="maybe"/);
  });

  it('refuses what it does not implement, naming the attribute', () => {
    expect(() => parseOutput('type=docker,tar=false', [])).toThrow(/without dest=/);
    expect(() => parseOutput('type=oci,dest=-,tar=false', [])).toThrow(/tar=false with dest=-/);
    expect(() => parseOutput('type=oci,dest=o,push-by-digest=true', [])).toThrow(/type=oci: attribute "push-by-digest" is not supported/);
    expect(() => parseOutput('type=image,name=x,store=false', [])).toThrow(/attribute "store" is not supported/);
    expect(() => parseOutput('type=docker,dest=o,context=remote', [])).toThrow(/attribute "context"/);
    expect(() => parseOutput('type=tar,dest=o,compression=zstd', [])).toThrow(/type=tar: attribute "compression"/);
    expect(() => parseOutput('type=image,name=x,push=maybe', [])).toThrow(/push="maybe"/);
  });
});
