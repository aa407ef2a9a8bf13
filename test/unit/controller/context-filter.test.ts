import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ContextFilter, walkContext } from '../../../controller/index.js';
import { mayReincludeBelow, PatternMatcher } from '../../../frontend/dockerignore/index.js';
import { makeTempDir } from '../../helpers/cli.js';

const FILES = ['docs/keep.md', 'docs/drop.txt', 'docs/sub/a.md', 'docs/sub/b.txt', 'secrets/README.md', 'secrets/key', 'other/keep', 'other/nope', 'plain'];

async function tree(root: string, files: readonly string[]): Promise<void> {
  for (const f of files) {
    await mkdir(join(root, f, '..'), { recursive: true });
    await writeFile(join(root, f), f);
  }
}

/** keptBy lists the files and folders below root that filter keeps, a path counting only when its parents are kept. */
function keptBy(filter: ContextFilter, paths: readonly string[]): string[] {
  const kept = (p: string): boolean => !filter.isExcluded(p) && (!p.includes('/') || kept(p.slice(0, p.lastIndexOf('/'))));
  return paths.filter(kept);
}

describe('mayReincludeBelow', () => {
  it('tells which excluded directories an exception could reach into', () => {
    const m = new PatternMatcher(['docs', '!docs/keep.md', 'a', '!a/b/**/*.md']);
    expect(mayReincludeBelow(m, 'docs')).toBe(true);
    expect(mayReincludeBelow(m, 'doc')).toBe(false);
    expect(mayReincludeBelow(m, 'docs/sub')).toBe(false);
    expect(mayReincludeBelow(m, 'a')).toBe(true);
    expect(mayReincludeBelow(m, 'a/b/c/d')).toBe(true);
    expect(mayReincludeBelow(m, 'a/c')).toBe(false);
    // `*/keep` could match below any directory.
    expect(mayReincludeBelow(new PatternMatcher(['c', '!*/keep']), 'anything')).toBe(true);
    expect(mayReincludeBelow(new PatternMatcher(['docs', '!docs/keep.md']), 'secrets')).toBe(false);
  });
});

describe('ContextFilter', () => {
  it('keeps an excluded directory holding re-included files, and only those files', async () => {
    await using tmp = await makeTempDir();
    await tree(tmp.path, FILES);
    const filter = new ContextFilter(tmp.path, ['docs', '!docs/keep.md', 'secrets/', '!secrets/README.md']);
    const all = ['docs', 'docs/keep.md', 'docs/drop.txt', 'docs/sub', 'docs/sub/a.md', 'secrets', 'secrets/README.md', 'secrets/key', 'plain'];
    expect(keptBy(filter, all)).toEqual(['docs', 'docs/keep.md', 'secrets', 'secrets/README.md', 'plain']);
  });

  it('leaves out an excluded directory whose exceptions match nothing, and a file named like the excluded folder', async () => {
    await using tmp = await makeTempDir();
    await tree(tmp.path, ['docs/other.md', 'notes']);
    expect(new ContextFilter(tmp.path, ['docs', '!docs/keep.md']).isExcluded('docs')).toBe(true);
    // `notes` is a file: nothing can be re-included below it.
    expect(new ContextFilter(tmp.path, ['notes', '!notes/x']).isExcluded('notes')).toBe(true);
  });

  it('re-includes wildcard exception matches at any depth', async () => {
    await using tmp = await makeTempDir();
    await tree(tmp.path, FILES);
    const filter = new ContextFilter(tmp.path, ['docs', '!docs/**/*.md', 'other', '!*/keep']);
    const all = ['docs', 'docs/keep.md', 'docs/drop.txt', 'docs/sub', 'docs/sub/a.md', 'docs/sub/b.txt', 'other', 'other/keep', 'other/nope'];
    expect(keptBy(filter, all)).toEqual(['docs', 'docs/keep.md', 'docs/sub', 'docs/sub/a.md', 'other', 'other/keep']);
  });

  it('agrees with the walk a remote client sends the context by', async () => {
    await using tmp = await makeTempDir();
    await tree(tmp.path, FILES);
    const patterns = ['docs', '!docs/sub/*.md', 'secrets/', '!secrets/README.md', '*/keep'];
    const walked = (await walkContext(tmp.path, patterns, { signal: new AbortController().signal })).map((e) => e.path);
    const all = (await walkContext(tmp.path, [], { signal: new AbortController().signal })).map((e) => e.path);
    expect(keptBy(new ContextFilter(tmp.path, patterns), all)).toEqual(walked);
    expect(walked).toEqual(['docs', 'docs/sub', 'docs/sub/a.md', 'other', 'other/nope', 'plain', 'secrets', 'secrets/README.md']);
  });
});
