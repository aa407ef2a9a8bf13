import { Metadata, status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { asDiskFull, DiskFullError, DockerfileError, ExecError, RegistryError, SolveError, UsageError } from '../../../base/errors.js';
import { renderError } from '../../../cli/render-error.js';
import { errorFromTrailer, fromWireError, statusFor, toWireError } from '../../../remote/error-status.js';

function roundTrip(err: unknown): Error {
  const s = statusFor(err);
  const md = new Metadata();
  for (const [k, v] of Object.entries(s.metadata.getMap())) md.set(k, Buffer.isBuffer(v) ? v : Buffer.from(v));
  const back = errorFromTrailer(md);
  if (back === undefined) throw new Error('no error in the trailer');
  return back;
}

describe('remote error status', () => {
  it('maps codes to gRPC status codes', () => {
    expect(statusFor(new DockerfileError('bad', { code: 'DOCKERFILE_SYNTAX' })).code).toBe(status.INVALID_ARGUMENT);
    expect(statusFor(new RegistryError('no', { code: 'REGISTRY_AUTH' })).code).toBe(status.PERMISSION_DENIED);
    expect(statusFor(new Error('bug')).code).toBe(status.UNKNOWN);
  });

  it('rebuilds a DockerfileError with its location, so the CLI prints the same snippet', () => {
    const err = new DockerfileError('Cannot parse COPY: expected at least two arguments', {
      code: 'DOCKERFILE_INVALID',
      location: { file: 'Dockerfile', startLine: 3, endLine: 3 },
      hint: 'COPY SRC... DEST',
    });
    const back = roundTrip(err);
    expect(back).toBeInstanceOf(DockerfileError);
    expect(back).toMatchObject({ code: 'DOCKERFILE_INVALID', location: { file: 'Dockerfile', startLine: 3, endLine: 3 }, hint: 'COPY SRC... DEST' });
    expect(renderError(back, { debug: false })).toBe(renderError(err, { debug: false }));
  });

  it('reports a full disk as DISK_FULL with the path and hint, through a builder as on the machine that found it', () => {
    const enospc = Object.assign(new Error("ENOSPC: no space left on device, copyfile '/ctx/big' -> '/store/snapshots/a/fs/big'"), { code: 'ENOSPC', path: '/ctx/big', dest: '/store/snapshots/a/fs/big' });
    const err = asDiskFull(enospc);
    expect(err).toBeInstanceOf(DiskFullError);
    expect(err).toMatchObject({ code: 'DISK_FULL', path: '/store/snapshots/a/fs/big', message: 'Cannot write "/store/snapshots/a/fs/big": the disk is full (no space left on device)' });
    expect(asDiskFull(new Error('other'))).toBeInstanceOf(Error);
    expect(asDiskFull(new Error('other'))).not.toBeInstanceOf(DiskFullError);
    expect(statusFor(err).code).toBe(status.RESOURCE_EXHAUSTED);
    const back = roundTrip(err);
    expect(back).toBeInstanceOf(DiskFullError);
    expect(back).toMatchObject({ path: '/store/snapshots/a/fs/big', hint: 'free space on that disk (tbuild prune removes build cache) and build again' });
    expect(renderError(back, { debug: false })).toBe(renderError(err, { debug: false }));
    // A bare ENOSPC reaching the CLI is no internal error either.
    expect(renderError(enospc, { debug: false })).toMatch(/^ERROR: Cannot write "\/store\/snapshots\/a\/fs\/big": the disk is full/);
  });

  it('keeps a SolveError with its ExecError cause and output tail', () => {
    const exec = new ExecError('RUN failed with exit code 2', { code: 'EXEC_NONZERO_EXIT', argv: ['sh', '-c', 'make'], exitCode: 2, outputTail: ['make: *** all'] });
    const err = new SolveError('Cannot build "[2/3] RUN make"', { vertexName: '[2/3] RUN make', vertexDigest: 'sha256:ab', location: { file: 'Dockerfile', startLine: 5, endLine: 6 }, cause: exec });
    const back = roundTrip(err);
    expect(back).toBeInstanceOf(SolveError);
    expect(back.cause).toBeInstanceOf(ExecError);
    expect(back.cause).toMatchObject({ exitCode: 2, argv: ['sh', '-c', 'make'], outputTail: ['make: *** all'] });
    expect(renderError(back, { debug: false })).toBe(renderError(err, { debug: false }));
  });

  it('turns unknown errors into plain errors and unknown JSON into an internal error', () => {
    expect(fromWireError(toWireError(new TypeError('x')))).toMatchObject({ message: 'x' });
    expect(fromWireError(toWireError(new UsageError('u')))).toBeInstanceOf(UsageError);
    expect(fromWireError('garbage').name).toBe('InternalError');
  });
});
