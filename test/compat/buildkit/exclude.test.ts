// Ported from moby/buildkit frontend/dockerfile/exclude_patterns_test.go: each case names its test function.
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { run } from '../../helpers/cli.js';
import { buildkitSuite, dir, file, link, ok, type BuildResult } from './harness.js';
import { serveDir } from './fixtures.js';

/** Each row: file under the export, whether it is excluded, its content (a symlink's target). */
const EXPECTED: [string, boolean, string][] = [
  ['builder1/1/dir1/file-101.png', true, ''],
  ['builder1/1/dir1/file-102.txt', false, '3'],
  ['builder1/1/dir1/file-103.jpeg', true, ''],
  ['builder1/1/dir2/file-201.pdf', false, '6'],
  ['builder1/1/dir2/file-202.jpeg', true, ''],
  ['builder1/1/dir2/file-203.png', true, ''],
  ['builder1/1/dir3/file-301.mp3', false, '9'],
  ['builder1/1/dir3/file-302.mpeg', false, '10'],
  ['builder1/1/dir4/file-401.txt', false, '11'],
  ['builder1/1/dir4/file-402.txt', false, 'file-401.txt'],
  ['builder1/1/dir4/file-403.txt', false, 'file-404.txt'],
  ['builder2/2/dir1/file-101.png', false, '2'],
  ['builder2/2/dir1/file-102.txt', true, ''],
  ['builder2/2/dir1/file-103.jpeg', false, '4'],
  ['builder2/2/dir2/file-201.pdf', true, ''],
  ['builder2/2/dir2/file-202.jpeg', false, '7'],
  ['builder2/2/dir2/file-203.png', false, '8'],
  ['builder2/2/dir3/file-301.mp3', false, '9'],
  ['builder2/2/dir3/file-302.mpeg', false, '10'],
  ['builder2/2/dir4/file-401.txt', true, ''],
  ['builder2/2/dir4/file-402.txt', true, ''],
  ['builder2/2/dir4/file-403.txt', true, ''],
  ['builder3/3/file-301.mp3', true, ''],
  ['builder3/3/file-302.mpeg', false, '10'],
  ['builder4/4/file-101.png', true, ''],
  ['builder4/4/file-102.txt', true, ''],
  ['builder4/4/file-103.jpeg', true, ''],
  ['builder4/4/file-201.pdf', true, ''],
  ['builder4/4/file-202.jpeg', true, ''],
  ['builder4/4/file-203.png', true, ''],
  ['builder4/4/file-301.mp3', true, ''],
  ['builder4/4/file-301.mp3', true, ''],
  ['builder4/4/file-302.mpeg', false, '10'],
  ['builder4/4/dir4/file-401.txt', true, ''],
  ['builder4/4/dir4/file-402.txt', true, ''],
  ['builder4/4/dir4/file-403.txt', true, ''],
  ['builder5/5/file-101.png', true, ''],
  ['builder5/5/file-102.txt', false, '3'],
  ['builder5/5/file-103.jpeg', true, ''],
  ['builder5/5/file-201.pdf', true, ''],
  ['builder5/5/file-202.jpeg', true, ''],
  ['builder5/5/file-203.png', true, ''],
  ['builder5/5/file-301.mp3', true, ''],
  ['builder5/5/file-301.mp3', true, ''],
  ['builder5/5/file-302.mpeg', true, ''],
  ['builder5/5/file-401.txt', false, '11'],
  ['builder5/5/file-402.txt', false, 'file-401.txt'],
  ['builder5/5/file-403.txt', false, 'file-404.txt'],
];

const LOCAL_DOCKERFILE = `
# ignore all the image files
FROM scratch as builder1
COPY --exclude=*/*.png --exclude=*/*.jpeg . /1

# ignore all document files
FROM scratch as builder2
COPY --exclude=*/*.pdf --exclude=*/*.txt . /2

# ignore all mp3 files
FROM scratch as builder3
ADD --exclude=*.mp3 dir3/ /3/

# Ignore everything, keeping only .mpeg files, using src as a wildcard.
# it's a fake example, just to be sure that src as wildcards work as expected.
FROM scratch as builder4
COPY --exclude=*.mp3 --exclude=*.jpeg --exclude=*.png --exclude=*.pdf --exclude=*.txt dir* /4/

# Ignore everything, keeping only txt files.
# it's a fake example, just to be sure that src as wildcards work as expected.
FROM scratch as builder5
ADD --exclude=*.mp* --exclude=*.jpeg --exclude=*.png --exclude=*.pdf dir* /5

# Exclude all files. No idea how it could be useful, but it should not be forbidden.
FROM scratch as builder6
ADD --exclude=* dir* /6

FROM scratch
COPY --from=builder1 / /builder1
COPY --from=builder2 / /builder2
COPY --from=builder3 / /builder3
COPY --from=builder4 / /builder4
COPY --from=builder5 / /builder5
COPY --from=builder6 / /builder6
`;

