// Ported from moby/buildkit frontend/dockerfile/dockerfile_secrets_test.go: each case names its test function.
// BuildKit's tests hand the secret over the session (secretsprovider.FromMap); here it is a file passed with --secret.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { buildkitSuite, fails, ok } from './harness.js';

describe('BuildKit dockerfile_secrets_test.go', () => {
  const { build, env, port, succeeds } = buildkitSuite('dockerfile_secrets_test.go');
  const secret = async (): Promise<string[]> => {
    const path = join(env.tmp.path, 'mysecret');
    await writeFile(path, 'pw');
    return ['--secret', `id=mysecret,src=${path}`];
  };

  // dockerfile_secrets_test.go testSecretFileParams
  port('testSecretFileParams', async () => {
    await succeeds(
      {
        Dockerfile:
          '\nFROM busybox\nRUN --mount=type=secret,required=false,mode=741,uid=100,gid=102,target=/mysecret [ "$(stat -c "%u %g %f" /mysecret)" = "100 102 81e1" ]\nRUN [ ! -f /mysecret ] # check no stub left behind\n',
      },
      { args: await secret() },
    );
  });

  // dockerfile_secrets_test.go testSecretRequiredWithoutValue
  port('testSecretRequiredWithoutValue', async () => {
    const res = await build({ files: { Dockerfile: 'FROM busybox \n\t\tRUN --mount=type=secret,required,id=mysecret foo' }, output: 'none' });
    fails(res, 'secret mysecret: not found');
  });

  // dockerfile_secrets_test.go testSecretAsEnviron: the step name shown in the progress masks the secret's value.
  port('testSecretAsEnviron', async () => {
    const res = await build({
      files: {
        Dockerfile: '\nFROM busybox\nENV SECRET_ENV=foo\nRUN --mount=type=secret,id=mysecret,env=SECRET_ENV [ "$SECRET_ENV" == "pw" ] && [ ! -f /run/secrets/mysecret ] || false\n',
      },
      output: 'none',
      args: await secret(),
    });
    ok(res);
    const step = res.stderr.split('\n').find((l) => l.includes('/run/secrets/mysecret'));
    expect(step).toBeDefined();
    expect(step).toContain('[ "****" == "pw" ] && ');
  });

  // dockerfile_secrets_test.go testSecretAsEnvironWithFileMount
  port('testSecretAsEnvironWithFileMount', async () => {
    await succeeds(
      {
        Dockerfile:
          '\nFROM busybox\nRUN --mount=type=secret,id=mysecret,target=/run/secrets/secret,env=SECRET_ENV [ "$SECRET_ENV" == "pw" ] && [ -f /run/secrets/secret ] || false\n',
      },
      { args: await secret() },
    );
  });
});
