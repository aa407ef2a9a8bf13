import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { run, runTbuild } from '../helpers/cli.js';
import { useBuildEnvironment, useRemoteBuilder } from '../helpers/build-env.js';

// A base without /dev, /proc, /sys, /etc, /run ..., then a RUN with every kind of mount.
const SCRATCH_RUN = [
  'FROM busybox AS bb',
  'FROM scratch',
  'COPY --from=bb /bin/busybox /bin/busybox',
  'RUN --mount=type=secret,id=s,target=/run/secrets/x --mount=type=secret,id=s --mount=type=cache,target=/cache/dir \\',
  '    --mount=type=bind,source=ctxdir,target=/mnt/b --mount=type=bind,source=ctxdir/f,target=/files/one \\',
  '    --mount=type=tmpfs,target=/tmp/t ["/bin/busybox", "true"]',
  '',
].join('\n');

// What BuildKit puts in that RUN's layer. Docker 20.10 (BuildKit 0.8) also keeps the directories it made for
// /etc/hosts, /etc/resolv.conf and the mount targets (etc/, run/secrets/, cache/dir/, mnt/b/, files/, tmp/t/ and
// their parents); current BuildKit removes them again with its recursive mount-stub cleanup, and tbuild follows it.
const RUNTIME_MOUNT_POINTS = ['drwxr-xr-x 0/0 dev/', 'drwxr-xr-x 0/0 proc/', 'drwxr-xr-x 0/0 sys/'];

/** lastLayer lists the last layer of an OCI archive as `mode uid/gid path` lines. */
async function lastLayer(archive: string, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const untar = await run('tar', ['-xf', archive, '-C', dir]);
  expect(untar.code, untar.stderr).toBe(0);
  const blob = async (digest: string): Promise<string> => join(dir, 'blobs', ...digest.split(':'));
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(await readFile(await blob(index.manifests[0]?.digest ?? ''), 'utf8')) as { layers: { digest: string }[] };
  const layer = await blob(manifest.layers.at(-1)?.digest ?? '');
  const listing = await run('tar', ['--numeric-owner', '-tvzf', layer]);
  expect(listing.code, listing.stderr).toBe(0);
  return listing.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const f = l.split(/\s+/);
      return `${f[0]} ${f[1]} ${f.at(-1)}`;
    });
}

describe('mount points in the layer of a RUN', () => {
  const env = useBuildEnvironment();
  const remote = useRemoteBuilder(env);
  const ctx = (): string => join(env.tmp.path, 'ctx');
  const embedded = (): string[] => ['--root', join(env.tmp.path, 'root'), '--config', env.config, '--no-cache'];
  let n = 0;
  const buildLayer = async (dockerfile: string, args: readonly string[]): Promise<string[]> => {
    await writeFile(join(ctx(), 'Dockerfile'), dockerfile);
    const out = join(env.tmp.path, `out-${n++}`);
    const res = await runTbuild(['build', ...args, '--secret', `id=s,src=${join(ctx(), 'secret.txt')}`, '--output', `type=oci,dest=${out}.tar`, ctx()]);
    expect(res.code, res.stderr).toBe(0);
    return lastLayer(`${out}.tar`, out);
  };

  beforeAll(async () => {
    await mkdir(join(ctx(), 'ctxdir'), { recursive: true });
    await writeFile(join(ctx(), 'ctxdir', 'f'), 'f\n');
    await writeFile(join(ctx(), 'secret.txt'), 'secret\n');
  });

  for (const runtime of ['sandbox', 'runc', 'crun'] as const) {
    it(`keeps the runtime's /dev, /proc and /sys, and no stub of /etc or a RUN --mount, on a bare base (${runtime})`, async () => {
      const select = runtime === 'sandbox' ? [] : ['--oci-runtime', runtime];
      expect(await buildLayer(SCRATCH_RUN, [...embedded(), ...select])).toEqual(RUNTIME_MOUNT_POINTS);
    });
  }

  it('does the same on a remote builder', async () => {
    expect(await buildLayer(SCRATCH_RUN, ['--builder', remote.address, '--no-cache'])).toEqual(RUNTIME_MOUNT_POINTS);
  });

  it('adds nothing on a base that has them, whatever the mounts (BuildKit: an empty layer)', async () => {
    // The test registry's busybox has no /dev, /proc or /sys either: a first RUN adds them.
    const dockerfile = SCRATCH_RUN.replace('FROM scratch\nCOPY --from=bb /bin/busybox /bin/busybox\n', 'FROM busybox\nRUN true\n');
    expect(await buildLayer(dockerfile, embedded())).toEqual([]);
  });

  it('lets RUN write /etc/hostname, which BuildKit does not mount', async () => {
    const layer = await buildLayer('FROM busybox\nRUN true\nRUN echo myhost > /etc/hostname && test "$(cat /etc/hostname)" = myhost\n', embedded());
    expect(layer).toEqual(['drwxr-xr-x 0/0 etc/', '-rw-r--r-- 0/0 etc/hostname']);
  });
});
