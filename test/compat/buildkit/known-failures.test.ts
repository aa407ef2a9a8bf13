// Checks that every known failure names a case the ported BuildKit tests declare.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LINT_CALLS } from './check-cases.js';
import { KNOWN_FAILURES } from './known-failures.js';

describe('BuildKit port known failures', () => {
  it('name ported cases: source file, test function and variant', async () => {
    const dir = import.meta.dirname;
    const sources = new Map<string, string>();
    for (const name of await readdir(dir)) {
      if (!name.endsWith('.test.ts') || name === 'known-failures.test.ts') continue;
      const text = await readFile(join(dir, name), 'utf8');
      for (const m of text.matchAll(/buildkitSuite\('([^']+)'\)/g)) {
        const source = m[1] ?? '';
        sources.set(source, `${sources.get(source) ?? ''}${text}`);
      }
    }
    for (const [key, bug] of Object.entries(KNOWN_FAILURES)) {
      expect(bug.length, key).toBeGreaterThan(10);
      const [head, variant] = key.split(' / ');
      const [source, fn] = (head ?? '').split(' ');
      const text = sources.get(source ?? '');
      expect(text, `${key}: no ported test file for ${source}`).toBeDefined();
      const declared = text?.includes(`port('${fn}'`) === true || (text?.includes('portLintCalls') === true && LINT_CALLS[fn ?? ''] !== undefined);
      expect(declared, `${key}: no case for ${fn}`).toBe(true);
      if (variant !== undefined) expect(text, `${key}: no variant ${variant}`).toMatch(new RegExp(`'${variant.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'`));
    }
  });
});
