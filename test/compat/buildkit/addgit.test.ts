// Ported from moby/buildkit frontend/dockerfile/dockerfile_addgit_test.go: each case names its test function.
// Repositories are served over dumb HTTP from loopback, as BuildKit's tests serve them with http.FileServer.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { run } from '../../helpers/cli.js';
import { buildkitSuite, ok, writeEntries, type BuildkitSuite } from './harness.js';
import { serveDir } from './fixtures.js';

/** git runs git in dir and returns its trimmed output, failing the test when git fails. */
async function git(dir: string, ...args: string[]): Promise<string> {
  const r = await run('git', ['-C', dir, '-c', 'protocol.file.allow=always', ...args]);
  expect(r.code, `git ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout.trim();
}

/** taggedRepo makes a repository with one commit per tag, each writing "foo of TAG" to foo. */
async function taggedRepo(suite: BuildkitSuite, tags: readonly string[], format = 'sha1'): Promise<string> {
  const dir = await suite.context({});
  await git(dir, 'init', '-q', ...(format === 'sha256' ? ['--object-format=sha256'] : []));
  await git(dir, 'config', '--local', 'user.email', 'test');
  await git(dir, 'config', '--local', 'user.name', 'test');
  for (const tag of tags) {
    await writeEntries(dir, { foo: `foo of ${tag}\n` });
    await git(dir, 'add', 'foo');
    await git(dir, 'commit', '-q', '-m', tag);
    await git(dir, 'tag', tag);
  }
  await git(dir, 'update-server-info');
  return dir;
}

describe('BuildKit dockerfile_addgit_test.go', () => {
  const suite = buildkitSuite('dockerfile_addgit_test.go');
  const { build, port } = suite;

  // testAddGit (alpine there; busybox here). BuildKit's Dockerfile installs git with apk to check that the kept
  // .git matches the checkout (`git status -s` empty); offline, that check runs with the host's git on the export.
  const addGit = async (format: string): Promise<void> => {
    const gitDir = await taggedRepo(suite, ['v0.0.1', 'v0.0.2', 'v0.0.3'], format);
    const commitHashV2 = await git(gitDir, 'rev-parse', 'v0.0.2');
    const commitHashV3 = await git(gitDir, 'rev-parse', 'v0.0.3');
    await using server = await serveDir(gitDir);
    const serverURL = server.url;
    const res = await build({
      files: {
        Dockerfile: `
FROM busybox
# Basic case
ADD ${serverURL}/.git#v0.0.1 /x
RUN cd /x && \\
  [ "$(cat foo)" = "foo of v0.0.1" ]
# Complicated case
ARG REPO="${serverURL}/.git"
ARG TAG="v0.0.2"
ADD --keep-git-dir=true --chown=4242:8484 --checksum=${commitHashV2} \${REPO}#\${TAG} /buildkit-chowned
USER 4242
RUN cd /buildkit-chowned && \\
  [ "$(cat foo)" = "foo of v0.0.2" ] && \\
  [ "$(stat -c %u foo)" = "4242" ] && \\
  [ "$(stat -c %g foo)" = "8484" ]
`,
      },
    });
    ok(res);
    expect(await git(join(res.out, 'buildkit-chowned'), '-c', 'safe.directory=*', 'status', '-s')).toBe('');
    const cases: [string, string, boolean][] = [
      // Additional test: ADD from Git URL with checksum but without keep-git-dir flag
      [`ARG TAG="v0.0.3"\nADD --checksum=${commitHashV3} \${REPO}#\${TAG} /nogitdir\nRUN [ -f /nogitdir/foo ]\nRUN [ "$(cat /nogitdir/foo)" = "foo of v0.0.3" ]\nRUN [ ! -d /nogitdir/.git ]`, '', true],
      // access initial ref again that was already pulled
      [`ARG TAG="v0.0.2"\nADD --keep-git-dir --checksum=${commitHashV2} \${REPO}#\${TAG} /nogitdir\nRUN [ -f /nogitdir/foo ]\nRUN [ "$(cat /nogitdir/foo)" = "foo of v0.0.2" ]\nRUN [ -d /nogitdir/.git ]`, '', true],
      // Additional test: ADD from Git URL using commitHashV3 for both checksum and ref
      [`ARG COMMIT="${commitHashV3}"\nADD --keep-git-dir=true --checksum=${commitHashV3} \${REPO}#\${COMMIT} /commitdir\nRUN [ -f /commitdir/foo ]\nRUN [ "$(cat /commitdir/foo)" = "foo of v0.0.3" ]\nRUN [ -d /commitdir/.git ]`, '', true],
      // checksum does not match
      [`ARG TAG="v0.0.3"\nADD --checksum=${commitHashV2} \${REPO}#\${TAG} /faildir`, 'expected checksum to match', false],
      //  checksum is garbage
      [`ARG TAG="v0.0.3"\nADD --checksum=foobar \${REPO}#\${TAG} /faildir`, 'invalid checksum', false],
    ];
    for (const [body, error, succeeds] of cases) {
      const r = await build({ files: { Dockerfile: `\nFROM busybox\nARG REPO="${serverURL}/.git"\n${body}\n` }, output: 'none' });
      if (succeeds) ok(r);
      else {
        expect(r.code).not.toBe(0);
        expect(r.stderr).toContain(error);
        if (error === 'invalid checksum') expect(r.stderr).toContain('expected hex commit hash');
      }
    }
  };

  // dockerfile_addgit_test.go testAddGitSHA1
  port('testAddGitSHA1', () => addGit('sha1'));

  // dockerfile_addgit_test.go testAddGitSHA256
  port('testAddGitSHA256', () => addGit('sha256'));

  // dockerfile_addgit_test.go testAddGitChecksumCache (alpine there; busybox here)
  port('testAddGitChecksumCache', async () => {
    const gitDir = await taggedRepo(suite, ['v0.0.1', 'v0.0.2']);
    const commitHash = await git(gitDir, 'rev-parse', 'v0.0.2');
    await using server = await serveDir(gitDir);
    const dockerfile = (checksum: string): string =>
      `\nFROM busybox AS src\nADD --keep-git-dir ${checksum}${server.url}/.git#v0.0.2 /repo\nRUN head -c 16 /dev/urandom | base64 > /repo/unique.txt\nFROM scratch\nCOPY --from=src /repo/unique.txt /\n`;
    const first = await build({ files: { Dockerfile: dockerfile('') } });
    ok(first);
    // Second build: with checksum, should match cache even though this one sets commitHash and get same unique.txt
    const second = await build({ files: { Dockerfile: dockerfile(`--checksum=${commitHash} `) } });
    ok(second);
    expect(await second.read('unique.txt')).toBe(await first.read('unique.txt'));
  });

  // dockerfile_addgit_test.go testGitQueryString: each query-string URL as the build context ("context_NAME") and in
  // an ADD ("add_NAME"), each one case as each is one of BuildKit's subtests.
  const queryRepos = async (): Promise<{ gitDir: string; subModDir: string }> => {
    const subModDir = await suite.context({ file: '123\n' });
    await git(subModDir, 'init', '-q');
    await git(subModDir, 'config', '--local', 'user.email', 'test');
    await git(subModDir, 'config', '--local', 'user.name', 'test');
    await git(subModDir, 'add', 'file');
    await git(subModDir, 'commit', '-q', '-m', 'initial');
    await git(subModDir, 'update-server-info');
    const gitDir = await suite.context({
      foo: 'base\n',
      Dockerfile: '\nFROM scratch AS withgit\nCOPY .git/HEAD out\nFROM scratch as withsubmod\nCOPY submod/file out\nFROM scratch\nCOPY foo out\n',
    });
    await git(gitDir, '-c', 'init.defaultBranch=master', 'init', '-q');
    await git(gitDir, 'config', '--local', 'user.email', 'test');
    await git(gitDir, 'config', '--local', 'user.name', 'test');
    return { gitDir, subModDir };
  };
  /** QueryRepo is the served repository of testGitQueryString and the commits its cases name. */
  interface QueryRepo { gitDir: string; url: string; v2: string; latest: string }
  type QueryCase = [name: string, url: (r: QueryRepo) => string, kind: 'expectErr' | 'expectOut', want: (r: QueryRepo) => string, target: string];
  const text = (t: string) => (): string => t;
  const queryCases: QueryCase[] = [
    ['tag with invalid commit', (r) => `${r.url}/.git?tag=v0.0.2&commit=${r.latest}`, 'expectErr', text('expected checksum to match'), ''],
    ['old style ref', (r) => `${r.url}/.git#v0.0.2`, 'expectOut', text('v0.0.2\n'), ''],
    ['querystring ref', (r) => `${r.url}/.git?ref=base`, 'expectOut', text('base\n'), ''],
    ['querystring branch', (r) => `${r.url}/.git?branch=base`, 'expectOut', text('base\n'), ''],
    ['querystring invalid branch', (r) => `${r.url}/.git?branch=invalid`, 'expectErr', text('repository does not contain ref'), ''],
    ['tag as branch', (r) => `${r.url}/.git?branch=v0.0.2`, 'expectErr', text('repository does not contain ref'), ''],
    ['allowed mixed refs', (r) => `${r.url}/.git?tag=v0.0.2#refs/tags/v0.0.2`, 'expectOut', text('v0.0.2\n'), ''],
    ['v2 by commit', (r) => `${r.url}/.git?commit=${r.latest}`, 'expectOut', text('latest\n'), ''],
    ['v2 by commit (wrong short)', (r) => `${r.url}/.git?commit=${r.v2.slice(0, 8)}`, 'expectErr', text('expected checksum to match'), ''],
    ['v2 by commit (short)', (r) => `${r.url}/.git?commit=${r.latest.slice(0, 8)}`, 'expectOut', text('latest\n'), ''],
    ['v2 ref by commit', (r) => `${r.url}/.git?ref=${r.v2}`, 'expectOut', text('v0.0.2\n'), ''],
    ['v2 ref by commit (short)', (r) => `${r.url}/.git?ref=${r.v2.slice(0, 8)}`, 'expectErr', text('repository does not contain ref'), ''],
    ['tag with commit', (r) => `${r.url}/.git?tag=v0.0.2&commit=${r.v2}`, 'expectOut', text('v0.0.2\n'), ''],
    ['commit with commit', (r) => `${r.url}/.git?ref=${r.v2}&commit=${r.v2}`, 'expectOut', text('v0.0.2\n'), ''],
    ['latest with commit', (r) => `${r.url}/.git?commit=${r.latest}`, 'expectOut', text('latest\n'), ''],
    ['mismatch refs', (r) => `${r.url}/.git?tag=v0.0.2#refs/heads/master`, 'expectErr', text('ref conflicts'), ''],
    ['sub old-style', (r) => `${r.url}/.git#feature:sub`, 'expectOut', text('subfeature\n'), ''],
    ['sub query', (r) => `${r.url}/.git?subdir=sub&ref=feature`, 'expectOut', text('subfeature\n'), ''],
    ['withgit', (r) => `${r.url}/.git?keep-git-dir=true`, 'expectOut', (r) => `${r.latest}\n`, 'withgit'],
    ['withgitandtag', (r) => `${r.url}/.git?tag=v0.0.2&keep-git-dir=true`, 'expectOut', (r) => `${r.v2}\n`, 'withgit'],
    ['withgit-default', (r) => `${r.url}/.git`, 'expectErr', text('.git/HEAD": not found'), 'withgit'],
    ['withgit-valueless', (r) => `${r.url}/.git?keep-git-dir&submodules`, 'expectOut', (r) => `${r.latest}\n`, 'withgit'],
    ['withgit-forbidden', (r) => `${r.url}/.git?keep-git-dir=false`, 'expectErr', text('.git/HEAD": not found'), 'withgit'],
    ['withsubmod', (r) => `${r.url}/.git`, 'expectOut', text('123\n'), 'withsubmod'],
    ['withsubmodset', (r) => `${r.url}/.git?submodules=true`, 'expectOut', text('123\n'), 'withsubmod'],
    ['withsubmodempty', (r) => `${r.url}/.git?submodules`, 'expectOut', text('123\n'), 'withsubmod'],
    ['withoutsubmod', (r) => `${r.url}/.git?submodules=false`, 'expectErr', text('submod/file": not found'), 'withsubmod'],
  ];
  // One repository, made and served once for all the cases.
  let repo: QueryRepo | undefined;
  const servers: AsyncDisposable[] = [];
  const serve = async (dir: string): Promise<string> => {
    const server = await serveDir(dir);
    servers.push(server);
    return server.url;
  };
  beforeAll(async () => {
    const { gitDir, subModDir } = await queryRepos();
    const subModURL = await serve(subModDir);
    const sh = async (script: string): Promise<void> => {
      const r = await run('sh', ['-c', `cd '${gitDir}' && ${script}`]);
      expect(r.code, `${script}: ${r.stderr}`).toBe(0);
    };
    await sh(
      [
        `git -c protocol.file.allow=always submodule -q add ${subModURL}/.git submod`,
        'git add Dockerfile foo submod', 'git commit -q -m initial', 'git tag v0.0.1', 'git branch base',
        'echo feature >foo', 'mkdir sub', 'echo subfeature >sub/foo', 'cp Dockerfile sub/', 'git add foo sub',
        'git commit -q -m feature', 'git branch feature', 'git checkout -q -B master base', 'echo v0.0.2 >foo',
        'git add foo', 'git commit -q -m v0.0.2', 'git tag v0.0.2', 'echo latest >foo', 'git add foo',
        'git commit -q -m latest', 'git tag latest', 'git update-server-info',
      ].join(' && '),
    );
    const v2 = await git(gitDir, 'rev-parse', 'v0.0.2');
    const latest = await git(gitDir, 'rev-parse', 'latest');
    expect(v2).toHaveLength(40);
    expect(latest).not.toBe(v2);
    repo = { gitDir, url: await serve(gitDir), v2, latest };
  });
  afterAll(async () => {
    for (const server of servers.splice(0)) await server[Symbol.asyncDispose]();
  });
  for (const half of ['context', 'add']) {
    for (const [name, url, kind, want, target] of queryCases) {
      port('testGitQueryString', async () => {
        if (repo === undefined) throw new Error('the repository of testGitQueryString was not made');
        const targetArgs = target === '' ? {} : { target };
        const res =
          half === 'context'
            ? await build({ dir: repo.gitDir, contextArg: url(repo), ...targetArgs })
            : await build({
                files: {
                  Dockerfile: `\nFROM scratch AS main\nADD ${url(repo)} /repo/\nFROM scratch as withsubmod\nCOPY --from=main /repo/submod/file /repo/foo\nFROM scratch AS withgit\nCOPY --from=main /repo/.git/HEAD /repo/foo\nFROM main\n\t\t`,
                },
                ...targetArgs,
              });
        if (kind === 'expectErr') {
          expect(res.code, `no error "${want(repo)}": built`).not.toBe(0);
          expect(res.stderr).toContain(want(repo));
          return;
        }
        ok(res);
        expect(await res.read(half === 'context' ? 'out' : 'repo/foo')).toBe(want(repo));
      }, `${half}_${name}`);
    }
  }
});
