import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectOutput, metadataDigest, REPO_ROOT, runTbuild, type CliResult } from '../helpers/cli.js';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { waitFor } from '../helpers/launcher.js';
import { startServe } from '../helpers/remote-server.js';
import { checkRootlessTools, createUnprivilegedUser, type UnprivilegedUser } from '../helpers/unprivileged-user.js';

/**
 * A container's /proc as runc leaves it (Docker's and Kubernetes' default): its maskedPaths covered (a directory by a
 * read-only tmpfs, a file by /dev/null) and its readonlyPaths bound read-only over themselves. The script does it in a
 * mount namespace of the test's own, then runs tbuild as the user: the user namespace tbuild makes copies these
 * mounts locked (it may not remove them), and the kernel then refuses it a new proc filesystem (fs/namespace.c,
 * mount_too_revealing: a proc mount is allowed in a user namespace only while a proc mount it can see has nothing
 * locked over it but permanently empty directories, such as /proc/sys/fs/binfmt_misc). Missing paths are skipped, as
 * runc skips them (this kernel has no /proc/kcore); one covered file is enough for the refusal.
 */
const MASK_PROC = `set -e
for p in /proc/acpi /proc/asound /proc/kcore /proc/keys /proc/latency_stats /proc/timer_list /proc/timer_stats /proc/sched_debug /proc/scsi /sys/firmware /sys/devices/virtual/powercap; do
  if [ -d "$p" ]; then mount -t tmpfs -o ro tmpfs "$p"; elif [ -e "$p" ]; then mount --bind /dev/null "$p"; fi
done
for p in /proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger; do
  if [ -e "$p" ]; then mount --rbind "$p" "$p"; mount -o remount,bind,ro "$p"; fi
done
uid=$1 gid=$2 home=$3; shift 3
exec setpriv --reuid="$uid" --regid="$gid" --clear-groups -- env -i PATH="$PATH" HOME="$home" SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" BUILDX_NO_DEFAULT_ATTESTATIONS=1 "$@"
`;

// ps and ls read /proc; the background sleep outlives its RUN's shell. Only what they leave in files is in the image.
const DOCKERFILE = `FROM busybox
RUN ls /proc/self/fd && ps -o pid,args && echo built > /built
RUN sleep 1234 & echo started > /started
`;
const SOURCE_DATE_EPOCH = '1700000000';

/** sleepers lists the processes running `sleep SECONDS` (1234: the background process of DOCKERFILE). */
async function sleepers(seconds = 1234): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (cmdline === `sleep\u0000${seconds}\u0000`) found.push(Number(name));
  }
  return found;
}

