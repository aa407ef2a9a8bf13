import { describe, expect, it } from 'vitest';
import { parseGitRef } from '../../../frontend/convert/add-source.js';

describe('git source references in ADD', () => {
  it('reads the fragment form', () => {
    expect(parseGitRef('https://example.com/org/repo.git#v1.2:docs')).toEqual({ remote: 'https://example.com/org/repo.git', ref: 'v1.2', subdir: 'docs' });
    expect(parseGitRef('git@github.com:org/repo.git#main')).toEqual({ remote: 'git@github.com:org/repo.git', ref: 'main', subdir: '' });
  });

  it('reads the query form with ref, tag or branch and subdir', () => {
    expect(parseGitRef('https://example.com/org/repo.git?ref=v1.2&subdir=docs')).toEqual({ remote: 'https://example.com/org/repo.git', ref: 'v1.2', subdir: 'docs' });
    expect(parseGitRef('https://example.com/org/repo.git?tag=v2')).toEqual({ remote: 'https://example.com/org/repo.git', ref: 'v2', subdir: '' });
    expect(parseGitRef('git://127.0.0.1/repo?branch=dev')).toEqual({ remote: 'git://127.0.0.1/repo', ref: 'dev', subdir: '' });
  });

  it('leaves plain HTTP files alone', () => {
    expect(parseGitRef('https://example.com/file.tar.gz')).toBeUndefined();
  });
});
