import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { runTbuild } from '../helpers/cli.js';
import { plainSteps } from '../helpers/plain-steps.js';
import { startServe, type ServeProcess } from '../helpers/remote-server.js';

const TREE: Record<string, string> = {
  'docs/keep.md': 'k\n',
  'docs/drop.txt': 'd\n',
  'docs/sub/a.md': 'm\n',
  'docs/sub/b.txt': 't\n',
  'docs/sub/deep/c.md': 'mm\n',
  'secrets/README.md': 'r\n',
  'secrets/key': 's\n',
  'other/keep': 'ok\n',
  'other/nope': 'no\n',
  'x/keep': 'kk\n',
  'empty/inner/f': 'e\n',
};

/** What docker 20.10 (BuildKit) put in /ctx for `COPY . /ctx` with LITERAL as the .dockerignore. */
const LITERAL = 'docs\n!docs/keep.md\nsecrets/\n!secrets/README.md\n';
const LITERAL_KEPT = [
  '.dockerignore', 'Dockerfile', 'docs', 'docs/keep.md', 'empty', 'empty/inner', 'empty/inner/f',
  'other', 'other/keep', 'other/keepdir', 'other/nope', 'secrets', 'secrets/README.md', 'x', 'x/keep',
];

/**
 * With wildcard exceptions current BuildKit (fsutil) reads every excluded directory and keeps each match.
 * Docker 20.10's older walker entered an excluded directory only when an exception's text began with it, so it
 * kept docs/keep.md alone here; tbuild follows current BuildKit.
 */
const WILDCARD = 'docs\n!docs/**/*.md\nother\nx\n!*/keep\nempty\n';
const WILDCARD_KEPT = [
  '.dockerignore', 'Dockerfile', 'docs', 'docs/keep.md', 'docs/sub', 'docs/sub/a.md', 'docs/sub/deep', 'docs/sub/deep/c.md',
  'other', 'other/keep', 'secrets', 'secrets/README.md', 'secrets/key', 'x', 'x/keep',
];

describe('.dockerignore exceptions below an excluded directory, end to end', () => {
  const env = useBuildEnvironment();
  let server: ServeProcess;
  let builder: string;

  beforeAll(async () => {
    builder = `unix://${join(env.tmp.path, 'run', 'tbuild.sock')}`;
    server = await startServe(['--addr', builder, '--root', join(env.tmp.path, 'server-root'), '--config', env.config]);
  });

  afterAll(async () => {
    await server?.stop();
  });

  async function context(name: string, dockerignore: string, dockerfile: string): Promise<string> {
    const dir = join(env.tmp.path, name);
    for (const [path, text] of Object.entries(TREE)) {
      await mkdir(join(dir, path, '..'), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    await mkdir(join(dir, 'other', 'keepdir'), { recursive: true });
    await writeFile(join(dir, '.dockerignore'), dockerignore);
    await writeFile(join(dir, 'Dockerfile'), dockerfile);
    return dir;
  }

  /** build builds dir embedded or on the `tbuild serve` builder into a local folder and returns the folder. */
  async function build(dir: string, where: 'embedded' | 'remote', out: string): Promise<{ out: string; stderr: string }> {
    const how = where === 'embedded' ? ['--root', join(env.tmp.path, 'root'), '--config', env.config] : ['--builder', builder];
    const res = await runTbuild(['build', ...how, '--progress', 'plain', '--output', `type=local,dest=${out}`, dir], {
      env: { XDG_CONFIG_HOME: join(env.tmp.path, 'client', 'config'), XDG_CACHE_HOME: join(env.tmp.path, 'client', 'cache') },
    });
    expect(res.code, res.stderr).toBe(0);
    return { out, stderr: res.stderr };
  }

  const listed = async (dir: string): Promise<string[]> => (await readdir(dir, { recursive: true })).sort();

  for (const where of ['embedded', 'remote'] as const) {
    it(`keeps files re-included below an excluded directory (${where}), as docker build does`, async () => {
      const dir = await context(`literal-${where}`, LITERAL, 'FROM scratch\nCOPY . /ctx\nCOPY docs/keep.md /single/\n');
      const { out } = await build(dir, where, join(env.tmp.path, `literal-${where}-out`));
      expect(await listed(join(out, 'ctx'))).toEqual(LITERAL_KEPT);
      expect(await readFile(join(out, 'single', 'keep.md'), 'utf8')).toBe('k\n');
    });

    it(`keeps what wildcard exceptions re-include at any depth (${where}), as current BuildKit does`, async () => {
      const dir = await context(`wildcard-${where}`, WILDCARD, 'FROM scratch\nCOPY . /ctx\n');
      const { out } = await build(dir, where, join(env.tmp.path, `wildcard-${where}-out`));
      expect(await listed(join(out, 'ctx'))).toEqual(WILDCARD_KEPT);
    });
  }

  it('puts re-included files in the COPY cache key, and leaves the excluded ones out', async () => {
    const dir = await context('cache-key', LITERAL, 'FROM busybox\nCOPY . /ctx\nRUN cat /ctx/docs/keep.md > /seen\n');
    const first = await build(dir, 'embedded', join(env.tmp.path, 'cache-key-1'));
    expect(await readFile(join(first.out, 'seen'), 'utf8')).toBe('k\n');
    await writeFile(join(dir, 'docs', 'drop.txt'), 'changed, still excluded\n');
    const unchanged = await build(dir, 'embedded', join(env.tmp.path, 'cache-key-2'));
    const steps = plainSteps(unchanged.stderr);
    expect(steps.map((s) => [s.name, s.cached])).toEqual([
      [expect.stringMatching(/^\[1\/3\] FROM /), true],
      ['[2/3] COPY . /ctx', true],
      ['[3/3] RUN cat /ctx/docs/keep.md > /seen', true],
    ]);
    await writeFile(join(dir, 'docs', 'keep.md'), 'changed\n');
    const changed = await build(dir, 'embedded', join(env.tmp.path, 'cache-key-3'));
    expect(await readFile(join(changed.out, 'seen'), 'utf8')).toBe('changed\n');
  });
});
