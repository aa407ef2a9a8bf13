import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runTbuild } from '../helpers/cli.js';
import { useBuildEnvironment } from '../helpers/build-env.js';

const DOCKERFILE = [
  'FROM busybox',
  'RUN --mount=type=secret,id=s --mount=type=secret,id=s,target=/etc/mysecret,mode=0755 --mount=type=tmpfs,target=/t \\',
  '    --mount=type=cache,target=/c --mount=type=bind,source=d,target=/b \\',
  "    awk '{print $5, $6}' /proc/self/mountinfo | grep -E '^/(b|c|t|etc/hosts|etc/resolv.conf|etc/mysecret|run/secrets/s) ' | sort",
  '',
].join('\n');

// The per-mount options Docker 20.10 shows for the same RUN, but for /etc/mysecret: BuildKit 0.8 makes every secret
// noexec, current BuildKit (followed here) only a secret whose mode has no execute bit.
const EXPECTED = [
  '/b ro,relatime',
  '/c rw,relatime',
  '/etc/hosts ro,nosuid,nodev,noexec,relatime',
  '/etc/mysecret ro,nosuid,nodev,relatime',
  '/etc/resolv.conf ro,nosuid,nodev,noexec,relatime',
  '/run/secrets/s ro,nosuid,nodev,noexec,relatime',
  '/t rw,nosuid,relatime',
];

// Writable mounts are overlays over their source: tbuild's helper mounts them itself, for runc and crun the
// executor mounts them on the host first.
const WRITABLE = [
  'FROM busybox AS stage',
  'RUN mkdir -p /data/sub && echo from-stage > /data/sub/s.txt',
  'FROM busybox',
  'RUN --mount=type=bind,source=d,target=/w,rw --mount=from=stage,source=/data,target=/st,rw \\',
  '    --mount=type=cache,from=stage,source=/data/sub,target=/cc \\',
  '    echo x > /w/new && cat /w/f /w/new /st/sub/s.txt /cc/s.txt && touch /st/changed && ls /st',
  'RUN test ! -e /w/new && test ! -e /st && echo discarded',
  '',
].join('\n');

/** runLines lists the RUN output lines of plain progress, without step numbers and times. */
function runLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((l) => /^#\d+ \d+\.\d+ (.*)$/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined);
}

describe("RUN --mount options are BuildKit's", () => {
  const env = useBuildEnvironment();
  const ctx = (): string => join(env.tmp.path, 'ctx');

  beforeAll(async () => {
    await mkdir(join(ctx(), 'd'), { recursive: true });
    await writeFile(join(ctx(), 'd', 'f'), 'f\n');
    await writeFile(join(ctx(), 'secret.txt'), 'secret\n');
    await writeFile(join(ctx(), 'Dockerfile'), DOCKERFILE);
  });

  for (const runtime of ['sandbox', 'runc', 'crun'] as const) {
    it(`mounts binds and caches without nosuid or nodev, tmpfs nosuid, secrets and /etc files sealed (${runtime})`, async () => {
      const select = runtime === 'sandbox' ? [] : ['--oci-runtime', runtime];
      const args = ['--root', join(env.tmp.path, 'root'), '--config', env.config, '--no-cache', '--progress', 'plain'];
      const res = await runTbuild(['build', ...args, ...select, '--secret', `id=s,src=${join(ctx(), 'secret.txt')}`, ctx()]);
      expect(res.code, res.stderr).toBe(0);
      expect(runLines(res.stderr)).toEqual(EXPECTED);
    });

    it(`writes through rw binds, rw stage mounts and a cache started from a stage, and discards it (${runtime})`, async () => {
      const dir = join(env.tmp.path, `writable-${runtime}`);
      await mkdir(join(dir, 'd'), { recursive: true });
      await writeFile(join(dir, 'd', 'f'), 'f\n');
      await writeFile(join(dir, 'Dockerfile'), WRITABLE);
      const select = runtime === 'sandbox' ? [] : ['--oci-runtime', runtime];
      const res = await runTbuild(['build', '--root', join(env.tmp.path, 'root'), '--config', env.config, '--no-cache', '--progress', 'plain', ...select, dir]);
      expect(res.code, res.stderr).toBe(0);
      expect(runLines(res.stderr)).toEqual(['f', 'x', 'from-stage', 'from-stage', 'changed', 'sub', 'discarded']);
    });
  }
});
