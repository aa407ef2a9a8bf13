import { describe, expect, it } from 'vitest';
import { parseGitRef } from '../../../frontend/convert/git-ref.js';

describe('git source references in ADD', () => {
  it('reads the fragment form', () => {
    expect(parseGitRef('https://example.com/org/repo.git#v1.2:docs')).toEqual({ remote: 'https://example.com/org/repo.git', ref: 'v1.2', subdir: 'docs' });
    expect(parseGitRef('git@github.com:org/repo.git#main')).toEqual({ remote: 'git@github.com:org/repo.git', ref: 'main', subdir: '' });
  });

  it('reads the query form with ref, tag or branch and subdir', () => {
    expect(parseGitRef('https://example.com/org/repo.git?ref=v1.2&subdir=docs')).toEqual({ remote: 'https://example.com/org/repo.git', ref: 'v1.2', subdir: 'docs' });
    expect(parseGitRef('https://example.com/org/repo.git?tag=v2')).toEqual({ remote: 'https://example.com/org/repo.git', ref: 'refs/tags/v2', subdir: '' });
    expect(parseGitRef('git://127.0.0.1/repo?branch=dev')).toEqual({ remote: 'git://127.0.0.1/repo', ref: 'refs/heads/dev', subdir: '' });
  });

  it('joins the query with the fragment and reads commit, keep-git-dir and submodules', () => {
    expect(parseGitRef('https://h/r.git?tag=v2#refs/tags/v2')).toEqual({ remote: 'https://h/r.git', ref: 'refs/tags/v2', subdir: '' });
    expect(parseGitRef('https://h/r.git?commit=abc123&keep-git-dir&submodules=false')).toEqual({
      remote: 'https://h/r.git',
      ref: '',
      subdir: '',
      checksum: 'abc123',
      keepGitDir: true,
      submodules: false,
    });
  });

  it('refuses contradicting or unknown query values as BuildKit does', () => {
    expect(() => parseGitRef('https://h/r.git?tag=v2#refs/heads/master')).toThrow('ref conflicts: "refs/heads/master" vs "refs/tags/v2"');
    expect(() => parseGitRef('https://h/r.git?tag=v2&branch=b')).toThrow('branch conflicts with tag');
    expect(() => parseGitRef('https://h/r.git?ref=')).toThrow('query "ref" has no value');
    expect(() => parseGitRef('https://h/r.git?keep-git-dir=maybe')).toThrow('invalid keep-git-dir value: "maybe"');
    expect(() => parseGitRef('https://h/r.git?depth=1')).toThrow('unexpected query "depth"');
    expect(() => parseGitRef('https://h/r.git?mtime=now')).toThrow('invalid mtime value: "now"');
    expect(() => parseGitRef('https://h/r.git?fetch-by-commit')).toThrow('fetch-by-commit requires a checksum or a commit SHA ref');
  });

  it('reads mtime=commit, and fetch-by-commit as the commit itself', () => {
    expect(parseGitRef('https://h/r.git?mtime=commit')).toEqual({ remote: 'https://h/r.git', ref: '', subdir: '', mtime: 'commit' });
    expect(parseGitRef('https://h/r.git?mtime=checkout')).toEqual({ remote: 'https://h/r.git', ref: '', subdir: '' });
    const c = 'a'.repeat(40);
    expect(parseGitRef(`https://h/r.git?branch=main&commit=${c}&fetch-by-commit`)).toEqual({ remote: 'https://h/r.git', ref: c, subdir: '', checksum: c });
  });

  it('leaves plain HTTP files alone', () => {
    expect(parseGitRef('https://example.com/file.tar.gz')).toBeUndefined();
  });
});
