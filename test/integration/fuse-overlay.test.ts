import { spawn } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { collectOutput, metadataDigest, REPO_ROOT, run, runTbuild } from '../helpers/cli.js';
import { waitFor } from '../helpers/launcher.js';
import { createUnprivilegedUser, type UnprivilegedUser } from '../helpers/unprivileged-user.js';

// Files made, changed and deleted, a folder deleted and made again (opaque), a fresh folder, a cache mount, a step as
// another user (fuse-overlayfs must let it in), and a multi-stage COPY --from.
const DOCKERFILE = `FROM busybox AS base
RUN echo made > /made && echo more >> /etc/motd && rm /etc/group && rm -rf /home && mkdir -p /home/app /fresh/sub \\
    && echo again > /home/app/again && mkdir /shared && chmod 1777 /shared
RUN --mount=type=cache,target=/cache echo seen >> /cache/seen && wc -l < /cache/seen > /cache-count
USER 1000:1000
RUN id -u > /shared/uid && ls /home/app > /shared/listing
USER root
FROM busybox
COPY --from=base /home /home
COPY --from=base /made /shared/uid /shared/listing /
COPY app.txt /
RUN rm -rf /etc/network /app.txt && mkdir -p /etc/network && echo new > /etc/network/interfaces
`;
const SOURCE_DATE_EPOCH = '1700000000';

/** fuseLeftovers lists the fuse mounts and fuse-overlayfs processes that name a folder below `dir`. */
async function fuseLeftovers(dir: string): Promise<string[]> {
  const found = (await readFile('/proc/mounts', 'utf8')).split('\n').filter((l) => l.includes('fuse') && l.includes(dir));
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch((err: unknown) => {
      if (err instanceof Error && 'code' in err && (err.code === 'ENOENT' || err.code === 'ESRCH')) return '';
      throw err;
    });
    if (cmdline.startsWith('fuse-overlayfs\0') && cmdline.includes(dir)) found.push(`process ${pid}: ${cmdline.replaceAll('\0', ' ')}`);
  }
  return found;
}

async function expectNoFuseLeft(dir: string): Promise<void> {
  // A fuse-overlayfs process ends moments after its mount is gone.
  await waitFor(async () => (await fuseLeftovers(dir)).length === 0, 'fuse-overlayfs to end', 10_000).catch(() => undefined);
  expect(await fuseLeftovers(dir)).toEqual([]);
}

