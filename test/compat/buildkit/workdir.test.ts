// Ported from moby/buildkit frontend/dockerfile/dockerfile_workdir_test.go: each case names its test function.
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { runTbuild } from '../../helpers/cli.js';
import { adduser, buildkitSuite, ok } from './harness.js';
import { readTarToMap } from './fixtures.js';

describe('BuildKit dockerfile_workdir_test.go', () => {
  const { build, context, env, port, succeeds } = buildkitSuite('dockerfile_workdir_test.go');

  // dockerfile_workdir_test.go testWorkdirCreatesDir
  port('testWorkdirCreatesDir', async () => {
    const res = await build({ files: { Dockerfile: '\nFROM scratch\nWORKDIR /foo\nWORKDIR /\n' } });
    ok(res);
    expect((await lstat(join(res.out, 'foo'))).isDirectory()).toBe(true);
  });

  // dockerfile_workdir_test.go testWorkdirSourceDateEpochReproducible (alpine there; busybox here). BuildKit exports
  // an OCI layout folder; here an OCI archive, whose index.json is compared.
  port('testWorkdirSourceDateEpochReproducible', async () => {
    const d = await context({ Dockerfile: '\nFROM busybox\nWORKDIR /mydir\n' });
    const epoch = String(Date.UTC(2023, 0, 10, 15, 34, 56) / 1000);
    const first = await build({ dir: d, output: 'oci', buildArgs: { SOURCE_DATE_EPOCH: epoch } });
    ok(first);
    const index1 = (await readTarToMap(first.archive)).get('index.json')?.data.toString();
    // Prune all cache
    ok(await runTbuild(['prune', '--all', '--root', join(env.tmp.path, 'root')]));
    await new Promise((r) => setTimeout(r, 3000));
    const second = await build({ dir: d, output: 'oci', buildArgs: { SOURCE_DATE_EPOCH: epoch } });
    ok(second);
    const index2 = (await readTarToMap(second.archive)).get('index.json')?.data.toString();
    expect(index1).toBeDefined();
    expect(index2).toBe(index1);
  });

  // dockerfile_workdir_test.go testWorkdirUser
  port('testWorkdirUser', async () => {
    await succeeds({ Dockerfile: `\nFROM busybox\n${adduser('user', 1001)}\nUSER user\nWORKDIR /mydir\nRUN [ "$(stat -c "%U %G" /mydir)" == "user user" ]\n` });
  });

  // dockerfile_workdir_test.go testWorkdirCopyIgnoreRelative
  port('testWorkdirCopyIgnoreRelative', async () => {
    await succeeds({
      Dockerfile: '\nFROM scratch AS base\nWORKDIR /foo\nCOPY Dockerfile /\nFROM scratch\n# relative path still loaded as absolute\nCOPY --from=base Dockerfile .\n',
    });
  });

  // dockerfile_workdir_test.go testWorkdirExists
  port('testWorkdirExists', async () => {
    await succeeds({
      Dockerfile: `\nFROM busybox\n${adduser('user', 1001)}\nRUN mkdir /mydir && chown user:user /mydir\nWORKDIR /mydir\nRUN [ "$(stat -c "%U %G" /mydir)" == "user user" ]\n`,
    });
  });
});
