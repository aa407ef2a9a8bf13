import { execFile } from 'node:child_process';
import { lstat, mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxOciLayout } from '../fixtures/busybox-image.js';
import { TEST_CREDENTIALS, seedBusybox, startRegistry, type TestRegistry } from '../fixtures/registry.js';

const execFileAsync = promisify(execFile);

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tbuild-fixture-test-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('busybox layout', () => {
  it('is deterministic', async () => {
    const a = await withTempDir(async (dir) => {
      await makeBusyboxOciLayout(dir);
      return readFile(join(dir, 'index.json'), 'utf8');
    });
    const b = await withTempDir(async (dir) => {
      await makeBusyboxOciLayout(dir);
      return readFile(join(dir, 'index.json'), 'utf8');
    });
    expect(a).toBe(b);
  });

  it('unpacks with umoci into a busybox rootfs', async () => {
    await withTempDir(async (dir) => {
      const layout = join(dir, 'layout');
      const bundle = join(dir, 'bundle');
      await makeBusyboxOciLayout(layout);
      await execFileAsync('umoci', ['unpack', '--image', `${layout}:latest`, bundle]);
      const rootfs = join(bundle, 'rootfs');
      expect((await lstat(join(rootfs, 'bin/sh'))).isSymbolicLink()).toBe(true);
      expect(await readlink(join(rootfs, 'bin/sh'))).toBe('/bin/busybox');
      expect((await lstat(join(rootfs, 'bin/busybox'))).isFile()).toBe(true);
      expect((await stat(join(rootfs, 'tmp'))).mode & 0o7777).toBe(0o1777);
      const home = await stat(join(rootfs, 'home/app'));
      expect([home.uid, home.gid]).toEqual([1000, 1000]);
      expect(await readFile(join(rootfs, 'etc/passwd'), 'utf8')).toContain('app:x:1000:1000:');
      expect(await readFile(join(rootfs, 'etc/group'), 'utf8')).toContain('nogroup:x:65534:');
      const config = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as { process: { args: string[] } };
      expect(config.process.args).toEqual(['sh']);
    });
  });
});

describe('test registry', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
    await seedBusybox(registry.host);
  });
  afterAll(async () => {
    await registry.stop();
  });

  it('serves the seeded busybox image', async () => {
    const { stdout } = await execFileAsync('skopeo', [
      'inspect', '--tls-verify=false', `docker://${registry.host}/library/busybox:latest`,
    ]);
    const info = JSON.parse(stdout) as { Os: string; Architecture: string; Layers: string[]; Env: string[] };
    expect(info.Os).toBe('linux');
    expect(info.Layers).toHaveLength(1);
    expect(info.Env).toContain('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  });

  it('supports Basic auth and TLS', async () => {
    await using secure = await startRegistry({ htpasswd: true, tls: true });
    expect(secure.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const anonymous = await fetch(`${registry.url}/v2/`);
    expect(anonymous.status).toBe(200);
    await expect(
      execFileAsync('skopeo', ['inspect', '--tls-verify=false', `docker://${secure.host}/library/busybox:latest`]),
    ).rejects.toThrow(/unauthorized|authentication required/i);
    const creds = `${TEST_CREDENTIALS.username}:${TEST_CREDENTIALS.password}`;
    await expect(
      execFileAsync('skopeo', ['inspect', '--tls-verify=false', '--creds', creds, `docker://${secure.host}/library/nope:latest`]),
    ).rejects.toThrow(/manifest unknown|not found/i);
  });
});
