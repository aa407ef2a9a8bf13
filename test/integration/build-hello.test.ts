import { mkdir, readFile, readdir, writeFile, cp } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, run, runTbuild, type TempDir } from '../helpers/cli.js';
import { useBuildEnvironment } from '../helpers/build-env.js';

describe('tbuild build: Dockerfile to OCI image, end to end', () => {
  const env = useBuildEnvironment();
  let tmp: TempDir;
  let root: string;
  let config: string;
  const base = (): string[] => ['--root', root, '--config', config, '--progress', 'plain'];

  beforeAll(async () => {
    ({ tmp, config } = env);
    root = join(tmp.path, 'root');
  });


  it('builds examples/hello into the local image store and lists it', async () => {
    const res = await runTbuild(['build', ...base(), '-t', 'hello', '--iidfile', join(tmp.path, 'iid'), join(REPO_ROOT, 'examples/hello')]);
    expect(res.stderr).toContain('RUN chmod +x greet.sh');
    expect(res.code, res.stderr).toBe(0);
    const iid = await readFile(join(tmp.path, 'iid'), 'utf8');
    expect(iid).toMatch(/^sha256:[a-f0-9]{64}$/);
    const images = await runTbuild(['images', '--root', root]);
    expect(images.code).toBe(0);
    expect(images.stdout).toMatch(/^hello\s+latest\s+[a-f0-9]{12}/m);
  });

  it('serves a second identical build from the cache without running anything, as the same image', async () => {
    const res = await runTbuild(['build', ...base(), '-t', 'hello', '--iidfile', join(tmp.path, 'iid2'), join(REPO_ROOT, 'examples/hello')]);
    expect(res.code, res.stderr).toBe(0);
    // Layers keep the time they were made, so an unchanged rebuild names the same image ID, as BuildKit does.
    expect(await readFile(join(tmp.path, 'iid2'), 'utf8')).toBe(await readFile(join(tmp.path, 'iid'), 'utf8'));
    const steps = res.stderr.split('\n').filter((l) => /^#\d+ \[/.test(l));
    expect(steps.length).toBeGreaterThanOrEqual(5);
    for (const line of steps) {
      const n = line.split(' ')[0];
      expect(res.stderr, `${line} was not cached`).toContain(`${n} CACHED`);
    }
    expect(res.stderr).not.toMatch(/#\d+ \d+\.\d+ /);
  });

  it('writes an OCI tarball that skopeo, umoci, oci-image-tool and runc accept', async () => {
    const tar = join(tmp.path, 'hello.tar');
    const res = await runTbuild(['build', ...base(), '-t', 'hello:v1', '--output', `type=oci,dest=${tar}`, join(REPO_ROOT, 'examples/hello')]);
    expect(res.code, res.stderr).toBe(0);
    const inspect = await run('skopeo', ['inspect', `oci-archive:${tar}`]);
    expect(inspect.code, inspect.stderr).toBe(0);
    const info = JSON.parse(inspect.stdout) as { Labels: Record<string, string>; Env: string[] };
    expect(info.Labels['org.opencontainers.image.title']).toBe('hello');
    expect(info.Env).toContain('GREETING=hello from tbuild');

    const layout = join(tmp.path, 'layout');
    await mkdir(layout);
    expect((await run('tar', ['-xf', tar, '-C', layout])).code).toBe(0);
    const validate = await run('oci-image-tool', ['validate', '--type', 'image', layout]);
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);

    const bundle = join(tmp.path, 'bundle');
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: { annotations?: Record<string, string> }[] };
    const tag = index.manifests[0]?.annotations?.['org.opencontainers.image.ref.name'] ?? 'latest';
    const unpack = await run('umoci', ['unpack', '--image', `${layout}:${tag}`, bundle]);
    expect(unpack.code, unpack.stderr).toBe(0);
    expect(await readFile(join(bundle, 'rootfs/app/greeting.txt'), 'utf8')).toBe('hello from tbuild\n');
    expect(await readFile(join(bundle, 'rootfs/app/built-on.txt'), 'utf8')).toBe('Linux\n');
    expect((await readFile(join(bundle, 'rootfs/app/data-count.txt'), 'utf8')).trim()).toBe('2');
    expect(await readFile(join(bundle, 'rootfs/etc/passwd'), 'utf8')).toContain('hello:x:1001');

    const spec = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as { process: { terminal: boolean; args: string[]; user: { uid: number } } };
    expect(spec.process.args).toEqual(['/app/greet.sh', 'world']);
    spec.process.terminal = false;
    await writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
    const runc = await run('runc', ['run', '--bundle', bundle, `tbuild-test-${process.pid}`]);
    expect(runc.stderr).toBe('');
    expect(runc.stdout).toBe('hello from tbuild\nto world, from hello\n');
  });

  it('writes the final rootfs as a folder with type=local', async () => {
    const dest = join(tmp.path, 'out');
    const res = await runTbuild(['build', ...base(), '--output', `type=local,dest=${dest}`, join(REPO_ROOT, 'examples/hello')]);
    expect(res.code, res.stderr).toBe(0);
    expect(await readFile(join(dest, 'app/greeting.txt'), 'utf8')).toBe('hello from tbuild\n');
    expect((await readdir(join(dest, 'app/data'))).sort()).toEqual(['one.txt', 'two.txt']);
  });

  it('runs the RUN steps through crun with --oci-runtime crun', async () => {
    const dest = join(tmp.path, 'out-crun');
    const res = await runTbuild([
      'build', ...base(), '--oci-runtime', 'crun', '--no-cache', '--output', `type=local,dest=${dest}`, join(REPO_ROOT, 'examples/hello'),
    ]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain('RUN chmod +x greet.sh');
    for (const step of ['RUN chmod +x greet.sh', "RUN echo 'hello:x:1001"]) {
      const n = res.stderr.split('\n').find((l) => l.includes(step))?.split(' ')[0];
      expect(n, step).toBeDefined();
      expect(res.stderr, `${step} was not run`).toContain(`${n} DONE`);
      expect(res.stderr, `${step} was cached`).not.toContain(`${n} CACHED`);
    }
    expect(await readFile(join(dest, 'app/greeting.txt'), 'utf8')).toBe('hello from tbuild\n');
    expect(await readFile(join(dest, 'app/built-on.txt'), 'utf8')).toBe('Linux\n');
  });

  it('fails a build whose RUN exits 3 with status 1, naming the step, line and exit code, and keeps the store usable', async () => {
    const ctx = join(tmp.path, 'failing');
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo before > /before\nRUN echo about to fail && exit 3\nRUN echo never\n');
    const res = await runTbuild(['build', ...base(), ctx]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('RUN echo about to fail && exit 3');
    expect(res.stderr).toContain('exit code: 3');
    expect(res.stderr).toMatch(/Dockerfile:3/);
    expect(res.stderr).toContain('>>> RUN echo about to fail && exit 3');
    expect(res.stderr).toContain('about to fail');

    const again = await runTbuild(['build', ...base(), '-t', 'hello', join(REPO_ROOT, 'examples/hello')]);
    expect(again.code, again.stderr).toBe(0);
    const ctx2 = join(tmp.path, 'fixed');
    await cp(ctx, ctx2, { recursive: true });
    await writeFile(join(ctx2, 'Dockerfile'), 'FROM busybox\nRUN echo before > /before\nRUN echo fixed\n');
    const fixed = await runTbuild(['build', ...base(), ctx2]);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stderr).toMatch(/\[2\/3\] RUN echo before > \/before\n#\d+ CACHED/);
  });
});
