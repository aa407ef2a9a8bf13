import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../base/errors.js';
import { formatPlatform, hostPlatform } from '../../../base/oci.js';
import { handlerPlatforms, parseBinfmtHandler, readBinfmtState } from '../../../executor/binfmt.js';
import { installEmulators, parseBinfmtFormat, qemuArchitecture, registrationLine, uninstallEmulators } from '../../../executor/binfmt-register.js';
import { amd64Levels, detectRunnablePlatforms, runnerOf } from '../../../executor/runnable-platforms.js';
import { DEBIAN_FORMAT, fakeMachine, handlerFile, HANDLERS } from './binfmt-fixture.js';

const platformsOf = (qemu: keyof typeof HANDLERS): string[] => {
  const handler = parseBinfmtHandler(`qemu-${qemu}`, handlerFile(qemu));
  if (handler === undefined) throw new Error('no handler');
  return handlerPlatforms(handler).map(formatPlatform);
};

describe('binfmt_misc handlers', () => {
  it('reads a handler file as the kernel lists it', () => {
    const h = parseBinfmtHandler('qemu-aarch64', handlerFile('aarch64'));
    expect(h).toMatchObject({ name: 'qemu-aarch64', enabled: true, interpreter: '/usr/libexec/qemu-binfmt/aarch64-binfmt-P', flags: 'PF', offset: 0 });
    expect(h?.magic.length).toBe(20);
    expect(parseBinfmtHandler('jar', 'enabled\ninterpreter /usr/bin/jexec\nflags: \nextension .jar\n')).toBeUndefined();
  });

  it("tells the platforms a handler runs from its magic and mask, big-endian ones too", () => {
    expect(platformsOf('aarch64')).toEqual(['linux/arm64']);
    expect(platformsOf('arm')).toEqual(['linux/arm/v7', 'linux/arm/v6']);
    expect(platformsOf('s390x')).toEqual(['linux/s390x']);
    expect(platformsOf('riscv64')).toEqual(['linux/riscv64']);
    expect(platformsOf('ppc64le')).toEqual(['linux/ppc64le']);
    const python = parseBinfmtHandler('python3.11', 'enabled\ninterpreter /usr/bin/python3.11\nflags: \noffset 0\nmagic a70d0d0a\n');
    expect(python === undefined ? undefined : handlerPlatforms(python)).toEqual([]);
  });

  it('reads an unmounted binfmt_misc as no handlers', async () => {
    await using m = await fakeMachine({ 'qemu-aarch64': handlerFile('aarch64') }, { mounted: false });
    expect(await readBinfmtState(m.binfmtDir)).toEqual({ mounted: false, enabled: false, handlers: [] });
    expect(await readBinfmtState(join(m.binfmtDir, 'missing'))).toMatchObject({ mounted: false });
  });
});

describe('detectRunnablePlatforms', () => {
  it('lists native platforms, emulators with the F flag, and handlers that cannot serve a sandbox', async () => {
    await using m = await fakeMachine({
      'qemu-aarch64': handlerFile('aarch64'),
      'qemu-arm': handlerFile('arm', { flags: 'P' }),
      'qemu-s390x': handlerFile('s390x', { enabled: false }),
    });
    const r = await detectRunnablePlatforms(m);
    if (hostPlatform().architecture === 'amd64') expect(r.native.map(formatPlatform)).toEqual(['linux/amd64', 'linux/amd64/v2', 'linux/386']);
    expect(r.emulated.map((e) => [e.handler, formatPlatform(e.platform)])).toEqual([['qemu-aarch64', 'linux/arm64']]);
    expect(r.unusable.map((u) => [u.handler, formatPlatform(u.platform), u.reason])).toEqual([
      ['qemu-arm', 'linux/arm/v7', 'no-fix-binary'],
      ['qemu-arm', 'linux/arm/v6', 'no-fix-binary'],
      ['qemu-s390x', 'linux/s390x', 'disabled'],
    ]);
    expect(r.binfmt).toBe('enabled');
  });

  it('runs older variants on an emulator, but no 32-bit arm on an arm64 emulator', async () => {
    await using m = await fakeMachine({ 'qemu-aarch64': handlerFile('aarch64'), 'qemu-arm': handlerFile('arm') });
    const r = await detectRunnablePlatforms(m);
    expect(runnerOf(r, { os: 'linux', architecture: 'arm', variant: 'v5' })).toMatchObject({ handler: 'qemu-arm' });
    expect(runnerOf(r, { os: 'linux', architecture: 'arm64', variant: 'v8' })).toMatchObject({ handler: 'qemu-aarch64' });
    await using only64 = await fakeMachine({ 'qemu-aarch64': handlerFile('aarch64') });
    expect(runnerOf(await detectRunnablePlatforms(only64), { os: 'linux', architecture: 'arm', variant: 'v7' })).toBeUndefined();
    expect(runnerOf(r, { os: 'linux', architecture: 's390x' })).toBeUndefined();
    expect(runnerOf(r, hostPlatform())).toBe('native');
  });

  it('reads the amd64 levels a CPU reaches from its flags', () => {
    const v2 = 'cx16 lahf_lm popcnt sse4_1 sse4_2 ssse3';
    const v3 = `${v2} avx avx2 bmi1 bmi2 f16c fma abm movbe xsave`;
    expect(amd64Levels(`flags\t: fpu ${v2}\n`)).toEqual(['v2']);
    expect(amd64Levels(`flags\t: ${v3}\n`)).toEqual(['v2', 'v3']);
    expect(amd64Levels(`flags\t: ${v3} avx512f avx512bw avx512cd avx512dq avx512vl\n`)).toEqual(['v2', 'v3', 'v4']);
    expect(amd64Levels('flags\t: fpu sse2\n')).toEqual([]);
  });
});

