import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ContextFilter, readContextIgnore, walkContext } from '../../controller/index.js';
import { PatternMatcher, compilePattern, matches, readIgnoreFile } from '../../frontend/dockerignore/index.js';
import { conformanceDir } from './conformance-root.js';

interface Cases {
  ignorefile_read: { name: string; content: string | null; patterns: string[] }[];
  new_matcher: { name: string; patterns: string[]; error: boolean; pattern_count?: number; exclusions?: boolean }[];
  match_or_parent_matches: { patterns: string[]; path: string; match: boolean; platform?: string }[];
  deprecated_matches: { name: string; patterns: string[]; path: string; match: boolean; error: boolean }[];
  compile: { pattern: string; matchType: string; regexp: string | null }[];
  context_walk: {
    name: string;
    tree: [string, 'file' | 'dir'][];
    exclude: string[];
    walk?: [string, string][];
    present?: string[];
    absent?: string[];
    error?: boolean;
  }[];
  buildkit_integration: {
    name: string;
    dockerignore?: string;
    context?: Record<string, string>;
    result_present?: Record<string, string>;
    result_absent?: string[];
    build_error?: boolean;
    builds?: { dockerfile: string; succeeds: boolean }[];
  }[];
}

const dir = conformanceDir('dockerignore');
const signal = new AbortController().signal;

async function withTempDir(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'tbuild-dockerignore-'));
  try {
    await fn(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** ignorePatterns reads the patterns a build of `dockerfile` in `root` applies. */
async function ignorePatterns(root: string, dockerfile: string): Promise<string[]> {
  return readIgnoreFile(await readContextIgnore(root, path.join(root, dockerfile)));
}

async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(root, name), content);
}

