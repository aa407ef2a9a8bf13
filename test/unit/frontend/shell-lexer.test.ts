import { describe, expect, it } from 'vitest';
import { ShellLexer } from '../../../frontend/shell/index.js';

describe('ShellLexer', () => {
  it('uses a backtick escape token', () => {
    const lexer = new ShellLexer({ escapeToken: '`' });
    expect(lexer.processWord('a`$b \\c', new Map()).result).toBe('a$b \\c');
  });

  it('accepts a lookup function as the environment', () => {
    const lexer = new ShellLexer();
    const res = lexer.processWord('${A}-${B:-x}', (name) => (name === 'A' ? '1' : undefined));
    expect(res.result).toBe('1-x');
    expect([...res.unmatched]).toEqual(['B']);
  });

  it('splits unquoted expansions into words', () => {
    expect(new ShellLexer().processWords('a $V "b c"', new Map([['V', 'x y']]))).toEqual(['a', 'x', 'y', 'b c']);
  });
});
