// Ported from moby/buildkit frontend/dockerfile/dockerfile_git_http_test.go: each case names its test function.
// BuildKit's "context" frontend attribute is the context argument of tbuild build (a git or HTTP URL).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { run } from '../../helpers/cli.js';
import { buildkitSuite, ok } from './harness.js';
import { makeTar, serveDir, useHttpServer } from './fixtures.js';

describe('BuildKit dockerfile_git_http_test.go', () => {
  const { build, context, port } = buildkitSuite('dockerfile_git_http_test.go');
  const http = useHttpServer();

  // testDockerfileFromGit: a repository with two commits served over dumb HTTP; branch "first" has only bar.
  const fromGit = async (format: 'sha1' | 'sha256'): Promise<void> => {
    const gitDir = await context({});
    let dockerfile = '\nFROM busybox AS build\nRUN echo -n fromgit > foo\nFROM scratch\nCOPY --from=build foo bar\n';
    const git = async (...args: string[]): Promise<void> => {
      const r = await run('git', ['-C', gitDir, ...args]);
      expect(r.code, r.stderr).toBe(0);
    };
    await writeFile(join(gitDir, 'Dockerfile'), dockerfile);
    await git('init', '-q', ...(format === 'sha256' ? ['--object-format=sha256'] : []));
    await git('config', '--local', 'user.email', 'test');
    await git('config', '--local', 'user.name', 'test');
    await git('add', 'Dockerfile');
    await git('commit', '-q', '-m', 'initial');
    await git('branch', 'first');
    dockerfile += '\nCOPY --from=build foo bar2\n';
    await writeFile(join(gitDir, 'Dockerfile'), dockerfile);
    await git('add', 'Dockerfile');
    await git('commit', '-q', '-m', 'second');
    await git('update-server-info');
    await using server = await serveDir(gitDir);
    let res = await build({ dir: gitDir, contextArg: `${server.url}/.git#first` });
    ok(res);
    expect(await res.read('bar')).toBe('fromgit');
    await expect(res.read('bar2')).rejects.toMatchObject({ code: 'ENOENT' });
    // second request from master branch contains both files
    res = await build({ dir: gitDir, contextArg: `${server.url}/.git` });
    ok(res);
    expect(await res.read('bar')).toBe('fromgit');
    expect(await res.read('bar2')).toBe('fromgit');
  };

  // dockerfile_git_http_test.go testDockerfileFromGitSHA1
  port('testDockerfileFromGitSHA1', () => fromGit('sha1'));

  // dockerfile_git_http_test.go testDockerfileFromGitSHA256
  port('testDockerfileFromGitSHA256', () => fromGit('sha256'));

  // dockerfile_git_http_test.go testDockerfileFromHTTP: a tar context at a URL, with -f naming its Dockerfile
  port('testDockerfileFromHTTP', async () => {
    const content = await makeTar([
      { name: 'mydockerfile', content: 'FROM scratch\nCOPY foo bar\n', mode: 0o600 },
      { name: 'foo', content: 'foo-contents', mode: 0o600 },
    ]);
    http.set({ '/myurl': { etag: 'ctx', content } });
    const d = await context({});
    const res = await build({ dir: d, contextArg: `${http.url}/myurl`, args: ['-f', 'mydockerfile'] });
    ok(res);
    expect(await res.read('bar')).toBe('foo-contents');
  });

  // dockerfile_git_http_test.go testHTTPDockerfile: a plain Dockerfile at a URL ("mydockerfile" is bogus: any name works)
  port('testHTTPDockerfile', async () => {
    http.set({ '/df': { etag: 'df', content: '\nFROM busybox\nRUN echo -n "foo-contents" > /foo\nFROM scratch\nCOPY --from=0 /foo /foo\n' } });
    const d = await context({});
    const res = await build({ dir: d, contextArg: `${http.url}/df`, args: ['-f', 'mydockerfile'] });
    ok(res);
    expect(await res.read('foo')).toBe('foo-contents');
  });
});