describe('RUN steps on fuse-overlayfs ([store] overlay = "fuse")', () => {
  const env = useBuildEnvironment();
  let work: string;
  let ctx: string;
  let fuseConfig: string;
  let user: UnprivilegedUser | undefined;

  beforeAll(async () => {
    const found = await run('sh', ['-c', 'command -v fuse-overlayfs']);
    if (found.code !== 0) throw new Error('fuse-overlayfs tests need fuse-overlayfs (Debian: apt-get install fuse-overlayfs)');
    work = join(env.tmp.path, 'fuse');
    ctx = join(work, 'ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE);
    await writeFile(join(ctx, 'app.txt'), 'app\n');
    fuseConfig = join(work, 'fuse.toml');
    await writeFile(fuseConfig, `${await readFile(env.config, 'utf8')}\n[store]\noverlay = "fuse"\n`);
    // The unprivileged user reads the context and settings, and writes its outputs, there.
    await chmod(env.tmp.path, 0o755);
    await chmod(work, 0o1777);
    await chmod(fuseConfig, 0o644);
    await chmod(env.config, 0o644);
  });

  afterAll(async () => {
    await user?.[Symbol.asyncDispose]();
  });

  const build = (config: string, root: string | undefined, name: string): string[] => [
    'build', '--config', config, '--progress', 'plain', ...(root === undefined ? [] : ['--root', root]),
    '--metadata-file', join(work, `${name}.json`), '--output', `type=oci,dest=${join(work, `${name}.tar`)},rewrite-timestamp=true`, ctx,
  ];
  const buildEnv = { SOURCE_DATE_EPOCH, BUILDX_NO_DEFAULT_ATTESTATIONS: '1' };

  it('builds as root the image the kernel overlay builds, byte for byte, and leaves no mount or process', async () => {
    const fuseRoot = join(work, 'root-fuse');
    const info = await runTbuild(['info', '--root', fuseRoot, '--config', fuseConfig]);
    expect(info.stdout).toContain('Overlay:\tfuse-overlayfs (set by [store] overlay)');
    const fuse = await runTbuild(build(fuseConfig, fuseRoot, 'root-fuse'), { env: buildEnv });
    expect(fuse.code, fuse.stderr).toBe(0);
    await expectNoFuseLeft(fuseRoot);
    const kernel = await runTbuild(build(env.config, join(work, 'root-kernel'), 'root-kernel'), { env: buildEnv });
    expect(kernel.code, kernel.stderr).toBe(0);
    const digest = await metadataDigest(join(work, 'root-kernel.json'));
    expect(await metadataDigest(join(work, 'root-fuse.json'))).toBe(digest);
    // The same bytes, the step as user 1000 included (it read and wrote through fuse-overlayfs's allow_other).
    expect(await readFile(join(work, 'root-fuse.tar'))).toEqual(await readFile(join(work, 'root-kernel.tar')));
    expect(fuse.stderr).toMatch(/RUN id -u > \/shared\/uid[^\n]*\n(#\d+ [^\n]*\n)*#\d+ DONE/);
  });

  it('builds rootless the image a root kernel-overlay build makes', async () => {
    user = await createUnprivilegedUser({ subordinateIds: true });
    const rootless = await user.runTbuild(build(fuseConfig, undefined, 'user-fuse'), { env: buildEnv });
    expect(rootless.code, rootless.stderr).toBe(0);
    const info = await user.runTbuild(['info', '--config', fuseConfig]);
    expect(info.stdout).toContain('Overlay:\tfuse-overlayfs (set by [store] overlay)');
    await expectNoFuseLeft(user.home);
    expect(await metadataDigest(join(work, 'user-fuse.json'))).toBe(await metadataDigest(join(work, 'root-kernel.json')));
  });

  it('leaves no mount or process after a failed RUN and a cancelled build', async () => {
    const root = join(work, 'root-fail');
    const failing = join(work, 'failing');
    await mkdir(failing, { recursive: true });
    await writeFile(join(failing, 'Dockerfile'), 'FROM busybox\nRUN --mount=type=bind,target=/ctx,rw echo x > /ctx/y && exit 3\n');
    const failed = await runTbuild(['build', '--config', fuseConfig, '--root', root, '--progress', 'plain', failing]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('did not complete successfully: exit code: 3');
    await expectNoFuseLeft(root);

    await writeFile(join(failing, 'Dockerfile'), 'FROM busybox\nRUN echo started && sleep 60\n');
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'tbuild.js'), 'build', '--config', fuseConfig, '--root', root, '--progress', 'plain', failing], { stdio: ['ignore', 'pipe', 'pipe'] });
    const done = collectOutput(child);
    await waitFor(async () => (await fuseLeftovers(root)).some((l) => l.startsWith('process')), 'the RUN step to mount its rootfs');
    child.kill('SIGINT');
    const cancelled = await done;
    expect(cancelled.code, cancelled.stderr).toBe(130);
    await expectNoFuseLeft(root);
  });

  it('removes what a killed build left mounted when the next build starts', async () => {
    const root = join(work, 'root-killed');
    const slow = join(work, 'slow');
    await mkdir(slow, { recursive: true });
    await writeFile(join(slow, 'Dockerfile'), 'FROM busybox\nRUN echo started && sleep 60\n');
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'tbuild.js'), 'build', '--config', fuseConfig, '--root', root, '--progress', 'plain', slow], { stdio: ['ignore', 'pipe', 'pipe'] });
    const done = collectOutput(child);
    await waitFor(async () => (await fuseLeftovers(root)).some((l) => l.startsWith('process')), 'the RUN step to mount its rootfs');
    child.kill('SIGKILL');
    await done;
    // The mount outlives the killed process until the next build's sweep.
    await waitFor(async () => (await fuseLeftovers(root)).some((l) => l.startsWith('process')), 'a leftover fuse-overlayfs', 5_000);
    await writeFile(join(slow, 'Dockerfile'), 'FROM busybox\nRUN echo next\n');
    const next = await runTbuild(['build', '--config', fuseConfig, '--root', root, '--progress', 'plain', slow]);
    expect(next.code, next.stderr).toBe(0);
    await expectNoFuseLeft(root);
  });

  it('picks fuse-overlayfs by itself (auto) for a store on an overlay, where the kernel refuses an upper folder', async () => {
    const base = join(work, 'on-overlay');
    const [lower, upper, workdir, merged] = ['l', 'u', 'w', 'm'].map((d) => join(base, d)) as [string, string, string, string];
    for (const d of [lower, upper, workdir, merged]) await mkdir(d, { recursive: true });
    const mounted = await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${workdir}`, merged]);
    expect(mounted.code, mounted.stderr).toBe(0);
    try {
      const root = join(merged, 'root');
      const info = await runTbuild(['info', '--root', root, '--config', env.config]);
      expect(info.stdout).toMatch(/^Overlay:\tfuse-overlayfs \(the kernel \(Linux \S+\) refused a trial overlayfs mount: EINVAL/m);
      const built = await runTbuild(build(env.config, root, 'on-overlay'), { env: buildEnv });
      expect(built.code, built.stderr).toBe(0);
      expect(await metadataDigest(join(work, 'on-overlay.json'))).toBe(await metadataDigest(join(work, 'root-kernel.json')));
      await expectNoFuseLeft(root);
    } finally {
      const unmounted = await run('umount', [merged]);
      expect(unmounted.code, unmounted.stderr).toBe(0);
    }
  });

  it('removes what a killed rootless build left in its namespace when the next build of the user starts', async () => {
    user ??= await createUnprivilegedUser({ subordinateIds: true });
    const own = user;
    const slow = join(work, 'slow-rootless');
    await mkdir(slow, { recursive: true });
    await writeFile(join(slow, 'Dockerfile'), 'FROM busybox\nRUN echo started && sleep 60\n');
    const done = own.runTbuild(['build', '--config', fuseConfig, '--progress', 'plain', slow]);
    await waitFor(async () => (await fuseLeftovers(own.home)).some((l) => l.startsWith('process')), 'the RUN step to mount its rootfs');
    // The tbuild inside the user's namespace (unshare runs it in its own place): its mounts stay with the namespace,
    // which the fuse-overlayfs process keeps alive out of the next build's reach.
    const inner = await innerTbuildPid(own.uid);
    process.kill(inner, 'SIGKILL');
    await done;
    expect((await fuseLeftovers(own.home)).some((l) => l.startsWith('process'))).toBe(true);
    await writeFile(join(slow, 'Dockerfile'), 'FROM busybox\nRUN echo next\n');
    const next = await own.runTbuild(['build', '--config', fuseConfig, '--progress', 'plain', slow]);
    expect(next.code, next.stderr).toBe(0);
    await expectNoFuseLeft(own.home);
  });
});

/** innerTbuildPid finds the tbuild process a user's tbuild runs in its namespace: the one whose parent is tbuild too. */
async function innerTbuildPid(uid: number): Promise<number> {
  const tbuilds = new Map<number, number>();
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const [status, cmdline] = await Promise.all([readFile(`/proc/${pid}/status`, 'utf8'), readFile(`/proc/${pid}/cmdline`, 'utf8')]).catch(() => ['', '']);
    if (!cmdline.includes('tbuild.js') || Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) !== uid) continue;
    tbuilds.set(Number(pid), Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]));
  }
  const inner = [...tbuilds].find(([, parent]) => tbuilds.has(parent));
  if (inner === undefined) throw new Error(`Found no tbuild of user ${uid} inside its namespace`);
  return inner[0];
}
