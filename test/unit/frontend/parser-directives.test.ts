import { describe, expect, it } from 'vitest';
import { DockerfileError } from '../../../base/errors.js';
import { dumpAst, parseDockerfile } from '../../../frontend/parser/index.js';

const parse = (text: string): ReturnType<typeof parseDockerfile> => parseDockerfile(text, { file: 'Dockerfile' });

function catchError(fn: () => unknown): DockerfileError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DockerfileError) return err;
    throw err;
  }
  throw new Error('expected a DockerfileError');
}

describe('parser directives', () => {
  it('collects syntax, escape and check directives at the top', () => {
    const res = parse('# syntax=docker/dockerfile:1\n# escape=`\n# check=skip=all\nFROM a\nRUN x `\n  y\n');
    expect(res.directives).toEqual({ syntax: 'docker/dockerfile:1', escape: '`', check: 'skip=all' });
    expect(res.escapeToken).toBe('`');
    expect(dumpAst(res.ast)).toBe('(from "a")\n(run "x   y")');
  });

  it('accepts case-insensitive keys and spaces around =', () => {
    expect(parse('#  ESCAPE  =  `\nFROM a\n').escapeToken).toBe('`');
  });

  it('stops looking after a blank line, an ordinary comment or an instruction', () => {
    expect(parse('\n# escape=`\nFROM a\n').escapeToken).toBe('\\');
    expect(parse('# hello\n# escape=`\nFROM a\n').escapeToken).toBe('\\');
    expect(parse('FROM a\n# escape=`\n').directives).toEqual({});
  });

  it('rejects a repeated directive and a bad escape token', () => {
    expect(catchError(() => parse('# escape=`\n# escape=\\\nFROM a\n')).location?.startLine).toBe(2);
    expect(catchError(() => parse('# escape=x\nFROM a\n')).code).toBe('DOCKERFILE_SYNTAX');
  });
});

describe('error locations', () => {
  it('points at the instruction line and column', () => {
    const err = catchError(() => parse('FROM a\n\n  CMD [ "a", 1 ]\n'));
    expect(err.code).toBe('DOCKERFILE_SYNTAX');
    expect(err.location).toEqual({ file: 'Dockerfile', startLine: 3, endLine: 3, column: 3 });
  });

  it('covers every line of a continued instruction', () => {
    const err = catchError(() => parse('FROM a\nENV a=1 \\\n  b\n'));
    expect(err.message).toContain("can't find = in");
    expect(err.location).toMatchObject({ startLine: 2, endLine: 3, column: 1 });
  });

  it('reports an empty file and a legacy ENV without a value', () => {
    expect(catchError(() => parse('')).message).toContain('file with no instructions');
    expect(catchError(() => parse('FROM a\nENV PATH\n')).location).toMatchObject({ startLine: 2, endLine: 2 });
  });

  it('warns about empty continuation lines with their location', () => {
    const { warnings } = parse('FROM a\nRUN a \\\n\n  b\n');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.location).toMatchObject({ startLine: 4 });
    expect(warnings[0]?.url).toContain('no-empty-continuation');
  });
});
