import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runTbuild } from '../helpers/cli.js';
import { useBuildEnvironment, useRemoteBuilder } from '../helpers/build-env.js';

// BuildKit takes the RUN hostname from the build arg BUILDKIT_SANDBOX_HOSTNAME (frontend/dockerui config.go) into each
// RUN's ExecOp meta, so it names the host in /etc/hosts and the UTS namespace and is part of the RUN's cache key.
const DOCKERFILE = 'FROM busybox\nRUN cat /etc/hosts && hostname && echo "HOSTNAME=$HOSTNAME"\n';

const expected = (name: string): string[] => [
  `127.0.0.1\tlocalhost ${name}`,
  '::1\tlocalhost ip6-localhost ip6-loopback',
  name,
  `HOSTNAME=${name}`,
];

/** runLines lists the RUN output lines of plain progress, without step numbers, times and the context upload. */
function runLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((l) => /^#\d+ \d+\.\d+ (.*)$/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined && !/^(sent|transferred) /.test(l));
}

describe('BUILDKIT_SANDBOX_HOSTNAME names the RUN host', () => {
  const env = useBuildEnvironment();
  const remote = useRemoteBuilder(env);
  const ctx = (): string => join(env.tmp.path, 'ctx');
  const hostArg = (name: string): string[] => ['--build-arg', `BUILDKIT_SANDBOX_HOSTNAME=${name}`];

  beforeAll(async () => {
    await mkdir(ctx(), { recursive: true });
    await writeFile(join(ctx(), 'Dockerfile'), DOCKERFILE);
  });

  for (const runtime of ['sandbox', 'runc', 'crun'] as const) {
    it(`in /etc/hosts, hostname and $HOSTNAME (${runtime})`, async () => {
      const select = runtime === 'sandbox' ? [] : ['--oci-runtime', runtime];
      const root = join(env.tmp.path, `root-${runtime}`);
      const res = await runTbuild(['build', '--root', root, '--config', env.config, '--progress', 'plain', ...select, ...hostArg('foo'), ctx()]);
      expect(res.code, res.stderr).toBe(0);
      expect(runLines(res.stderr)).toEqual(expected('foo'));
    });
  }

  it('on a remote builder', async () => {
    const res = await runTbuild(['build', '--builder', remote.address, '--no-cache', '--progress', 'plain', ...hostArg('remote-host'), ctx()]);
    expect(res.code, res.stderr).toBe(0);
    expect(runLines(res.stderr)).toEqual(expected('remote-host'));
  });

  it('as part of the RUN cache key', async () => {
    const build = (args: string[]): Promise<{ code: number | null; stderr: string }> =>
      runTbuild(['build', '--root', join(env.tmp.path, 'root-sandbox'), '--config', env.config, '--progress', 'plain', ...args, ctx()]);
    const same = await build(hostArg('foo'));
    expect(same.code, same.stderr).toBe(0);
    expect(same.stderr).toMatch(/#\d+ CACHED/);
    expect(runLines(same.stderr)).toEqual([]);
    const other = await build(hostArg('bar'));
    expect(other.code, other.stderr).toBe(0);
    expect(runLines(other.stderr)).toEqual(expected('bar'));
    const unset = await build([]);
    expect(unset.code, unset.stderr).toBe(0);
    expect(runLines(unset.stderr)).toEqual(expected('buildkitsandbox'));
  });
});
