// `npm run bench:compare` (bench/compare.ts) on the fastest case, one run: the table has a row per scenario with a
// number in every cell, the report goes to stdout and to --out, and nothing the run made is left behind (its folders,
// mounts, docker images). The peers it compares against are those ../shared/bench/peers/setup.sh starts (dockerd
// 20.10, buildah, the registry on 127.0.0.1:5000); the test runs that script when they do not answer.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, run } from '../helpers/cli.js';

const SETUP = resolve(REPO_ROOT, '..', 'shared', 'bench', 'peers', 'setup.sh');
const DOCKER_ENV = { DOCKER_API_VERSION: '1.41' };
const RUN_TIMEOUT_MS = 900_000;

async function peersAnswer(): Promise<boolean> {
  const docker = await run('/usr/bin/docker', ['version'], { env: DOCKER_ENV });
  const registry = await fetch('http://127.0.0.1:5000/v2/').then((r) => r.ok, () => false);
  const buildah = await run('sh', ['-c', 'command -v buildah']);
  return docker.code === 0 && registry && buildah.code === 0;
}

async function benchImages(): Promise<string[]> {
  const images = await run('/usr/bin/docker', ['images', '--format', '{{.Repository}}'], { env: DOCKER_ENV });
  expect(images.code, images.stderr).toBe(0);
  return images.stdout.split('\n').filter((r) => r.startsWith('bench-compare-'));
}

describe('npm run bench:compare', () => {
  let dir: string;
  let imagesBefore: string[];
  beforeAll(async () => {
    if (!(await peersAnswer())) {
      const setup = await run('bash', [SETUP]);
      expect(setup.code, setup.stderr.slice(-4000)).toBe(0);
    }
    dir = await mkdtemp(join(tmpdir(), 'tbuild-bench-compare-test-'));
    imagesBefore = await benchImages();
  }, RUN_TIMEOUT_MS);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('times tiny in every scenario for the three builders and cleans up', async () => {
    const tmp = join(dir, 'tmp');
    const out = join(dir, 'table.md');
    await run('mkdir', [tmp]);
    const res = await run('npm', ['run', '--silent', 'bench:compare', '--', '--runs', '1', '--cases', 'tiny', '--out', out], {
      cwd: REPO_ROOT,
      env: { TMPDIR: tmp },
    });
    expect(res.code, res.stderr.slice(-4000)).toBe(0);
    expect(await readFile(out, 'utf8')).toBe(res.stdout);

    const lines = res.stdout.split('\n');
    const header = lines.indexOf('| case | scenario | tbuild s | BuildKit s | buildah s | tbuild/BuildKit | tbuild/buildah |');
    expect(header).toBeGreaterThan(0);
    expect(lines[header + 1]).toBe('|---|---|---|---|---|---|---|');
    const rows = lines.slice(header + 2, lines.indexOf('', header)).map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
    expect(rows.map((r) => `${r[0]} / ${r[1]}`)).toEqual(['tiny / cold', 'tiny / warm', 'tiny / warm, `node bin/launcher.js` (no C compiler)', 'tiny / warm, `node bin/tbuild.js`', 'tiny / one-file change']);
    for (const row of rows) {
      const cells = row.slice(2);
      expect(cells).toHaveLength(5);
      for (const cell of cells) expect(cell).toMatch(/^\d+\.\d+$/);
      const [t, k, h, tk, th] = cells.map(Number) as [number, number, number, number, number];
      for (const s of [t, k, h]) expect(s).toBeGreaterThan(0);
      // The ratio of the unrounded medians: two significant digits below 1, two decimals above, off the ratio of the
      // shown seconds (three decimals each) by at most their rounding.
      const halfDigit = (r: number): number => (r >= 1 ? 0.005 : 0.5 * 10 ** (Math.floor(Math.log10(r)) - 1));
      const bound = (a: number, b: number, r: number): number => halfDigit(r) + (a / b) * (0.0005 / a + 0.0005 / b) * 1.01;
      expect(Math.abs(tk - t / k)).toBeLessThanOrEqual(bound(t, k, tk));
      expect(Math.abs(th - t / h)).toBeLessThanOrEqual(bound(t, h, th));
    }
    // The run's conditions: the load at its start and end, and each builder's peak memory.
    expect(res.stdout).toMatch(/load average \(1, 5, 15 min\) [\d.]+ [\d.]+ [\d.]+ at the start, [\d.]+ [\d.]+ [\d.]+ at the end; 1 run\(s\)/);
    expect(res.stdout).toMatch(/tbuild's resident builder [1-9]\d* \(VmHWM/);
    expect(res.stdout).toMatch(/dockerd [1-9]\d* \([1-9]\d* at the start: VmHWM counts since dockerd started, so this run added -?\d+\)/);
    expect(res.stdout).toMatch(/buildah [1-9]\d* \(the largest \/usr\/bin\/time %M/);

    // Nothing left: the run's folder (resident builder's socket, stores, buildah storage), mounts, docker images.
    expect(await readdir(tmp)).toEqual([]);
    expect((await readFile('/proc/mounts', 'utf8')).includes(dir)).toBe(false);
    expect(await benchImages()).toEqual(imagesBefore);
  }, RUN_TIMEOUT_MS);
});