const gitDockerfile = (serverURL: string): string => `
FROM scratch AS base
ARG REPO="${serverURL}/.git"
ARG TAG="0.1"
ADD --keep-git-dir=true \${REPO}#\${TAG} /

# ignore all the image files
FROM scratch as builder1
COPY --from=base --exclude=*/*.png --exclude=*/*.jpeg . /1

# ignore all document files
FROM scratch as builder2
COPY --from=base --exclude=*/*.pdf --exclude=*/*.txt . /2

# ignore all mp3 files
FROM scratch as builder3
COPY --from=base --exclude=*.mp3 dir3/ /3/

# Ignore everything, keeping only .mpeg files, using src as a wildcard.
# it's a fake example, just to be sure that src as wildcards work as expected.
FROM scratch as builder4
COPY --from=base --exclude=*.mp3 --exclude=*.jpeg --exclude=*.png --exclude=*.pdf --exclude=*.txt dir* /4/

# Ignore everything, keeping only txt files.
# it's a fake example, just to be sure that src as wildcards work as expected.
FROM scratch as builder5
COPY --from=base --exclude=*.mp* --exclude=*.jpeg --exclude=*.png --exclude=*.pdf dir* /5

# Exclude all files. No idea how it could be useful, but it should not be forbidden.
FROM scratch as builder6
COPY --from=base --exclude=* dir* /6

FROM scratch
COPY --from=builder1 / /builder1
COPY --from=builder2 / /builder2
COPY --from=builder3 / /builder3
COPY --from=builder4 / /builder4
COPY --from=builder5 / /builder5
COPY --from=builder6 / /builder6
`;

async function checkExport(res: BuildResult): Promise<void> {
  ok(res);
  for (const [name, excluded, content] of EXPECTED) {
    const path = join(res.out, name);
    if (excluded) {
      await expect(lstat(path), `${name} should not exist`).rejects.toMatchObject({ code: 'ENOENT' });
      continue;
    }
    const st = await lstat(path);
    const dt = st.isSymbolicLink() ? await readlink(path) : await readFile(path, 'utf8');
    expect(dt, name).toBe(content);
  }
  // As all files are excluded, the directory must be empty
  expect(await readdir(join(res.out, 'builder6/6'))).toEqual([]);
}

describe('BuildKit exclude_patterns_test.go', () => {
  const { build, context, port } = buildkitSuite('exclude_patterns_test.go');
  const source = () =>
    context({
      dir1: dir(0o777),
      dir2: dir(0o777),
      dir3: dir(0o777),
      dir4: dir(0o777),
      'dir1/file-101.png': file('2'),
      'dir1/file-102.txt': file('3'),
      'dir1/file-103.jpeg': file('4'),
      'dir2/file-201.pdf': file('6'),
      'dir2/file-202.jpeg': file('7'),
      'dir2/file-203.png': file('8'),
      'dir3/file-301.mp3': file('9'),
      'dir3/file-302.mpeg': file('10'),
      'dir4/file-401.txt': file('11'),
      'dir4/file-402.txt': link('file-401.txt'),
      'dir4/file-403.txt': link('file-404.txt'),
    });

  // exclude_patterns_test.go testExcludedFilesOnCopy: first reading from a plain directory
  port('testExcludedFilesOnCopy', async () => {
    const srcDir = await source();
    const dockerDir = await context({ Dockerfile: LOCAL_DOCKERFILE });
    await checkExport(await build({ dir: srcDir, args: ['-f', join(dockerDir, 'Dockerfile')] }));
  }, 'local');

  // exclude_patterns_test.go testExcludedFilesOnCopy: then loading the context from a git repository (dumb HTTP)
  port('testExcludedFilesOnCopy', async () => {
    const srcDir = await source();
    const git = async (...args: string[]): Promise<void> => {
      const r = await run('git', ['-C', srcDir, ...args]);
      expect(r.code, r.stderr).toBe(0);
    };
    await git('init', '-q');
    await git('config', '--local', 'user.email', 'test');
    await git('config', '--local', 'user.name', 'test');
    await git('add', '.');
    await git('commit', '-q', '-m', '0.1');
    await git('tag', '0.1');
    await git('update-server-info');
    await using server = await serveDir(srcDir);
    const serverURL = server.url;
    const dockerDir = await context({ Dockerfile: gitDockerfile(serverURL) });
    await checkExport(await build({ dir: srcDir, args: ['-f', join(dockerDir, 'Dockerfile')] }));
  }, 'git');
});
