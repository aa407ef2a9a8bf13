import { describe, expect, it } from 'vitest';
import { DockerfileError } from '../../../base/errors.js';
import { mountLocation, parseMountFlag } from '../../../frontend/instructions/index.js';

const at = { file: 'Dockerfile', startLine: 3, endLine: 3 };
const id = (v: string): string => v;

function fail(raw: string): DockerfileError {
  try {
    parseMountFlag(raw, mountLocation(at, `RUN --mount=${raw} true`, raw), id);
  } catch (err) {
    if (err instanceof DockerfileError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('RUN --mount option parsing', () => {
  it('defaults to a read-only bind from the context', () => {
    expect(parseMountFlag('target=/src,source=app', at, id)).toEqual({ type: 'bind', target: '/src', source: 'app', readwrite: false });
    expect(parseMountFlag('type=bind,dst=/x,from=build,rw', at, id)).toMatchObject({ from: 'build', readwrite: true });
  });

  it('reads cache options with BuildKit defaults', () => {
    expect(parseMountFlag('type=cache,target=/root/.cache', at, id)).toEqual({
      type: 'cache', target: '/root/.cache', id: '/root/.cache', source: '', readonly: false, sharing: 'shared', mode: 0o755, uid: 0, gid: 0,
    });
    expect(parseMountFlag('type=cache,target=/c,id=x,sharing=locked,mode=0700,uid=1000,gid=1000,ro', at, id)).toMatchObject({
      id: 'x', sharing: 'locked', mode: 0o700, uid: 1000, gid: 1000, readonly: true,
    });
  });

  it('reads tmpfs, secret and ssh mounts', () => {
    expect(parseMountFlag('type=tmpfs,target=/t,size=64m', at, id)).toEqual({ type: 'tmpfs', target: '/t', sizeBytes: 64 * 1024 * 1024 });
    expect(parseMountFlag('type=secret,id=tok', at, id)).toMatchObject({ target: '/run/secrets/tok', required: false, mode: 0o400 });
    expect(parseMountFlag('type=secret,id=tok,env=TOKEN,required', at, id)).toMatchObject({ target: null, env: 'TOKEN', required: true });
    expect(parseMountFlag('type=secret,target=/etc/pw', at, id)).toMatchObject({ id: 'pw' });
    expect(parseMountFlag('type=ssh', at, id)).toMatchObject({ id: 'default', target: null, mode: 0o600 });
  });

  it('expands values', () => {
    expect(parseMountFlag('type=cache,target=$D', at, (v) => v.replace('$D', '/go'))).toMatchObject({ target: '/go' });
  });

  it('points errors at the flag with Dockerfile:LINE:COL', () => {
    const unknown = fail('type=cache,target=/c,colour=red');
    expect(unknown.message).toContain("unexpected key 'colour'");
    expect(unknown.location).toEqual({ ...at, column: 5 });
    expect(fail('type=cache,target=/c,sharing=sometimes').message).toContain('unsupported sharing value "sometimes"');
    expect(fail('type=volume,target=/v').message).toContain('unsupported mount type "volume"');
    expect(fail('type=tmpfs,target=/t,from=x').message).toContain("unexpected key 'from' for mount type \"tmpfs\"");
    expect(fail('type=bind,source=x').message).toContain('requires a target');
    expect(fail('type=cache,target=/c,mode=rwx').message).toContain('invalid value for mode');
  });

  it('words errors as BuildKit does: a suggested type, and no variable in from', () => {
    expect(fail('type=tmp,target=/t').message).toBe('unsupported mount type "tmp" (did you mean tmpfs?)');
    expect(fail('typ=tmpfs').message).toBe("unexpected key 'typ' in 'typ=tmpfs' (did you mean type?)");
    expect(fail('from=$stage,target=/s').message).toBe("'from' doesn't support variable expansion, define alias stage instead");
    expect(fail('from=pre${x}post,target=/s').message).toContain("'from' doesn't support variable expansion");
    // A `$` at the very end is no variable.
    expect(parseMountFlag('from=odd$,target=/s', at, id)).toMatchObject({ from: 'odd$' });
  });
});
