import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runTbuild } from '../helpers/cli.js';
import { useBuildEnvironment, useRemoteBuilder } from '../helpers/build-env.js';

// Docker 20.10 prints these lines for the same Dockerfile (its busybox has the same passwd entries): HOME comes from
// the user's passwd entry or is / without one, unless the image sets it, no signal is ignored in the process, and
// /etc/hosts names only localhost and the sandbox hostname (none of the host's entries), and the cgroup filesystem is
// mounted at /sys/fs/cgroup. `id` lists the primary group among the groups as current BuildKit does (CVE-2023-25173;
// Docker 20.10's BuildKit v0.8 printed no groups at all).
const DOCKERFILE = [
  'FROM busybox',
  'RUN echo "root-home=$HOME" && id',
  'RUN cat /etc/hosts && hostname',
  'RUN ["grep", "SigIgn", "/proc/self/status"]',
  'RUN [ -e /sys/fs/cgroup/memory/cgroup.procs ] || [ -e /sys/fs/cgroup/cgroup.procs ] && echo cgroupfs=yes',
  "RUN timeout 10 sh -c 'yes | head -c 100000 | wc -c'; echo \"pipeline=$?\"",
  'USER nobody',
  'RUN echo "nobody-home=$HOME" && id',
  'USER 4242',
  'RUN echo "unknown-home=$HOME" && id',
  'USER 4242:4343',
  'RUN id',
  'ENV HOME=/custom',
  'RUN echo "set-home=$HOME"',
  '',
].join('\n');

const EXPECTED = [
  'root-home=/root',
  'uid=0(root) gid=0(root) groups=0(root)',
  '127.0.0.1\tlocalhost buildkitsandbox',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'buildkitsandbox',
  'SigIgn:\t0000000000000000',
  'cgroupfs=yes',
  '100000',
  'pipeline=0',
  'nobody-home=/nonexistent',
  'uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)',
  'unknown-home=/',
  'uid=4242 gid=0(root) groups=0(root)',
  'uid=4242 gid=4343 groups=4343',
  'set-home=/custom',
];

/** runLines lists the RUN output lines of plain progress, without step numbers and times. */
function runLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((l) => /^#\d+ \d+\.\d+ (.*)$/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined);
}

describe('RUN process defaults, as BuildKit and runc give them', () => {
  const env = useBuildEnvironment();
  const remote = useRemoteBuilder(env);
  const ctx = (): string => join(env.tmp.path, 'ctx');

  beforeAll(async () => {
    await mkdir(ctx(), { recursive: true });
    await writeFile(join(ctx(), 'Dockerfile'), DOCKERFILE);
  });

  for (const runtime of ['sandbox', 'runc', 'crun'] as const) {
    it(`sets HOME and groups like runc, BuildKit's /etc/hosts and hostname, default signal dispositions (${runtime})`, async () => {
      const select = runtime === 'sandbox' ? [] : ['--oci-runtime', runtime];
      const args = ['build', '--root', join(env.tmp.path, 'root'), '--config', env.config, '--no-cache', '--progress', 'plain', ...select, ctx()];
      const res = await runTbuild(args);
      expect(res.code, res.stderr).toBe(0);
      expect(runLines(res.stderr)).toEqual(EXPECTED);
    });
  }

  it('does the same on a remote builder', async () => {
    const res = await runTbuild(['build', '--builder', remote.address, '--no-cache', '--progress', 'plain', ctx()]);
    expect(res.code, res.stderr).toBe(0);
    // The context upload reports itself in the same form as RUN output ("sent …", "transferred …").
    const output = runLines(res.stderr).filter((l) => !/^(sent|transferred) /.test(l));
    expect(output).toEqual(EXPECTED);
  });
});
