import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTempDir, runTbuild } from '../helpers/cli.js';

describe('flags that only a build run by this process can honour', () => {
  it('refuses --oci-runtime with --builder, naming the server flag that chooses the runtime', async () => {
    await using tmp = await makeTempDir();
    await writeFile(join(tmp.path, 'Dockerfile'), 'FROM busybox\nRUN true\n');
    const remote = await runTbuild(['build', '--builder', `unix://${join(tmp.path, 'none.sock')}`, '--oci-runtime', 'runc', tmp.path]);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain('Cannot use --oci-runtime with --builder: the builder runs RUN steps with the runtime its server was started with');
    expect(remote.stderr).toContain('tbuild serve --oci-runtime runc');
  });
});
