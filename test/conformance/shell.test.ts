import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ShellLexer, parseEnvList } from '../../frontend/shell/index.js';
import { conformanceDir } from './conformance-root.js';

const dir = conformanceDir('buildkit-shell');

interface MatchCase {
  input: string;
  envs: Record<string, string>;
  expected?: string;
  error: boolean;
  matched?: string[];
  unmatched?: string[];
  error_contains?: string;
}
interface LexCases {
  process_word_with_matches: MatchCase[];
  required_vars: MatchCase[];
  platform_release_name: MatchCase[];
  env_list_lookup: { env_list: string[]; name: string; value: string }[];
}

const lexer = new ShellLexer({ escapeToken: '\\' });

describe('buildkit-shell conformance', () => {
  const base = dir;
  describe('envVarTest (process-word)', () => {
    const envs = new Map([
      ['PWD', '/home'],
      ['SHELL', 'bash'],
      ['KOREAN', '한국어'],
      ['NULL', ''],
    ]);
    const lines = readFileSync(path.join(base, 'envVarTest'), 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (line.startsWith('#') || line.trim() === '') return;
      const fields = line.trim().split('|');
      if (fields.length !== 3) throw new Error(`envVarTest line ${i + 1} has ${fields.length} fields`);
      const [platform, input, expected] = fields.map((f) => f.trim()) as [string, string, string];
      const name = `line ${i + 1}: ${platform}|${input}`;
      if (platform === 'W') return; // Windows-only rows: tbuild builds Linux images only
      it(name, () => {
        if (expected === 'error') expect(() => lexer.processWord(input, envs)).toThrow();
        else expect(lexer.processWord(input, envs).result).toBe(expected);
      });
    });
  });

  describe('wordsTest (process-words)', () => {
    const envs = new Map<string, string>();
    const lines = readFileSync(path.join(base, 'wordsTest'), 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (line.startsWith('#') || line === '') return;
      if (line.startsWith('ENV ')) {
        const assignment = line.slice(3).replace(/^ +/, '');
        const eq = assignment.indexOf('=');
        envs.set(assignment.slice(0, eq), assignment.slice(eq + 1));
        return;
      }
      const fields = line.split('|');
      if (fields.length !== 2) throw new Error(`wordsTest line ${i + 1} has ${fields.length} fields`);
      const input = (fields[0] ?? '').trim();
      const expected = (fields[1] ?? '').replace(/^ +/, '').split(',');
      const snapshot = new Map(envs);
      it(`line ${i + 1}: ${input}`, () => {
        let got: string[];
        try {
          got = lexer.processWords(input, snapshot);
        } catch {
          got = ['error'];
        }
        expect(got).toEqual(expected);
      });
    });
  });

  const cases = JSON.parse(readFileSync(path.join(base, 'lex-cases.json'), 'utf8')) as LexCases;
  const runCase = (c: MatchCase, checkSets: boolean): void => {
    const envs = new Map(Object.entries(c.envs));
    if (c.error) {
      if (c.error_contains === undefined) expect(() => lexer.processWord(c.input, envs)).toThrow();
      else expect(() => lexer.processWord(c.input, envs)).toThrow(c.error_contains);
      return;
    }
    const res = lexer.processWord(c.input, envs);
    expect(res.result).toBe(c.expected);
    if (checkSets) {
      expect([...res.matched].sort()).toEqual(c.matched);
      expect([...res.unmatched].sort()).toEqual(c.unmatched);
    }
  };
  for (const section of ['process_word_with_matches', 'required_vars', 'platform_release_name'] as const) {
    describe(section, () => {
      cases[section].forEach((c, i) => {
        it(`#${i}: ${c.input} ${JSON.stringify(c.envs)}`, () => runCase(c, section === 'process_word_with_matches'));
      });
    });
  }
  describe('env_list_lookup', () => {
    cases.env_list_lookup.forEach((c, i) => {
      it(`#${i}: ${JSON.stringify(c.env_list)} ${c.name}`, () => {
        expect(parseEnvList(c.env_list).get(c.name) ?? '').toBe(c.value);
      });
    });
  });
});
