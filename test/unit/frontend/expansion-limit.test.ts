import { describe, expect, it } from 'vitest';
import { DockerfileError } from '../../../base/errors.js';
import { compileDockerfile, MAX_EXPANSION_LENGTH, MAX_TOTAL_EXPANSION, PatternMatcher, ShellLexer } from '../../../frontend/index.js';
import { compileOptions } from './compile-fixture.js';

async function compileError(text: string, buildArgs: Map<string, string> = new Map()): Promise<DockerfileError> {
  const err: unknown = await compileDockerfile(text, compileOptions({ buildArgs })).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof DockerfileError)) throw new Error(`expected a DockerfileError, got ${String(err)}`);
  return err;
}

// Each test's time limit is its hang guard: without the bounds these take hours (BuildKit's frontend too).
describe('bounded expansion', () => {
  it('stops a 10 MB build argument expanded many times with an error at its line', async () => {
    const big = 'x'.repeat(10 * 1024 * 1024);
    const err = await compileError(`FROM busybox\nARG BIG\nENV A=${'$BIG'.repeat(1000)}\nRUN true\n`, new Map([['BIG', big]]));
    expect(err.message).toMatch(/^Cannot expand "(\$BIG)+"…: the result is longer than 1048576 characters, the limit of one expansion$/);
    expect(err.location).toMatchObject({ file: 'Dockerfile', startLine: 3, endLine: 3 });
  }, 30_000);

  it('stops a chain of arguments that doubles a value at the line that passes the limit', async () => {
    const chain = Array.from({ length: 40 }, (_, i) => `ARG V${i + 1}=$V${i}$V${i}`).join('\n');
    const err = await compileError(`ARG V0=${'y'.repeat(1000)}\n${chain}\nFROM busybox\n`);
    // 1000 · 2^11 passes 1 MiB: V11 is on line 12.
    expect(err.location?.startLine).toBe(12);
    expect(err.message).toContain('the limit of one expansion');
  }, 30_000);

  it('bounds what all expansions of one Dockerfile produce together', async () => {
    const arg = 'z'.repeat(MAX_EXPANSION_LENGTH - 10);
    const envs = Array.from({ length: 80 }, (_, i) => `ENV E${i}=$BIG`).join('\n');
    const err = await compileError(`FROM busybox\nARG BIG\n${envs}\n`, new Map([['BIG', arg]]));
    expect(err.message).toContain(`produce more than ${MAX_TOTAL_EXPANSION} characters in all`);
    expect(err.location?.startLine).toBeGreaterThan(2);
  }, 60_000);

  it('bounds ${v//p/r} whose replacement multiplies the value', () => {
    const lexer = new ShellLexer({ maxLength: 10_000 });
    const env = new Map([['A', 'a'.repeat(5000)], ['R', 'r'.repeat(5000)]]);
    expect(() => lexer.processWord('${A//a/$R}', env)).toThrow(/longer than 10000 characters/);
    // $0 in the replacement (escaped from the lexer) is the whole match.
    expect(() => lexer.processWord('${A//*/\\$0\\$0\\$0}', env)).toThrow(/longer than 10000 characters/);
    expect(lexer.processWord('${A//*/\\$0}', env).result).toBe(`\\${'a'.repeat(5000)}`);
    expect(lexer.processWord('${A//a/b}', env).result).toBe('b'.repeat(5000));
  });

  it('lets a word longer than the limit keep its own length', () => {
    const lexer = new ShellLexer({ maxLength: 10 });
    expect(lexer.processWord('x'.repeat(50), new Map()).result).toBe('x'.repeat(50));
  });

  it('trims and replaces with patterns that backtracking takes hours on (regression)', () => {
    const lexer = new ShellLexer();
    const env = new Map([['A', 'a'.repeat(100_000)]]);
    expect(lexer.processWord('${A#*a*a*a*a*a*a*c}', env).result.length).toBe(100_000);
    expect(lexer.processWord('${A%%*a*a*a*a*a*a*c}', env).result.length).toBe(100_000);
    expect(lexer.processWord('${A/*a*a*a*a*a*a*c/x}', env).result.length).toBe(100_000);
    expect(lexer.processWord('${A##*a}', env).result).toBe('');
  }, 30_000);

  it('matches .dockerignore patterns that backtracking takes hours on (regression)', () => {
    const name = 'a'.repeat(4000);
    expect(new PatternMatcher(['*a*a*a*a*a*a*a*c']).matchesOrParentMatches(name)).toBe(false);
    expect(new PatternMatcher(['**/**/**/**/**/**/x']).matchesOrParentMatches(`${'d/'.repeat(300)}y`)).toBe(false);
    expect(new PatternMatcher(['*a*a*a*a*a*a*a*']).matchesOrParentMatches(name)).toBe(true);
  }, 30_000);
});
