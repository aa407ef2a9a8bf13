import { spawn } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runTbuild, type TempDir } from '../helpers/cli.js';
import { useBuildEnvironment } from '../helpers/build-env.js';

const KILLS = 20;

/** A small deterministic PRNG so a failing kill schedule can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('the store survives kills and concurrent builds', () => {
  const env = useBuildEnvironment();
  let tmp: TempDir;
  let root: string;
  let config: string;
  let ctx: string;

  beforeAll(async () => {
    ({ tmp, config } = env);
    root = join(tmp.path, 'root');
    ctx = join(tmp.path, 'ctx');
    await mkdir(join(ctx, 'files'), { recursive: true });
    for (let i = 0; i < 200; i++) await writeFile(join(ctx, 'files', `f${i}.txt`), `file ${i}\n`.repeat(50));
    await writeFile(
      join(ctx, 'Dockerfile'),
      [
        'FROM busybox',
        'RUN echo one > /one && sleep 0.2',
        'COPY files/ /files/',
        'RUN ls /files | wc -l > /count && sleep 0.2',
        'RUN dd if=/dev/zero of=/blob bs=1k count=2048 2>/dev/null',
        'CMD ["cat", "/count"]',
        '',
      ].join('\n'),
    );
  });


  const args = (): string[] => ['build', '--root', root, '--config', config, '--progress', 'plain', '-t', 'crash-test', ctx];

  it(`keeps a usable store after ${KILLS} builds killed with SIGKILL at random moments`, async () => {
    const random = prng(20261122);
    for (let i = 0; i < KILLS; i++) {
      // Vary the victim between plain builds, --no-cache builds and OCI exports.
      const extra = i % 3 === 1 ? ['--no-cache'] : i % 3 === 2 ? ['--output', `type=oci,dest=${join(tmp.path, 'out.tar')}`] : [];
      const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/tbuild.js'), ...args().slice(0, -1), ...extra, ctx], { stdio: 'ignore' });
      const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
      await new Promise((resolve) => setTimeout(resolve, 30 + Math.floor(random() * 1500)));
      child.kill('SIGKILL');
      await exited;
    }
    const res = await runTbuild(args());
    expect(res.code, res.stderr).toBe(0);
    const again = await runTbuild(args());
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/#\d+ \d+\.\d+ /);
    expect(again.stderr).toMatch(/RUN dd if=\/dev\/zero.*\n#\d+ CACHED/);
  }, 300_000);

  it('leaves no mount, sandbox process or half-made layer behind', async () => {
    const mounts = await readFile('/proc/self/mountinfo', 'utf8');
    expect(mounts).not.toContain(root);
    const ps = await readdir('/proc');
    for (const pid of ps.filter((p) => /^\d+$/.test(p))) {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      expect(cmdline.includes(root) && cmdline.includes('tbuild-sandbox'), `process ${pid} ${cmdline}`).toBe(false);
    }
    await runTbuild(['images', '--root', root]);
    expect((await readdir(join(root, 'snapshots'))).filter((n) => n.startsWith('active-'))).toEqual([]);
    expect(await readdir(join(root, 'content', 'ingest'))).toEqual([]);
  });

  it('runs two builds on the same root at once, both succeeding', async () => {
    await writeFile(join(ctx, 'files', 'f0.txt'), 'changed for the concurrent builds\n');
    const [a, b] = await Promise.all([runTbuild(args()), runTbuild([...args().slice(0, -1), '--output', `type=local,dest=${join(tmp.path, 'local')}`, ctx])]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect((await readFile(join(tmp.path, 'local', 'count'), 'utf8')).trim()).toBe('200');
  }, 120_000);
});
