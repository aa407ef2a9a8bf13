import { describe, expect, it } from 'vitest';
import { DockerfileError } from '../../../base/errors.js';
import { parseDockerfile } from '../../../frontend/parser/index.js';
import { parseDuration, parsePortSpec, parseStages, type Instruction } from '../../../frontend/instructions/index.js';

function parse(text: string) {
  return parseStages(parseDockerfile(text, { file: 'Dockerfile' }).ast, 'Dockerfile');
}

function first(text: string): Instruction {
  const i = parse(`FROM scratch\n${text}`).stages[0]?.instructions[0];
  if (i === undefined) throw new Error('no instruction');
  return i;
}

function catchError(fn: () => unknown): DockerfileError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DockerfileError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('instructions', () => {
  it('groups stages and keeps meta ARGs apart', () => {
    const p = parse('ARG V=1\nFROM --platform=$BUILDPLATFORM busybox:$V AS Build\nRUN make\nFROM scratch\nCOPY --from=build /a /b\n');
    expect(p.metaArgs[0]?.args).toEqual([{ key: 'V', value: '1' }]);
    expect(p.stages).toHaveLength(2);
    expect(p.stages[0]?.from).toMatchObject({ baseName: 'busybox:$V', stageName: 'Build', platform: '$BUILDPLATFORM', asKeyword: 'AS' });
    expect(p.stages[1]?.instructions[0]).toMatchObject({ kind: 'copy', from: 'build', dest: '/b', sources: [{ type: 'path', path: '/a' }] });
  });

  it('reads ENV and LABEL pairs including the legacy form', () => {
    expect(first('ENV A=1 B="x y"')).toMatchObject({ kind: 'env', pairs: [{ key: 'A', value: '1', noDelim: false }, { key: 'B', value: '"x y"', noDelim: false }] });
    expect(first('ENV C hello world')).toMatchObject({ pairs: [{ key: 'C', value: 'hello world', noDelim: true }] });
    expect(first('LABEL a=b')).toMatchObject({ kind: 'label', pairs: [{ key: 'a', value: 'b' }] });
  });

  it('reads shell and exec forms', () => {
    expect(first('RUN echo hi')).toMatchObject({ kind: 'run', args: ['echo hi'], prependShell: true });
    expect(first('CMD ["a", "b"]')).toMatchObject({ kind: 'cmd', args: ['a', 'b'], prependShell: false });
    expect(first('SHELL ["/bin/bash", "-c"]')).toMatchObject({ kind: 'shell', shell: ['/bin/bash', '-c'] });
    expect(catchError(() => first('SHELL /bin/bash')).message).toMatch(/JSON form/);
  });

  it('reads COPY flags and heredocs', () => {
    const c = first('COPY --chown=1:2 --chmod=644 --link --exclude=*.md --exclude=x <<EOT a.txt /dst/\nhello\nEOT\n');
    expect(c).toMatchObject({ kind: 'copy', chown: '1:2', chmod: '644', link: true, excludes: ['*.md', 'x'], dest: '/dst/' });
    if (c.kind !== 'copy') throw new Error('not copy');
    expect(c.sources[0]).toMatchObject({ type: 'heredoc', heredoc: { name: 'EOT', content: 'hello\n' } });
    expect(c.sources[1]).toEqual({ type: 'path', path: 'a.txt' });
  });

  it('reports an unknown flag with a suggestion and location', () => {
    const err = catchError(() => parse('FROM scratch\n\nCOPY --form=build /a /b\n'));
    // BuildKit suggests the flag name without its dashes.
    expect(err.message).toBe('unknown flag: --form (did you mean from?)');
    expect(err.location).toEqual({ file: 'Dockerfile', startLine: 3, endLine: 3, column: 1 });
  });

  it('reports an unknown instruction with the nearest one', () => {
    const err = catchError(() => parse('FROM scratch\nCOPPY a b\n'));
    expect(err.message).toBe('unknown instruction: COPPY (did you mean COPY?)');
    expect(err.location?.startLine).toBe(2);
  });

  it('rejects instructions before FROM other than ARG', () => {
    expect(catchError(() => parse('RUN x\nFROM scratch\n')).message).toMatch(/no build stage/);
  });

  it('reads HEALTHCHECK options and NONE', () => {
    expect(first('HEALTHCHECK --interval=5s --timeout=1m30s --retries=3 CMD curl -f x')).toMatchObject({
      kind: 'healthcheck',
      health: { test: ['CMD-SHELL', 'curl -f x'], interval: 5e9, timeout: 90e9, retries: 3 },
    });
    expect(first('HEALTHCHECK NONE')).toMatchObject({ health: { test: ['NONE'] } });
    expect(catchError(() => first('HEALTHCHECK --interval=5s NONE')).message).toMatch(/unknown flag: --interval/);
    expect(catchError(() => first('HEALTHCHECK --retries=-1 CMD x')).message).toMatch(/cannot be negative/);
  });

  it('reads ONBUILD triggers and refuses chained ones', () => {
    expect(first('ONBUILD RUN echo hi')).toMatchObject({ kind: 'onbuild', expression: 'RUN echo hi' });
    expect(catchError(() => first('ONBUILD ONBUILD RUN x')).message).toMatch(/Chaining ONBUILD/);
  });

  it('validates stage names', () => {
    expect(catchError(() => parse('FROM busybox AS 1abc\n')).message).toMatch(/invalid name for build stage/);
  });

  it('parses ports, ranges and protocols', () => {
    expect(parsePortSpec('80')?.ports).toEqual(['80/tcp']);
    expect(parsePortSpec('53/udp')?.ports).toEqual(['53/udp']);
    expect(parsePortSpec('8000-8002/tcp')?.ports).toEqual(['8000/tcp', '8001/tcp', '8002/tcp']);
    expect(parsePortSpec('127.0.0.1:80:8080')).toMatchObject({ ports: ['8080/tcp'], hostPart: true });
    expect(parsePortSpec('80/foo')).toBeUndefined();
    expect(parsePortSpec('70000')).toBeUndefined();
  });

  it('parses Go durations', () => {
    expect(parseDuration('1h2m3s')).toBe(3723e9);
    expect(parseDuration('500ms')).toBe(5e8);
    expect(parseDuration('1.5s')).toBe(1.5e9);
    expect(parseDuration('abc')).toBeUndefined();
  });
});
