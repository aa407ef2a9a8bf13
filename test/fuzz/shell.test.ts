import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DockerfileError } from '../../base/errors.js';
import { ShellLexer } from '../../frontend/index.js';
import { fuzzParams, fuzzTimeout } from './budget.js';

// Words made of the characters the lexer treats specially, names it looks up, and plain text.
const piece = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('$', '{', '}', ':', '-', '+', '?', '#', '%', '/', '//', '*', "'", '"', '\\', '`', ' ', '\t', '\n') },
  { weight: 3, arbitrary: fc.constantFrom('A', 'B', 'EMPTY', 'UNSET', '_1', '0', '@', 'a', 'é', '\u{1F600}') },
  { weight: 2, arbitrary: fc.constantFrom('${A}', '$A', '${A:-x}', '${B:+y}', '${A#*a}', '${A%%a*}', '${A//a/$B}', '${UNSET?msg}', '${A/a*/\\$0$0}') },
);
const word = fc.array(piece, { maxLength: 24 }).map((p) => p.join(''));
const value = fc.array(fc.constantFrom('a', 'b', ' ', '*', '$', '\n', '/', 'é'), { maxLength: 40 }).map((p) => p.join(''));
const env = fc.record({ A: value, B: value }).map(({ A, B }) => new Map([['A', A], ['B', B], ['EMPTY', '']]));
const lexerOptions = fc.record({
  escapeToken: fc.constantFrom('\\', '`'),
  rawQuotes: fc.boolean(),
  rawEscapes: fc.boolean(),
  skipUnsetEnv: fc.boolean(),
  skipProcessQuotes: fc.boolean(),
  maxLength: fc.constantFrom(16, 200, 100_000),
});

type Outcome = { ok: true; result: string; words: readonly string[] } | { ok: false; message: string };

function run(lexer: ShellLexer, w: string, vars: ReadonlyMap<string, string>): Outcome {
  try {
    const r = lexer.processWord(w, vars);
    return { ok: true, result: r.result, words: lexer.processWords(w, vars) };
  } catch (err) {
    // Anything but the Dockerfile error type is a bug in the lexer.
    if (!(err instanceof DockerfileError)) throw err;
    return { ok: false, message: err.message };
  }
}

describe('shell expansion under random words', () => {
  it('returns or throws a DockerfileError, deterministically, within the length limit', () => {
    fc.assert(
      fc.property(lexerOptions, word, env, (options, w, vars) => {
        const first = run(new ShellLexer(options), w, vars);
        expect(run(new ShellLexer(options), w, vars)).toEqual(first);
        if (first.ok) expect(first.result.length).toBeLessThanOrEqual(Math.max(options.maxLength, w.length) + w.length);
      }),
      fuzzParams(1500),
    );
  }, fuzzTimeout(60_000));

  it('keeps a lexer within its total budget over many expansions', () => {
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 30 }), env, (words, vars) => {
        const lexer = new ShellLexer({ maxLength: 1000, maxTotal: 300 });
        let produced = 0;
        for (const w of words) {
          const r = run(lexer, w, vars);
          if (!r.ok) return;
          produced += r.result.length;
        }
        // processWords counts too, so the results seen are at most half of the budget plus the last word's overshoot.
        expect(produced).toBeLessThanOrEqual(300 + Math.max(1000, ...words.map((x) => x.length)) * 2);
      }),
      fuzzParams(1000),
    );
  }, fuzzTimeout(60_000));
});
