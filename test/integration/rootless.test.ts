import { access, chmod, chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metadataDigest, run, runTbuild, type CliResult } from '../helpers/cli.js';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { copyBuiltTree, liveDaemonPid, readDaemonLog, waitFor } from '../helpers/launcher.js';
import { checkRootlessTools, createUnprivilegedUser, type UnprivilegedUser } from '../helpers/unprivileged-user.js';

// RUN, a file given to another owner, a cache mount, a secret, a deleted file (a whiteout) and a replaced folder (an
// opaque one): what a rootless snapshot must write as a rootful one does. The uid_map line shows where RUN ran.
const DOCKERFILE = `FROM busybox
COPY --chown=1000:1000 app.txt /home/app/app.txt
RUN --mount=type=cache,target=/cache --mount=type=secret,id=token \\
    cat /run/secrets/token >> /cache/seen && wc -c < /run/secrets/token > /token-size && cat /proc/self/uid_map
RUN rm /etc/group && rm -rf /home/app && mkdir -p /home/app && echo again > /home/app/again && chown -R 1000:1000 /home/app
`;
const SOURCE_DATE_EPOCH = '1700000000';

describe('tbuild build as an ordinary user (rootless)', () => {
  const env = useBuildEnvironment();
  let user: UnprivilegedUser;
  let lone: UnprivilegedUser;
  let work: string;
  let ctx: string;

  beforeAll(async () => {
    await checkRootlessTools();
    user = await createUnprivilegedUser({ subordinateIds: true });
    lone = await createUnprivilegedUser({ subordinateIds: false });
    // The users read the context and settings, and write their outputs, in a folder of the build environment.
    await chmod(env.tmp.path, 0o755);
    work = join(env.tmp.path, 'rootless');
    ctx = join(work, 'ctx');
    await mkdir(ctx, { recursive: true });
    await chmod(work, 0o1777);
    await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE);
    await writeFile(join(ctx, 'app.txt'), 'app\n');
    await writeFile(join(work, 'token'), 's3cret-token\n', { mode: 0o644 });
    await chmod(env.config, 0o644);
  });

  afterAll(async () => {
    await user?.[Symbol.asyncDispose]();
    await lone?.[Symbol.asyncDispose]();
  });

  it('builds with RUN, COPY --chown, a cache mount and a secret and pushes the image a rootful build makes', async () => {
    const h = env.registry.host;
    const common = ['--config', env.config, '--progress', 'plain', '--secret', `id=token,src=${join(work, 'token')}`];
    const buildEnv = { SOURCE_DATE_EPOCH, BUILDX_NO_DEFAULT_ATTESTATIONS: '1' };
    // As with BuildKit, the layers' file times are the epoch's only when the output rewrites them.
    const pushTo = (tag: string): string => `type=image,name=${h}/rootless/app:${tag},push=true,rewrite-timestamp=true`;
    const userMeta = join(work, 'user-meta.json');
    const rootless = await user.runTbuild(['build', ...common, '--metadata-file', userMeta, '--output', pushTo('user'), ctx], { env: buildEnv });
    expect(rootless.code, rootless.stderr).toBe(0);
    // RUN ran as root of the user's namespace: id 0 is the user, and the subordinate range follows.
    expect(rootless.stderr).toMatch(new RegExp(`^#\\d+ [\\d.]+ +0 +${user.uid} +1$`, 'm'));
    expect(rootless.stderr).not.toContain('warning: running rootless with one id');
    // State is the user's own, under XDG_DATA_HOME's default.
    await access(join(user.home, '.local/share/tbuild/snapshots'));
    expect((await stat(join(user.home, '.local/share/tbuild'))).uid).toBe(user.uid);

    const rootMeta = join(work, 'root-meta.json');
    const rootful = await runTbuild(['build', ...common, '--root', join(env.tmp.path, 'root'), '--metadata-file', rootMeta, '--output', pushTo('root'), ctx], { env: buildEnv });
    expect(rootful.code, rootful.stderr).toBe(0);
    expect(rootful.stderr).toMatch(/^#\d+ [\d.]+ +0 +0 +4294967295$/m);

    const digest = await metadataDigest(userMeta);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await metadataDigest(rootMeta)).toBe(digest);
    for (const tag of ['user', 'root']) {
      const inspect = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${h}/rootless/app:${tag}`]);
      expect(inspect.code, inspect.stderr).toBe(0);
      expect((JSON.parse(inspect.stdout) as { Digest: string }).Digest).toBe(digest);
    }
  });

  it('warns of one id without subordinate ids, builds what root owns, and names the cause of a chown it cannot do', async () => {
    const own = join(work, 'lone');
    await mkdir(own, { recursive: true });
    await chown(own, lone.uid, lone.gid);
    const scratch = join(own, 'scratch');
    await mkdir(scratch);
    await writeFile(join(scratch, 'f'), 'f\n');
    await writeFile(join(scratch, 'Dockerfile'), 'FROM scratch\nCOPY f /f\n');
    await run('chown', ['-R', `${lone.uid}:${lone.gid}`, own]);
    const ok = await lone.runTbuild(['build', '--progress', 'plain', '-o', `type=tar,dest=${join(own, 'out.tar')}`, scratch]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain(`tbuild: warning: running rootless with one id: /etc/subuid grants user "${lone.name}" no subordinate ids`);
    const listing = await run('tar', ['-tvf', join(own, 'out.tar'), '--numeric-owner']);
    expect(listing.stdout).toMatch(/^-rw-r--r-- 0\/0 .* f$/m);

    await writeFile(join(scratch, 'Dockerfile'), 'FROM scratch\nCOPY --chown=1000:1000 f /f\n');
    const refused = await lone.runTbuild(['build', '--progress', 'plain', '-o', `type=tar,dest=${join(own, 'out2.tar')}`, scratch]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('to owner 1000:1000: tbuild runs rootless, and its user namespace maps only user id 0 and group id 0');
    expect(refused.stderr).toContain('hint: give the user a range of subordinate ids in /etc/subuid and /etc/subgid (see README, Rootless)');

    // RUN works on an image whose files root owns (its groups are the user's own: the namespace denies setgroups).
    const h = env.registry.host;
    const flat = join(own, 'flat');
    await mkdir(flat);
    await writeFile(join(flat, 'Dockerfile'), 'FROM busybox AS b\nRUN chown -R 0:0 /home\nFROM scratch\nCOPY --from=b / /\n');
    const pushed = await runTbuild(['build', '--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'plain', '--output', `type=image,name=${h}/rootless/root-only:1,push=true`, flat]);
    expect(pushed.code, pushed.stderr).toBe(0);
    await writeFile(join(scratch, 'Dockerfile'), `FROM ${h}/rootless/root-only:1\nRUN echo hi > /hi && id\n`);
    const ran = await lone.runTbuild(['build', '--progress', 'plain', '-o', `type=tar,dest=${join(own, 'ran.tar')}`, scratch]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stderr).toMatch(/^#\d+ [\d.]+ uid=0\(root\) gid=0\(root\)/m);
    expect((await run('tar', ['-tvf', join(own, 'ran.tar'), '--numeric-owner'])).stdout).toMatch(/^-rw-r--r-- 0\/0 .* hi$/m);

    // An image with files of other owners cannot be unpacked, and says why.
    const base = await lone.runTbuild(['build', '--config', env.config, '--progress', 'plain', '-o', `type=tar,dest=${join(own, 'out3.tar')}`, ctx]);
    expect(base.code).toBe(1);
    expect(base.stderr).toContain('Cannot give "/home/app" to owner 1000:1000: tbuild runs rootless');
  });

  it('refuses RUN resource limits and another OCI runtime rootless, naming the cause', async () => {
    const limited = await user.runTbuild(['build', '--config', env.config, '--progress', 'plain', '--memory', '64m', ctx]);
    expect(limited.code).toBe(2);
    expect(limited.stderr).toContain('Cannot limit the resources of RUN steps: tbuild runs rootless, and cgroups are the host root\'s');
    const parent = await user.runTbuild(['build', '--config', env.config, '--progress', 'plain', '--cgroup-parent', 'builds', ctx]);
    expect(parent.code).toBe(2);
    expect(parent.stderr).toContain('Cannot place RUN steps under cgroup parent "builds": tbuild runs rootless');
    const runc = await user.runTbuild(['build', '--config', env.config, '--oci-runtime', 'runc', ctx]);
    expect(runc.code).toBe(2);
    expect(runc.stderr).toContain('Cannot run RUN steps with --oci-runtime runc: tbuild runs rootless');
  });

  it('runs the launcher\'s resident builder in the user\'s namespace, which serves the next build', async () => {
    const tree = await copyBuiltTree(join(work, 'tree'));
    const runtime = join(user.home, 'run');
    await mkdir(runtime, { mode: 0o700 });
    await chown(runtime, user.uid, user.gid);
    const socketDir = join(runtime, 'tbuild');
    const launch = (): Promise<CliResult> =>
      user.runAs(tree.launcher, ['build', '--config', env.config, '--progress', 'plain', '--secret', `id=token,src=${join(work, 'token')}`, ctx], {
        env: { XDG_RUNTIME_DIR: runtime, TBUILD_NODE: process.execPath },
      });
    const first = await launch();
    expect(first.code, first.stderr).toBe(0);
    await waitFor(async () => (await liveDaemonPid(await readDaemonLog(socketDir))) !== undefined, 'a resident builder to start');
    await access(join(socketDir, 'daemon.sock'));
    const pid = await liveDaemonPid(await readDaemonLog(socketDir));
    // The resident builder is root of a namespace whose root is the user, as a direct build is.
    expect((await readFile(`/proc/${pid}/uid_map`, 'utf8')).trim().split('\n')[0]?.trim().split(/\s+/)).toEqual(['0', String(user.uid), '1']);
    const second = await launch();
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/RUN rm \/etc\/group.*\n#\d+ CACHED/);
    expect((await readDaemonLog(socketDir)).split('\n').filter((l) => l.includes('build served'))).toHaveLength(1);
  });
});