describe('RUN where /proc is masked (a container of Docker or Kubernetes), rootless', () => {
  const env = useBuildEnvironment();
  let user: UnprivilegedUser;
  let work: string;
  let ctx: string;
  let settingsOff: string;

  beforeAll(async () => {
    await checkRootlessTools(['setpriv']);
    user = await createUnprivilegedUser({ subordinateIds: true });
    await chmod(env.tmp.path, 0o755);
    work = join(env.tmp.path, 'masked');
    ctx = join(work, 'ctx');
    await mkdir(ctx, { recursive: true });
    await chmod(work, 0o1777);
    await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE);
    await chmod(env.config, 0o644);
    settingsOff = join(work, 'no-sandbox.toml');
    await writeFile(settingsOff, `${await readFile(env.config, 'utf8')}\n[executor]\nprocess-sandbox = false\n`, { mode: 0o644 });
  });

  afterAll(async () => {
    await user?.[Symbol.asyncDispose]();
  });

  /** masked is the command line that runs a command as the user in a mount namespace whose /proc runc would mask. */
  const masked = (): string[] => ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', MASK_PROC, 'sh', String(user.uid), String(user.gid), user.home];
  /** maskedTbuild runs tbuild as the user where /proc is masked; `started` gets the process (to signal it). */
  const maskedTbuild = (args: readonly string[], started?: (child: ChildProcess) => void): Promise<CliResult> => {
    const [file = 'unshare', ...prefix] = masked();
    const child = spawn(file, [...prefix, process.execPath, join(REPO_ROOT, 'bin', 'tbuild.js'), ...args], {
      cwd: user.home,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', SOURCE_DATE_EPOCH },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started?.(child);
    return collectOutput(child);
  };
  const pushTo = (tag: string): string => `type=image,name=${env.registry.host}/masked/app:${tag},push=true,rewrite-timestamp=true`;

  it('fails a RUN with an error that says /proc is masked and names the flag and the setting', async () => {
    const r = await maskedTbuild(['build', '--config', env.config, '--progress', 'plain', '--no-cache', ctx]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('cannot mount /proc for its PID namespace: the kernel refuses a user namespace a new /proc while the /proc it sees is partly masked or read-only');
    expect(r.stderr).toContain('mount /proc: Operation not permitted');
    expect(r.stderr).toContain('hint: run tbuild with --no-process-sandbox (tbuild serve or tbuild build), or set [executor] process-sandbox = false in the settings file');
    expect(await sleepers()).toEqual([]);
  });

  it("runs RUN steps in tbuild's PID namespace with --no-process-sandbox, kills what they leave, and builds the sandboxed build's image", async () => {
    const flagMeta = join(work, 'flag-meta.json');
    const flag = await maskedTbuild(['build', '--config', env.config, '--progress', 'plain', '--no-cache', '--no-process-sandbox', '--metadata-file', flagMeta, '--output', pushTo('flag'), ctx]);
    expect(flag.code, flag.stderr).toBe(0);
    // ls /proc/self/fd lists the shell's descriptors; ps shows tbuild itself, in the PID namespace the RUN shares.
    expect(flag.stderr).toMatch(/^#\d+ [\d.]+ 0\n#\d+ [\d.]+ 1\n#\d+ [\d.]+ 2\n/m);
    expect(flag.stderr).toMatch(/^#\d+ [\d.]+ +\d+ +\S*node \S*bin\/tbuild\.js build /m);
    // The step ended once its shell did: the sleep it left in the background was killed, not waited for.
    expect(await sleepers()).toEqual([]);

    // The settings file's [executor] process-sandbox = false does the same.
    const settingMeta = join(work, 'setting-meta.json');
    const setting = await maskedTbuild(['build', '--config', settingsOff, '--progress', 'plain', '--no-cache', '--metadata-file', settingMeta, '--output', pushTo('setting'), ctx]);
    expect(setting.code, setting.stderr).toBe(0);
    expect(await sleepers()).toEqual([]);

    // Where /proc is not masked, the same build in the process sandbox: ps sees only the RUN's own processes.
    const sandboxMeta = join(work, 'sandbox-meta.json');
    const sandboxed = await user.runTbuild(['build', '--config', env.config, '--progress', 'plain', '--no-cache', '--metadata-file', sandboxMeta, '--output', pushTo('sandbox'), ctx], {
      env: { SOURCE_DATE_EPOCH, BUILDX_NO_DEFAULT_ATTESTATIONS: '1' },
    });
    expect(sandboxed.code, sandboxed.stderr).toBe(0);
    expect(sandboxed.stderr).not.toMatch(/bin\/tbuild\.js build/);
    const digest = await metadataDigest(sandboxMeta);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await metadataDigest(flagMeta)).toBe(digest);
    expect(await metadataDigest(settingMeta)).toBe(digest);
    // Three builds with RUN steps: room for a loaded machine.
  }, 300_000);

  it('kills a RUN step and what it started when the build is cancelled, without a process sandbox', async () => {
    const cancelled = join(work, 'cancelled');
    await mkdir(cancelled, { recursive: true });
    await writeFile(join(cancelled, 'Dockerfile'), 'FROM busybox\nRUN sleep 1236 & sleep 1237\n');
    let build: ChildProcess | undefined;
    const done = maskedTbuild(['build', '--config', env.config, '--progress', 'plain', '--no-cache', '--no-process-sandbox', cancelled], (c) => (build = c));
    await waitFor(async () => (await sleepers(1237)).length > 0, 'the RUN step to start');
    expect(await sleepers(1236)).toHaveLength(1);
    build?.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    expect([...(await sleepers(1236)), ...(await sleepers(1237))]).toEqual([]);
  });

  it('serves builds from a rootless tbuild serve --no-process-sandbox where /proc is masked, as the Kubernetes pods run', async () => {
    const address = `unix://${join(work, 'serve.sock')}`;
    await using server = await startServe(['--addr', address, '--root', join(user.home, 'serve-root'), '--config', env.config, '--no-process-sandbox'], { launcher: masked() });
    expect(server.log()).toContain('RUN steps run without a process sandbox: they share the server');
    const r = await runTbuild(['build', '--builder', address, '--progress', 'plain', '--no-cache', ctx]);
    expect(r.code, r.stderr).toBe(0);
    // The RUN's ps shows the server, whose PID namespace it shares.
    expect(r.stderr).toMatch(/^#\d+ [\d.]+ +\d+ +\S*node \S*bin\/tbuild\.js serve /m);
    expect(await sleepers()).toEqual([]);
    expect(await server.stop()).toBe(0);
  });

  it('refuses --no-process-sandbox as root, as BuildKit refuses it without rootless, and with a remote builder', async () => {
    const r = await runTbuild(['build', '--root', join(env.tmp.path, 'root'), '--config', env.config, '--no-process-sandbox', ctx]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Cannot use --no-process-sandbox: tbuild runs as root, where RUN steps could signal any process of the host');
    const serve = await runTbuild(['serve', '--addr', `unix://${join(env.tmp.path, 'refused.sock')}`, '--root', join(env.tmp.path, 'serve-root'), '--no-process-sandbox']);
    expect(serve.code).toBe(2);
    expect(serve.stderr).toContain('Cannot use --no-process-sandbox: tbuild runs as root');
    // A remote builder runs RUN steps as its server was started: the client's flag would change nothing.
    const remote = await runTbuild(['build', '--builder', `unix://${join(env.tmp.path, 'none.sock')}`, '--no-process-sandbox', ctx]);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain('Cannot use --no-process-sandbox with --builder: the builder runs RUN steps as its server was started');
  });
});
