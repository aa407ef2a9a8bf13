// Ported from moby/buildkit frontend/dockerfile/dockerfile_addgit_test.go: each case names its test function.
// Repositories are served over dumb HTTP from loopback, as BuildKit's tests serve them with http.FileServer.
import { join } from 'node:path';
import { describe, expect } from 'vitest';
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

  // dockerfile_addgit_test.go testGitQueryString: each query-string URL as the build context ("context") and in an
  // ADD ("add"), one case per half; every URL is tried and the differences are reported together.
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
  const queryCases = (serverURL: string, v2: string, latest: string): [string, string, string, string, string][] => [
    ['tag with invalid commit', `${serverURL}/.git?tag=v0.0.2&commit=${latest}`, 'expectErr', 'expected checksum to match', ''],
    ['old style ref', `${serverURL}/.git#v0.0.2`, 'expectOut', 'v0.0.2\n', ''],
    ['querystring ref', `${serverURL}/.git?ref=base`, 'expectOut', 'base\n', ''],
    ['querystring branch', `${serverURL}/.git?branch=base`, 'expectOut', 'base\n', ''],
    ['querystring invalid branch', `${serverURL}/.git?branch=invalid`, 'expectErr', 'repository does not contain ref', ''],
    ['tag as branch', `${serverURL}/.git?branch=v0.0.2`, 'expectErr', 'repository does not contain ref', ''],
    ['allowed mixed refs', `${serverURL}/.git?tag=v0.0.2#refs/tags/v0.0.2`, 'expectOut', 'v0.0.2\n', ''],
    ['v2 by commit', `${serverURL}/.git?commit=${latest}`, 'expectOut', 'latest\n', ''],
    ['v2 by commit (wrong short)', `${serverURL}/.git?commit=${v2.slice(0, 8)}`, 'expectErr', 'expected checksum to match', ''],
    ['v2 by commit (short)', `${serverURL}/.git?commit=${latest.slice(0, 8)}`, 'expectOut', 'latest\n', ''],
    ['v2 ref by commit', `${serverURL}/.git?ref=${v2}`, 'expectOut', 'v0.0.2\n', ''],
    ['v2 ref by commit (short)', `${serverURL}/.git?ref=${v2.slice(0, 8)}`, 'expectErr', 'repository does not contain ref', ''],
    ['tag with commit', `${serverURL}/.git?tag=v0.0.2&commit=${v2}`, 'expectOut', 'v0.0.2\n', ''],
    ['commit with commit', `${serverURL}/.git?ref=${v2}&commit=${v2}`, 'expectOut', 'v0.0.2\n', ''],
    ['latest with commit', `${serverURL}/.git?commit=${latest}`, 'expectOut', 'latest\n', ''],
    ['mismatch refs', `${serverURL}/.git?tag=v0.0.2#refs/heads/master`, 'expectErr', 'ref conflicts', ''],
    ['sub old-style', `${serverURL}/.git#feature:sub`, 'expectOut', 'subfeature\n', ''],
    ['sub query', `${serverURL}/.git?subdir=sub&ref=feature`, 'expectOut', 'subfeature\n', ''],
    ['withgit', `${serverURL}/.git?keep-git-dir=true`, 'expectOut', `${latest}\n`, 'withgit'],
    ['withgitandtag', `${serverURL}/.git?tag=v0.0.2&keep-git-dir=true`, 'expectOut', `${v2}\n`, 'withgit'],
    ['withgit-default', `${serverURL}/.git`, 'expectErr', '.git/HEAD": not found', 'withgit'],
    ['withgit-valueless', `${serverURL}/.git?keep-git-dir&submodules`, 'expectOut', `${latest}\n`, 'withgit'],
    ['withgit-forbidden', `${serverURL}/.git?keep-git-dir=false`, 'expectErr', '.git/HEAD": not found', 'withgit'],
    ['withsubmod', `${serverURL}/.git`, 'expectOut', '123\n', 'withsubmod'],
    ['withsubmodset', `${serverURL}/.git?submodules=true`, 'expectOut', '123\n', 'withsubmod'],
    ['withsubmodempty', `${serverURL}/.git?submodules`, 'expectOut', '123\n', 'withsubmod'],
    ['withoutsubmod', `${serverURL}/.git?submodules=false`, 'expectErr', 'submod/file": not found', 'withsubmod'],
  ];
  for (const half of ['context', 'add']) {
    port('testGitQueryString', async () => {
      const { gitDir, subModDir } = await queryRepos();
      await using subModServer = await serveDir(subModDir);
      const sh = async (script: string): Promise<void> => {
        const r = await run('sh', ['-c', `cd '${gitDir}' && ${script}`]);
        expect(r.code, `${script}: ${r.stderr}`).toBe(0);
      };
      await sh(
        [
          `git -c protocol.file.allow=always submodule -q add ${subModServer.url}/.git submod`,
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
      await using server = await serveDir(gitDir);
      const problems: string[] = [];
      for (const [name, url, kind, want, target] of queryCases(server.url, v2, latest)) {
        const targetArgs = target === '' ? {} : { target };
        const res =
          half === 'context'
            ? await build({ dir: gitDir, contextArg: url, ...targetArgs })
            : await build({
                files: {
                  Dockerfile: `\nFROM scratch AS main\nADD ${url} /repo/\nFROM scratch as withsubmod\nCOPY --from=main /repo/submod/file /repo/foo\nFROM scratch AS withgit\nCOPY --from=main /repo/.git/HEAD /repo/foo\nFROM main\n\t\t`,
                },
                ...targetArgs,
              });
        if (kind === 'expectErr') {
          if (res.code === 0 || !res.stderr.includes(want)) problems.push(`${half}_${name}: no error "${want}"${res.code === 0 ? ' (built)' : `: ${res.stderr.split('\n').find((l) => l.startsWith('ERROR')) ?? ''}`}`);
          continue;
        }
        if (res.code !== 0) {
          problems.push(`${half}_${name}: failed: ${res.stderr.split('\n').find((l) => l.startsWith('ERROR')) ?? ''}`);
          continue;
        }
        const got = await res.read(half === 'context' ? 'out' : 'repo/foo').catch((e: unknown) => `(${String(e)})`);
        if (got !== want) problems.push(`${half}_${name}: out is ${JSON.stringify(got)}, BuildKit ${JSON.stringify(want)}`);
      }
      expect(problems, problems.join('\n')).toEqual([]);
    }, half);
  }
});
