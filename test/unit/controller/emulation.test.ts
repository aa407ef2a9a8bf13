import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../base/errors.js';
import { hostPlatform, type Platform } from '../../../base/oci.js';
import { checkStepPlatforms } from '../../../controller/emulation.js';
import { compileDockerfile } from '../../../frontend/index.js';
import type { Vertex } from '../../../solver/graph/index.js';
import { fakeMachine, handlerFile } from '../executor/binfmt-fixture.js';
import { compileOptions } from '../frontend/compile-fixture.js';

async function graphFor(targetPlatform: Platform, text = 'FROM scratch\nRUN true\n'): Promise<Vertex> {
  const def = await compileDockerfile(text, compileOptions({ targetPlatform }));
  if (def.root === null) throw new Error('no graph');
  return def.root.vertex;
}

const ARM64: Platform = { os: 'linux', architecture: 'arm64' };

describe('checkStepPlatforms', () => {
  it('fails before any step runs when no emulator runs the platform, naming it and the fix', async () => {
    await using m = await fakeMachine({ 'qemu-arm': handlerFile('arm') });
    const failure = checkStepPlatforms(await graphFor(ARM64), m);
    await expect(failure).rejects.toBeInstanceOf(ConfigError);
    await expect(failure).rejects.toMatchObject({
      message: expect.stringMatching(/^Cannot run "\[1\/1\] RUN true" for linux\/arm64: no emulator for arm64 is registered with binfmt_misc/),
      hint: expect.stringContaining('tbuild binfmt --install arm64'),
    });
  });

  it('passes when an emulator with the F flag runs the platform, or the steps run natively', async () => {
    await using m = await fakeMachine({ 'qemu-aarch64': handlerFile('aarch64') });
    await expect(checkStepPlatforms(await graphFor(ARM64), m)).resolves.toBeUndefined();
    await expect(checkStepPlatforms(await graphFor(hostPlatform()), m)).resolves.toBeUndefined();
    // No RUN step: nothing to run, whatever the platform.
    await expect(checkStepPlatforms(await graphFor({ os: 'linux', architecture: 's390x' }, 'FROM scratch\nCOPY --from=busybox /bin/sh /\n'), m)).resolves.toBeUndefined();
  });

  it('says why a registered handler cannot serve, and how to register it again', async () => {
    await using m = await fakeMachine({ 'qemu-aarch64': handlerFile('aarch64', { flags: 'P' }) });
    await expect(checkStepPlatforms(await graphFor(ARM64), m)).rejects.toMatchObject({
      message: expect.stringContaining('handler "qemu-aarch64" has no F flag'),
      hint: 're-register it: tbuild binfmt --uninstall arm64 && tbuild binfmt --install arm64',
    });
  });

  it('says when binfmt_misc is not mounted', async () => {
    await using m = await fakeMachine({}, { mounted: false });
    await expect(checkStepPlatforms(await graphFor(ARM64), m)).rejects.toMatchObject({ message: expect.stringContaining('binfmt_misc is not mounted') });
  });

  it('names the supported levels of an amd64 variant the CPU lacks, as BuildKit does', async () => {
    await using m = await fakeMachine({});
    const failure = checkStepPlatforms(await graphFor({ os: 'linux', architecture: 'amd64', variant: 'v4' }), m);
    await expect(failure).rejects.toBeInstanceOf(ConfigError);
    // Elsewhere amd64 is a foreign architecture, and the fake machine has no emulator for it.
    if (hostPlatform().architecture !== 'amd64') return;
    await expect(failure).rejects.toMatchObject({
      message: 'Cannot run "[1/1] RUN true" for linux/amd64/v4: no support for running processes with linux/amd64/v4 platform, supported: linux/amd64, linux/amd64/v2, linux/386',
    });
  });
});
