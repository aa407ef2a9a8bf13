import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hostPlatform } from '../../base/oci.js';
import { MULTIARCH_IMAGES, MULTIARCH_REPOSITORY, seedMultiarchBusybox, SEED_TIMEOUT_MS } from '../fixtures/multiarch-busybox.js';
import { useBuildEnvironment, useRemoteBuilder } from '../helpers/build-env.js';
import { run, runTbuild } from '../helpers/cli.js';
import { runIsolated, unpackOciArchive, useEmulators } from '../helpers/emulation.js';

const DOCKERFILE = `FROM busybox-multiarch
ARG TARGETPLATFORM TARGETARCH TARGETVARIANT
RUN uname -m > /machine && echo "$TARGETPLATFORM|$TARGETARCH|$TARGETVARIANT" > /target
`;

describe('building for another architecture under emulation', () => {
  const env = useBuildEnvironment();
  const builder = useRemoteBuilder(env);
  useEmulators();
  let context: string;
  const flags = (): string[] => ['--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'plain'];

  beforeAll(async () => {
    await seedMultiarchBusybox(env.registry.host);
    context = join(env.tmp.path, 'context');
    await mkdir(context);
    await writeFile(join(context, 'Dockerfile'), DOCKERFILE);
  }, SEED_TIMEOUT_MS);

  async function buildOci(name: string, extra: readonly string[], dir = context) {
    const archive = join(env.tmp.path, `${name}.tar`);
    const res = await runTbuild(['build', ...flags(), ...extra, '-t', 'emulated:1', '-o', `type=oci,dest=${archive}`, dir]);
    expect(res.code, res.stderr).toBe(0);
    return { res, image: await unpackOciArchive(archive, join(env.tmp.path, name)) };
  }

  it.each([
    ['linux/arm64', 'aarch64', ['arm64', undefined], 'linux/arm64|arm64|'],
    ['linux/arm/v7', 'armv7l', ['arm', 'v7'], 'linux/arm/v7|arm|v7'],
  ])('runs the RUN steps of --platform %s emulated and labels the image with it', async (platform, machine, [architecture, variant], target) => {
    const { image } = await buildOci(`sandbox-${platform.replaceAll('/', '-')}`, ['--platform', platform]);
    expect(await readFile(join(image.rootfs, 'machine'), 'utf8')).toBe(`${machine}\n`);
    expect(await readFile(join(image.rootfs, 'target'), 'utf8')).toBe(`${target}\n`);
    expect([image.os, image.architecture, image.variant]).toEqual(['linux', architecture, variant]);
  });

  it.each(['runc', 'crun'])('runs emulated steps with --oci-runtime %s', async (runtime) => {
    const { image } = await buildOci(`${runtime}-arm64`, ['--platform', 'linux/arm64', '--oci-runtime', runtime, '--no-cache']);
    expect(await readFile(join(image.rootfs, 'machine'), 'utf8')).toBe('aarch64\n');
    const arm = await buildOci(`${runtime}-arm`, ['--platform', 'linux/arm/v7', '--oci-runtime', runtime, '--no-cache']);
    expect(await readFile(join(arm.image.rootfs, 'machine'), 'utf8')).toBe('armv7l\n');
  });

  it('picks the native image of the index without --platform', async () => {
    const { image } = await buildOci('native', []);
    const native = MULTIARCH_IMAGES.find((m) => m.platform.architecture === image.architecture);
    expect(native, `the fixture has no ${image.architecture} image`).toBeDefined();
    expect(await readFile(join(image.rootfs, 'machine'), 'utf8')).toBe(`${native?.machine ?? ''}\n`);
  });

  it('warns of a base made for another architecture and labels the image with the architecture its binaries have', async () => {
    const dir = join(env.tmp.path, 'mislabel');
    await mkdir(dir);
    // The test registry's busybox is a single-platform image of this machine's architecture.
    await writeFile(join(dir, 'Dockerfile'), 'FROM busybox\nRUN uname -m > /machine\n');
    const host = hostPlatform().architecture;
    const asked = host === 'arm64' ? 'linux/amd64' : 'linux/arm64';
    const { res, image } = await buildOci('mislabel', ['--platform', asked], dir);
    expect(res.stderr).toContain(`WARNING: InvalidBaseImagePlatform: Base image busybox was pulled with platform "linux/${host}", expected "${asked}" for current build (Dockerfile:1)`);
    // BuildKit (Docker 20.10's and current) labels the image with the platform asked for even so; tbuild's label
    // matches the binaries.
    expect(image.architecture).toBe(host);
    // The step ran natively: the binaries are this machine's.
    const native = MULTIARCH_IMAGES.find((m) => m.platform.architecture === host);
    expect(await readFile(join(image.rootfs, 'machine'), 'utf8')).toBe(`${native?.machine ?? ''}\n`);
  });

  it('builds on a base made only for an emulated platform without --platform, for that platform, as BuildKit does', async () => {
    const image = `${env.registry.host}/library/busybox-arm64only:latest`;
    const copy = await run('skopeo', ['copy', '--quiet', '--override-arch', 'arm64', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${env.registry.host}/${MULTIARCH_REPOSITORY}:latest`, `docker://${image}`]);
    expect(copy.code, copy.stderr).toBe(0);
    const dir = join(env.tmp.path, 'arm64only');
    await mkdir(dir);
    await writeFile(join(dir, 'Dockerfile'), 'FROM busybox-arm64only\nRUN uname -m > /machine\n');
    const { res, image: built } = await buildOci('arm64only', [], dir);
    expect(res.stderr).not.toContain('InvalidBaseImagePlatform');
    expect(await readFile(join(built.rootfs, 'machine'), 'utf8')).toBe('aarch64\n');
    expect([built.architecture, built.variant]).toEqual(['arm64', undefined]);
  });

  it('fails before any step runs when no emulator runs the platform, naming it and the fix', async () => {
    const res = await runIsolated(['build', ...flags(), '--platform', 'linux/arm64', context]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('ERROR: Cannot run "[2/2] RUN uname -m > /machine');
    expect(res.stderr).toContain('for linux/arm64: no emulator for arm64 is registered with binfmt_misc');
    expect(res.stderr).toContain("hint: register QEMU's emulator (Debian's qemu-user-static): tbuild binfmt --install arm64");
    // Nothing ran: the RUN step never started.
    expect(res.stderr).not.toMatch(/#\d+ \[2\/2\] RUN/);
  });

  it('registers an emulator with the F flag, lists the platform, and removes it again (in a namespace of its own)', async () => {
    const res = await runIsolated(['binfmt', '--install', 's390x']);
    expect(res.stdout, res.stderr).toContain('s390x: registered (qemu-s390x)\n');
    expect(res.stdout).toMatch(/Platforms:\t.*linux\/s390x/);
    expect(res.stdout).toMatch(/ {2}qemu-s390x\tlinux\/s390x\t\/usr\/libexec\/qemu-binfmt\/s390x-binfmt-P\n/);
    const again = await runIsolated(['binfmt', '--install', 'arm64', '--uninstall', 'arm64']);
    expect(again.stdout, again.stderr).toContain('arm64: not registered (qemu-aarch64)\narm64: registered (qemu-aarch64)\n');
    const empty = await runIsolated(['binfmt']);
    expect(empty.stdout).not.toContain('Emulators:');
  });

  it('lists the platforms this machine builds in tbuild info, embedded and from a remote builder', async () => {
    const res = await runTbuild(['info', '--root', join(env.tmp.path, 'root')]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/\nPlatforms:\t.*linux\/arm64.*linux\/arm\/v7/);
    const remote = await runTbuild(['info', '--builder', builder.address]);
    expect(remote.code, remote.stderr).toBe(0);
    expect(remote.stdout).toMatch(/\nPlatforms:\t.*linux\/arm64.*linux\/arm\/v7/);
  });
});