describe('dockerignore conformance', () => {
  const cases = JSON.parse(readFileSync(path.join(dir, 'cases.json'), 'utf8')) as Cases;

  describe('ignorefile_read', () => {
    for (const c of cases.ignorefile_read) {
      it(c.name, () => expect(readIgnoreFile(c.content)).toEqual(c.patterns));
    }
  });

  describe('new_matcher', () => {
    for (const c of cases.new_matcher) {
      it(c.name, () => {
        if (c.error) {
          expect(() => new PatternMatcher(c.patterns)).toThrow();
          return;
        }
        const m = new PatternMatcher(c.patterns);
        if (c.pattern_count !== undefined) expect(m.patterns).toHaveLength(c.pattern_count);
        if (c.exclusions !== undefined) expect(m.hasExclusions).toBe(c.exclusions);
        if (c.name.includes('Malformed')) {
          expect(() => m.matchesOrParentMatches('x')).toThrow();
          expect(() => m.matchesOrParentMatches('x')).toThrow();
        }
      });
    }
  });

  describe('match_or_parent_matches', () => {
    cases.match_or_parent_matches.forEach((c, i) => {
      it(`#${i}: ${JSON.stringify(c.patterns)} ${c.path}`, () => {
        expect(new PatternMatcher(c.patterns).matchesOrParentMatches(c.path)).toBe(c.match);
      });
    });
  });

  describe('deprecated_matches', () => {
    cases.deprecated_matches.forEach((c, i) => {
      it(`#${i} ${c.name}: ${JSON.stringify(c.patterns)} ${c.path}`, () => {
        if (c.error) expect(() => matches(c.path, c.patterns)).toThrow();
        else expect(matches(c.path, c.patterns)).toBe(c.match);
      });
    });
  });

  describe('compile', () => {
    for (const c of cases.compile) {
      it(c.pattern, () => {
        const compiled = compilePattern(c.pattern);
        expect(compiled.matchType).toBe(c.matchType);
        expect(compiled.matchType === 'regexpMatch' ? compiled.goSource : null).toBe(c.regexp);
      });
    }
  });

  describe('context_walk', () => {
    for (const c of cases.context_walk) {
      it(c.name, () =>
        withTempDir(async (root) => {
          for (const [p, kind] of c.tree) {
            if (kind === 'dir') await mkdir(path.join(root, p), { recursive: true });
            else await writeFile(path.join(root, p), p);
          }
          const unreadable = c.name.includes('PermissionDenied') ? path.join(root, 'foo/bar') : undefined;
          if (unreadable !== undefined) await chmod(unreadable, 0o000);
          try {
            if (c.error === true) {
              await expect(walkContext(root, c.exclude, { signal })).rejects.toThrow();
              return;
            }
            const walked = await walkContext(root, c.exclude, { signal });
            const paths = walked.map((e) => e.path);
            if (c.walk !== undefined) expect(walked.map((e) => [e.path, e.kind])).toEqual(c.walk);
            for (const p of c.present ?? []) expect(paths).toContain(p);
            for (const p of c.absent ?? []) expect(paths).not.toContain(p);
          } finally {
            if (unreadable !== undefined) await chmod(unreadable, 0o755);
          }
        }),
      );
    }
  });

  // The filter an embedded build (and a remote builder, on the synced copy) applies must keep the same entries.
  describe('context_walk (ContextFilter of a build)', () => {
    for (const c of cases.context_walk.filter((k) => k.walk !== undefined || k.present !== undefined)) {
      it(c.name, () =>
        withTempDir(async (root) => {
          for (const [p, kind] of c.tree) {
            if (kind === 'dir') await mkdir(path.join(root, p), { recursive: true });
            else await writeFile(path.join(root, p), p);
          }
          const filter = new ContextFilter(root, c.exclude);
          // A path is in the context when neither it nor a parent directory is left out.
          const kept = (p: string): boolean => !filter.isExcluded(p) && (!p.includes('/') || kept(p.slice(0, p.lastIndexOf('/'))));
          const sorted = [...c.tree].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
          const paths = sorted.filter(([p]) => kept(p)).map(([p]) => p);
          if (c.walk !== undefined) expect(paths).toEqual(c.walk.map(([p]) => p));
          for (const p of c.present ?? []) expect(paths).toContain(p);
          for (const p of c.absent ?? []) expect(paths).not.toContain(p);
        }),
      );
    }
  });

  // These cases are whole builds upstream; here they check the context filter a build would use.
  describe('buildkit_integration (context filter only)', () => {
    for (const c of cases.buildkit_integration) {
      it(c.name, () =>
        withTempDir(async (root) => {
          if (c.builds !== undefined) {
            await writeTree(root, c.context ?? {});
            // Each Dockerfile's own <name>.dockerignore wins over the context's .dockerignore.
            for (const build of c.builds) {
              expect(await readContextIgnore(root, path.join(root, build.dockerfile))).toBe(c.context?.[`${build.dockerfile}.dockerignore`]);
            }
            const kept1 = (await walkContext(root, await ignorePatterns(root, 'Dockerfile'), { signal })).map((e) => e.path);
            expect(kept1).toContain('foo');
            expect(kept1).not.toContain('bar');
            const kept2 = (await walkContext(root, await ignorePatterns(root, 'Dockerfile2'), { signal })).map((e) => e.path);
            expect(kept2).toContain('bar');
            expect(kept2).not.toContain('foo');
            return;
          }
          await writeTree(root, { Dockerfile: 'FROM scratch\n', '.dockerignore': c.dockerignore ?? '' });
          await writeTree(root, Object.fromEntries(Object.entries(c.context ?? {}).filter(([k]) => !['Dockerfile', '.dockerignore'].includes(k))));
          const patterns = await ignorePatterns(root, 'Dockerfile');
          if (c.build_error === true) {
            await expect(walkContext(root, patterns, { signal })).rejects.toThrow();
            return;
          }
          const kept = (await walkContext(root, patterns, { signal })).map((e) => e.path);
          for (const p of Object.keys(c.result_present ?? {})) expect(kept).toContain(p);
          for (const p of c.result_absent ?? []) expect(kept).not.toContain(p);
        }),
      );
    }
  });
});
