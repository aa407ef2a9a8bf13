import { execFile } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MULTIARCH_IMAGES, MULTIARCH_REPOSITORY, multiarchBusyboxLayout, seedMultiarchBusybox, SEED_TIMEOUT_MS } from '../fixtures/multiarch-busybox.js';
import { startRegistry, type TestRegistry } from '../fixtures/registry.js';
import { makeTempDir, type TempDir } from '../helpers/cli.js';

const execFileAsync = promisify(execFile);

interface IndexDoc {
  mediaType: string;
  manifests: { digest: string; platform?: { os: string; architecture: string; variant?: string } }[];
}

/** ELF e_machine of the file: 62 x86-64, 183 AArch64, 40 ARM. */
async function elfMachine(path: string): Promise<number> {
  await using file = await open(path);
  const header = Buffer.alloc(20);
  await file.read(header, 0, 20, 0);
  return header.readUInt16LE(18);
}

describe('multi-platform busybox fixture', () => {
  let registry: TestRegistry;
  let tmp: TempDir;
  beforeAll(async () => {
    registry = await startRegistry();
    tmp = await makeTempDir();
    await seedMultiarchBusybox(registry.host);
  }, SEED_TIMEOUT_MS);
  afterAll(async () => {
    await tmp[Symbol.asyncDispose]();
    await registry.stop();
  });

  it('is built once: the cached layout is reused', async () => {
    expect(await multiarchBusyboxLayout()).toBe(await multiarchBusyboxLayout());
  });

  it('is pushed as one image index of amd64, arm64/v8 and arm/v7', async () => {
    const { stdout } = await execFileAsync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/${MULTIARCH_REPOSITORY}:latest`]);
    const index = JSON.parse(stdout) as IndexDoc;
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests.map((m) => m.platform)).toEqual(MULTIARCH_IMAGES.map((m) => m.platform));
  });

  it("holds each platform's own busybox binary", async () => {
    const machines = { amd64: 62, arm64: 183, arm: 40 } as const;
    for (const image of MULTIARCH_IMAGES) {
      const { architecture, variant } = image.platform;
      const name = `${architecture}${variant ?? ''}`;
      const layout = join(tmp.path, `layout-${name}`);
      const bundle = join(tmp.path, `bundle-${name}`);
      const platform = ['--override-os', 'linux', '--override-arch', architecture, ...(variant === undefined ? [] : ['--override-variant', variant])];
      await execFileAsync('skopeo', [...platform, 'copy', '--quiet', '--src-tls-verify=false', `docker://${registry.host}/${MULTIARCH_REPOSITORY}:latest`, `oci:${layout}:x`]);
      await execFileAsync('umoci', ['unpack', '--image', `${layout}:x`, bundle]);
      expect(await elfMachine(join(bundle, 'rootfs/bin/busybox'))).toBe(machines[architecture as keyof typeof machines]);
      expect(await readFile(join(bundle, 'rootfs/etc/passwd'), 'utf8')).toContain('root:x:0:0:');
    }
  });
});
