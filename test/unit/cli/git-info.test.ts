import { execFileSync } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gitInfo } from '../../../cli/git-info.js';
import { makeTempDir, type TempDir } from '../../helpers/cli.js';

describe('gitInfo (the checkout a context folder is in, as buildx reads it)', () => {
  let tmp: TempDir;
  let repo: string;
  let commit: string;
  const git = (...args: string[]): string => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();

  beforeEach(async () => {
    tmp = await makeTempDir();
    repo = join(tmp.path, 'repo');
    await mkdir(join(repo, 'app', 'docker'), { recursive: true });
    await writeFile(join(repo, 'app', 'docker', 'Dockerfile'), 'FROM scratch\n');
    git('init', '-q');
    git('remote', 'add', 'origin', 'https://user:secret@example.com/team/app.git');
    git('add', '-A');
    git('-c', 'user.email=t@e', '-c', 'user.name=t', 'commit', '-q', '-m', 'initial');
    commit = git('rev-parse', 'HEAD');
  });
  afterEach(async () => {
    await tmp[Symbol.asyncDispose]();
  });

  it('names the commit, the remote with credentials masked, and where each local source is in the checkout', async () => {
    const info = await gitInfo({ contextDir: join(repo, 'app'), dockerfile: join(repo, 'app', 'docker', 'Dockerfile'), namedDirs: [{ name: 'assets', dir: repo }], env: {} });
    expect(info).toEqual({
      vcs: { revision: commit, source: 'https://xxxxx:xxxxx@example.com/team/app.git', 'localdir:context': 'app', 'localdir:dockerfile': 'app/docker', 'localdir:assets': '.' },
      labels: {},
    });
  });

  it('adds the OCI labels with BUILDX_GIT_LABELS, marks a changed checkout dirty when asked, and is off with BUILDX_GIT_INFO=0', async () => {
    await writeFile(join(repo, 'app', 'new.txt'), 'x');
    const env = { BUILDX_GIT_LABELS: '1', BUILDX_GIT_CHECK_DIRTY: 'true', BUILDX_GIT_INFO: 'false' };
    const info = await gitInfo({ contextDir: join(repo, 'app'), dockerfile: undefined, namedDirs: [], env });
    expect(info).toEqual({
      vcs: {},
      labels: {
        'org.opencontainers.image.revision': `${commit}-dirty`,
        'org.opencontainers.image.source': 'https://xxxxx:xxxxx@example.com/team/app.git',
        'com.docker.image.source.entrypoint': 'app/Dockerfile',
      },
    });
    expect(await gitInfo({ contextDir: repo, dockerfile: undefined, namedDirs: [], env: { BUILDX_GIT_INFO: '0' } })).toEqual({ vcs: {}, labels: {} });
  });

  it('gives nothing outside a checkout, and a warning for a .git folder git cannot read', async () => {
    const plain = join(tmp.path, 'plain');
    await mkdir(plain);
    expect(await gitInfo({ contextDir: plain, dockerfile: undefined, namedDirs: [], env: {} })).toEqual({ vcs: {}, labels: {} });
    await mkdir(join(plain, '.git'));
    const broken = await gitInfo({ contextDir: plain, dockerfile: undefined, namedDirs: [], env: {} });
    expect(broken.vcs).toEqual({});
    expect(broken.warning).toMatch(/failed to read current commit information/);
  });

  it('starts git only for a folder within a checkout (a .git in it or a parent) or with GIT_DIR set', async () => {
    // A git that records its calls, then runs the real one.
    const bin = join(tmp.path, 'bin');
    const calls = join(tmp.path, 'calls.txt');
    const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
    await mkdir(bin);
    await writeFile(join(bin, 'git'), `#!/bin/sh\necho "$*" >> ${calls}\nexec ${real} "$@"\n`);
    await chmod(join(bin, 'git'), 0o755);
    const started = async (): Promise<number> => (await readFile(calls, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '').length;
    const env = { PATH: bin };
    const plain = join(tmp.path, 'plain', 'deep');
    await mkdir(plain, { recursive: true });
    expect(await gitInfo({ contextDir: plain, dockerfile: undefined, namedDirs: [], env })).toEqual({ vcs: {}, labels: {} });
    expect(await started()).toBe(0);
    expect(await gitInfo({ contextDir: plain, dockerfile: undefined, namedDirs: [], env: { ...env, GIT_DIR: join(repo, '.git') } })).toMatchObject({ vcs: { revision: commit } });
    const withEnv = await started();
    expect(withEnv).toBeGreaterThan(0);
    expect(await gitInfo({ contextDir: join(repo, 'app', 'docker'), dockerfile: undefined, namedDirs: [], env })).toMatchObject({ vcs: { revision: commit, 'localdir:context': 'app/docker' } });
    expect(await started()).toBeGreaterThan(withEnv);
  });
});
