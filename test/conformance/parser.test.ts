import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DockerfileError } from '../../base/errors.js';
import { dumpAst, parseDockerfile, parseWords } from '../../frontend/parser/index.js';
import { conformanceDir } from './conformance-root.js';

const dir = conformanceDir('buildkit-parser');

interface ExtraCases {
  line_numbers: {
    file: string;
    root: { startLine: number; endLine: number };
    instructions: { startLine: number; endLine: number }[];
  };
  parse_words: { input: string; words: string[] }[];
  empty_continuation_warnings: { dockerfile: string; warning_count: number; warnings_contain: string[][] };
  line_too_long: { error: string };
  negative_errors_hint: Record<string, string>;
}

const parse = (text: string, file = 'Dockerfile'): ReturnType<typeof parseDockerfile> =>
  parseDockerfile(text, { file });

describe('buildkit-parser conformance', () => {
  const base = dir;
  const extra = JSON.parse(readFileSync(path.join(base, 'extra-cases.json'), 'utf8')) as ExtraCases;

  describe('testfiles (positive)', () => {
    for (const name of readdirSync(path.join(base, 'testfiles')).sort()) {
      it(name, () => {
        const src = readFileSync(path.join(base, 'testfiles', name, 'Dockerfile'), 'utf8');
        const expected = readFileSync(path.join(base, 'testfiles', name, 'result'), 'utf8');
        expect(dumpAst(parse(src).ast) + '\n').toBe(expected);
      });
    }
  });

  describe('testfiles-negative', () => {
    for (const name of readdirSync(path.join(base, 'testfiles-negative')).sort()) {
      it(name, () => {
        const src = readFileSync(path.join(base, 'testfiles-negative', name, 'Dockerfile'), 'utf8');
        const hint = extra.negative_errors_hint[`testfiles-negative/${name}`] ?? '';
        expect(() => parse(src)).toThrow(DockerfileError);
        expect(() => parse(src)).toThrow(hint);
      });
    }
  });

  it('line numbers (testfile-line)', () => {
    const src = readFileSync(path.join(base, extra.line_numbers.file), 'utf8');
    const { ast } = parse(src);
    expect({ startLine: ast.startLine, endLine: ast.endLine }).toEqual(extra.line_numbers.root);
    expect(ast.children.map((c) => ({ startLine: c.startLine, endLine: c.endLine }))).toEqual(
      extra.line_numbers.instructions,
    );
  });

  describe('parse_words', () => {
    for (const c of extra.parse_words) {
      it(c.input, () => expect(parseWords(c.input, '\\')).toEqual(c.words));
    }
  });

  it('empty continuation warnings', () => {
    const c = extra.empty_continuation_warnings;
    const { warnings } = parse(c.dockerfile);
    expect(warnings).toHaveLength(c.warning_count);
    c.warnings_contain.forEach((parts, i) => {
      for (const part of parts) expect(warnings[i]?.message).toContain(part);
    });
  });

  it('line too long', () => {
    const src = `FROM scratch\nLABEL test=${'a'.repeat(65536)}\n`;
    expect(() => parse(src)).toThrow(extra.line_too_long.error);
  });
});
