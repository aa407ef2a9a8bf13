import { describe, expect, it } from 'vitest';
import { parseBuildCommand } from '../../../cli/build-command.js';
import { normalizedNameProblem, referenceProblem } from '../../../cli/image-names.js';

const PLACE = { cwd: '/w', env: {} };

describe('image name checks', () => {
  it("answers as distribution's reference.Parse does", () => {
    expect(referenceProblem('Bad Name')).toBe('invalid reference format');
    expect(referenceProblem('Upper')).toBe('repository name must be lowercase');
    expect(referenceProblem('')).toBe('repository name must have at least one component');
    expect(referenceProblem(`r/${'a'.repeat(256)}`)).toBe('repository name must not be more than 255 characters');
    expect(referenceProblem('x:')).toBe('invalid reference format');
    // A first component in uppercase is a host, as distribution reads it.
    expect(referenceProblem('UPPER/case')).toBeUndefined();
    for (const ok of ['busybox', 'r.example:5000/a/b-c_d:v1.2', `a@sha256:${'0'.repeat(64)}`, '[::1]:5000/a']) expect(referenceProblem(ok), ok).toBeUndefined();
  });

  it('answers as ParseNormalizedNamed does for output names', () => {
    expect(normalizedNameProblem('Bad Name')).toBe('invalid reference format: repository name (library/Bad Name) must be lowercase');
    expect(normalizedNameProblem('upper/CASE:1')).toBe('invalid reference format: repository name (upper/CASE) must be lowercase');
    expect(normalizedNameProblem('0'.repeat(64))).toMatch(/cannot specify 64-byte hexadecimal strings/);
    expect(normalizedNameProblem('UPPER/case')).toBeUndefined();
    expect(normalizedNameProblem('localhost/a:1')).toBeUndefined();
  });

  it('fails the command line before any build, with buildx messages', () => {
    expect(() => parseBuildCommand(['-t', 'Bad Name', '.'], PLACE)).toThrow(expect.objectContaining({ name: 'UsageError', message: 'Cannot use -t "Bad Name": invalid tag "Bad Name": invalid reference format' }));
    expect(() => parseBuildCommand(['-t', 'UPPER', '.'], PLACE)).toThrow('invalid tag "UPPER": repository name must be lowercase');
    expect(() => parseBuildCommand(['-t', 'x', '-t', 'upper/CASE', '--push', '.'], PLACE)).toThrow('invalid tag "upper/CASE": repository name must be lowercase');
    expect(() => parseBuildCommand(['-o', 'type=oci,dest=o.tar,name=Bad Name', '.'], PLACE)).toThrow('Cannot use --output name="Bad Name": failed to parse Bad Name');
  });

  it('refuses a push without a name, as buildx does', () => {
    for (const args of [['--push'], ['-o', 'type=registry'], ['-o', 'type=image,push=true'], ['--push=1', '-o', 'type=image']]) {
      expect(() => parseBuildCommand([...args, '.'], PLACE), args.join(' ')).toThrow('Cannot push the image: tag is needed when pushing to registry');
    }
    expect(parseBuildCommand(['-o', 'type=image,push=false', '.'], PLACE).request.outputs).toHaveLength(1);
    expect(parseBuildCommand(['--push', '-t', 'r/x', '.'], PLACE).request.outputs).toHaveLength(1);
  });
});