describe('registering emulators', () => {
  it("reads Debian's binfmts format and always registers with the F flag", () => {
    const format = parseBinfmtFormat(DEBIAN_FORMAT);
    expect(format).toMatchObject({ interpreter: '/usr/libexec/qemu-binfmt/aarch64-binfmt-P', offset: '0', credentials: false, preserve: true });
    expect(registrationLine('qemu-aarch64', format)).toBe(`:qemu-aarch64:M:0:${format.magic}:${format.mask}:/usr/libexec/qemu-binfmt/aarch64-binfmt-P:FP`);
    expect(registrationLine('x', { ...format, preserve: false, credentials: true })).toMatch(/:FC$/);
  });

  it('names architectures the OCI way, as platforms or as QEMU does', () => {
    expect(qemuArchitecture('arm64')).toEqual({ architecture: 'arm64', qemu: 'aarch64' });
    expect(qemuArchitecture('linux/arm64/v8')).toEqual({ architecture: 'arm64', qemu: 'aarch64' });
    expect(qemuArchitecture('aarch64')).toEqual({ architecture: 'arm64', qemu: 'aarch64' });
    expect(qemuArchitecture('armhf')).toEqual({ architecture: 'arm', qemu: 'arm' });
    expect(qemuArchitecture('mips64le')).toEqual({ architecture: 'mips64le', qemu: 'mips64el' });
    expect(() => qemuArchitecture('wasm')).toThrow(ConfigError);
  });

  it('writes the registration line, and keeps a handler that already serves the architecture', async () => {
    await using m = await fakeMachine({});
    expect(await installEmulators(['arm64'], m)).toEqual([{ architecture: 'arm64', handler: 'qemu-aarch64', outcome: 'registered' }]);
    expect(await readFile(join(m.binfmtDir, 'register'), 'utf8')).toMatch(/^:qemu-aarch64:M:0:\\x7f\\x45.*:\/usr\/libexec\/qemu-binfmt\/aarch64-binfmt-P:FP$/);
    await using registered = await fakeMachine({ 'qemu-aarch64': handlerFile('aarch64') });
    expect(await installEmulators(['linux/arm64'], registered)).toEqual([{ architecture: 'arm64', handler: 'qemu-aarch64', outcome: 'already registered' }]);
    expect(await readFile(join(registered.binfmtDir, 'register'), 'utf8')).toBe('');
  });

  it('refuses to replace a handler without the F flag, and names the missing package', async () => {
    await using m = await fakeMachine({ 'qemu-aarch64': handlerFile('aarch64', { flags: 'P' }) });
    await expect(installEmulators(['arm64'], m)).rejects.toMatchObject({ message: expect.stringContaining('without the F flag'), hint: expect.stringContaining('--uninstall arm64') });
    await expect(installEmulators(['s390x'], m)).rejects.toMatchObject({ hint: expect.stringContaining('qemu-user-static') });
  });

  it('removes the handlers of an architecture by writing -1', async () => {
    await using m = await fakeMachine({ 'qemu-aarch64': handlerFile('aarch64') });
    expect(await uninstallEmulators(['arm64', 's390x'], m)).toEqual([
      { architecture: 'arm64', handler: 'qemu-aarch64', outcome: 'removed' },
      { architecture: 's390x', handler: 'qemu-s390x', outcome: 'not registered' },
    ]);
    expect(await readFile(join(m.binfmtDir, 'qemu-aarch64'), 'utf8')).toBe('-1');
  });
});
