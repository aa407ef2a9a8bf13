// Ported from moby/buildkit frontend/dockerfile/dockerfile_cmd_test.go: each case names its test function.
import { describe, expect } from 'vitest';
import { run } from '../../helpers/cli.js';
import { buildkitSuite, fails, ok } from './harness.js';

describe('BuildKit dockerfile_cmd_test.go', () => {
  const { build, env, port, succeeds } = buildkitSuite('dockerfile_cmd_test.go');

  // dockerfile_cmd_test.go testCmdShell: BuildKit stores the first image in containerd; here it is pushed to the
  // loopback registry so that the second Dockerfile can start FROM it.
  port('testCmdShell', async () => {
    const target = `${env.registry.host}/moby/cmdoverridetest:latest`;
    ok(await build({ files: { Dockerfile: '\nFROM scratch\nCMD ["test"]\n' }, output: 'none', args: ['--output', `type=registry,name=${target}`] }));
    const res = await build({ files: { Dockerfile: `\nFROM ${target}\nSHELL ["ls"]\nENTRYPOINT my entrypoint\n` }, output: 'oci' });
    ok(res);
    const img = await res.image();
    expect(img.config.Cmd ?? null).toBeNull();
    expect(img.config.Entrypoint).toEqual(['ls', 'my entrypoint']);
  });

  // dockerfile_cmd_test.go testDefaultShellAndPath: its linux/amd64 image (tbuild builds one platform at a time, so
  // the windows/amd64 half is not ported).
  port('testDefaultShellAndPath', async () => {
    const res = await build({ files: { Dockerfile: '\nFROM scratch\nENTRYPOINT foo bar\nCOPY Dockerfile .\n' }, output: 'oci', args: ['--platform', 'linux/amd64'] });
    ok(res);
    const manifest = await run('skopeo', ['inspect', '--raw', `oci-archive:${res.archive}`]);
    expect(manifest.code, manifest.stderr).toBe(0);
    expect((JSON.parse(manifest.stdout) as { layers: unknown[] }).layers).toHaveLength(1);
    const img = await res.image();
    expect(`${img.os}/${img.architecture}`).toBe('linux/amd64');
    expect(img.config.Entrypoint).toEqual(['/bin/sh', '-c', 'foo bar']);
    expect(img.config.Env).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  }, 'linux/amd64');

  // dockerfile_cmd_test.go testIgnoreEntrypoint
  port('testIgnoreEntrypoint', async () => {
    await succeeds({ Dockerfile: '\nFROM busybox\nENTRYPOINT ["/nosuchcmd"]\nRUN ["ls"]\n' });
  });

  // dockerfile_cmd_test.go testInvalidJSONCommands (alpine there; busybox here. BuildKit pushes the second image and
  // reads its config; here it is exported as an OCI archive.)
  port('testInvalidJSONCommands', async () => {
    fails(await build({ files: { Dockerfile: '\nFROM busybox\nRUN ["echo", "hello"]this is invalid\n' }, output: 'none' }), 'this is invalid');
    const res = await build({ files: { Dockerfile: '\nFROM busybox\nENTRYPOINT []random string\n' }, output: 'oci' });
    ok(res);
    expect((await res.image()).config.Entrypoint).toEqual(['/bin/sh', '-c', '[]random string']);
  });

  // dockerfile_cmd_test.go testDockerfileInvalidCommand
  port('testDockerfileInvalidCommand', async () => {
    const res = await build({ files: { Dockerfile: '\n\tFROM busybox\n\tRUN invalidcmd\n' }, output: 'none' });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('/bin/sh -c invalidcmd');
    expect(res.stderr).toContain('did not complete successfully');
  });

  // dockerfile_cmd_test.go testDockerfileInvalidInstruction
  port('testDockerfileInvalidInstruction', async () => {
    const res = await build({ files: { Dockerfile: '\nFROM scratch\nFNTRYPOINT ["/bin/sh", "-c", "echo invalidinstruction"]\n' }, output: 'none' });
    fails(res, 'unknown instruction: FNTRYPOINT');
    fails(res, 'did you mean ENTRYPOINT?');
  });
});
