import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBundle } from '../../../executor/bundle.js';
import { rootfsTree, type ExecMount, type ExecRequest } from '../../../executor/index.js';
import { makeTempDir, type TempDir } from '../../helpers/cli.js';

async function listTree(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const rel = `${prefix}${e.name}${e.isDirectory() ? '/' : ''}`;
    out.push(rel);
    if (e.isDirectory()) out.push(...(await listTree(join(dir, e.name), rel)));
  }
  return out.sort();
}

describe('createBundle mount points', () => {
  let tmp: TempDir;
  let lower: string;
  let upper: string;
  const request = (mounts: readonly ExecMount[]): ExecRequest => ({
    rootfs: { lowerdirs: [lower], upperdir: upper, workdir: join(tmp.path, 'work') },
    process: { args: ['true'], env: [], cwd: '/', user: '' },
    network: 'none',
    mounts,
  });
  const bundleOf = (mounts: readonly ExecMount[], rootMode: 'overlay' | 'prepared' = 'overlay') =>
    createBundle(join(tmp.path, 'state'), request(mounts), {
      rootMode,
      user: { uid: 0, gid: 0, additionalGids: [] },
      tree: rootfsTree(request(mounts).rootfs),
      nofile: 1024,
      signal: AbortSignal.timeout(10_000),
    });

  beforeEach(async () => {
    tmp = await makeTempDir('tbuild-bundle-');
    lower = join(tmp.path, 'lower');
    upper = join(tmp.path, 'upper');
    await mkdir(join(lower, 'bin'), { recursive: true });
    await mkdir(upper);
    await mkdir(join(tmp.path, 'work'));
    await writeFile(join(tmp.path, 'secret'), 's');
  });

  afterEach(async () => {
    await tmp[Symbol.asyncDispose]();
  });

  it('puts missing /dev, /proc and /sys into the upperdir, root-owned 0755, as runc leaves them in a BuildKit layer', async () => {
    const mounts: ExecMount[] = [
      { kind: 'bind', source: join(tmp.path, 'secret'), target: '/run/secrets/x', readonly: true },
      { kind: 'tmpfs', target: '/tmp/t' },
      { kind: 'bind', source: tmp.path, target: '/cache/dir', readonly: false },
    ];
    await using bundle = await bundleOf(mounts);
    expect(await listTree(upper)).toEqual(['dev/', 'proc/', 'sys/']);
    for (const d of ['dev', 'proc', 'sys']) {
      const st = await stat(join(upper, d));
      expect({ mode: st.mode & 0o7777, uid: st.uid, gid: st.gid }).toEqual({ mode: 0o755, uid: 0, gid: 0 });
    }
    // Everything else is a stub below the upperdir: current BuildKit removes such stubs and the parents it made.
    const stubs = bundle.lowerdirs[0] ?? '';
    expect(await listTree(stubs)).toEqual([
      'cache/', 'cache/dir/', 'etc/', 'etc/hosts', 'etc/resolv.conf', 'run/', 'run/secrets/', 'run/secrets/x', 'tmp/', 'tmp/t/',
    ]);
  });

  it('leaves the upperdir alone when the base has the mount points', async () => {
    for (const d of ['dev', 'proc', 'sys']) await mkdir(join(lower, d));
    await using bundle = await bundleOf([]);
    expect(await listTree(upper)).toEqual([]);
    expect(await listTree(bundle.lowerdirs[0] ?? '')).toEqual(['etc/', 'etc/hosts', 'etc/resolv.conf']);
  });

  it('bind-mounts /etc/hosts and /etc/resolv.conf but not /etc/hostname, which BuildKit leaves to the image', async () => {
    await using bundle = await bundleOf([]);
    const etc = bundle.spec.mounts.map((m) => m.destination).filter((d) => d.startsWith('/etc/'));
    expect(etc).toEqual(['/etc/resolv.conf', '/etc/hosts']);
  });

  it('hands RUN --mount overlays to the caller for an OCI runtime, which binds them from their stage directory', async () => {
    const overlay: ExecMount = {
      kind: 'overlay', target: '/w', lowerdirs: [lower], upperdir: join(tmp.path, 'o-up'), workdir: join(tmp.path, 'o-work'), readonly: false, subpath: 'bin',
    };
    await using helperBundle = await bundleOf([overlay]);
    expect(helperBundle.overlays).toEqual([]);
    expect(helperBundle.spec.mounts.find((m) => m.destination === '/w')?.type).toBe('overlay');
    await using runtimeBundle = await bundleOf([overlay], 'prepared');
    const stageDir = runtimeBundle.overlays[0]?.stageDir ?? '';
    expect(stageDir.startsWith(runtimeBundle.dir)).toBe(true);
    expect(runtimeBundle.spec.mounts.find((m) => m.destination === '/w')).toEqual({
      destination: '/w', type: 'bind', source: join(stageDir, 'bin'), options: ['rbind', 'rw'],
    });
  });
});
