// Ported from moby/buildkit frontend/dockerfile/dockerfile_ssh_test.go: each case names its test function.
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { run } from '../../helpers/cli.js';
import { buildkitSuite } from './harness.js';

describe('BuildKit dockerfile_ssh_test.go', () => {
  const { env, port, succeeds } = buildkitSuite('dockerfile_ssh_test.go');

  // dockerfile_ssh_test.go testSSHSocketParams: BuildKit's agent provider loads a fresh RSA key file; so does --ssh.
  port('testSSHSocketParams', async () => {
    const key = join(env.tmp.path, 'key');
    const gen = await run('openssl', ['genrsa', '-traditional', '-out', key, '2048']);
    expect(gen.code, gen.stderr).toBe(0);
    await succeeds(
      { Dockerfile: '\nFROM busybox\nRUN --mount=type=ssh,mode=741,uid=100,gid=102 [ "$(stat -c "%u %g %f" $SSH_AUTH_SOCK)" = "100 102 c1e1" ]\n' },
      { args: ['--ssh', `default=${key}`] },
    );
  });
});
