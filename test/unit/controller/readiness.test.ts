import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkReadiness } from '../../../controller/index.js';
import { makeTempDir, type TempDir } from '../../helpers/cli.js';

describe('checkReadiness', () => {
  let tmp: TempDir;
  beforeEach(async () => {
    tmp = await makeTempDir('tbuild-readiness-');
    await mkdir(join(tmp.path, 'root'));
    await mkdir(join(tmp.path, 'bin'));
  });
  afterEach(async () => tmp[Symbol.asyncDispose]());

  it('is ready with a writable store folder and the sandbox helper built', async () => {
    expect(await checkReadiness({ root: join(tmp.path, 'root'), searchPath: '/usr/bin:/bin' })).toEqual({ ready: true });
  });

  it('is not ready once the store folder is gone, naming it', async () => {
    await rm(join(tmp.path, 'root'), { recursive: true });
    const r = await checkReadiness({ root: join(tmp.path, 'root'), searchPath: '/usr/bin:/bin' });
    expect(r).toMatchObject({ ready: false, reason: expect.stringContaining(`the store folder "${join(tmp.path, 'root')}" is not writable`) });
  });

  it('with --oci-runtime, is ready only while the runtime is an executable on the PATH', async () => {
    const o = { root: join(tmp.path, 'root'), ociRuntime: 'crun', searchPath: join(tmp.path, 'bin') } as const;
    expect(await checkReadiness(o)).toEqual({ ready: false, reason: 'the OCI runtime "crun" is not on the PATH' });
    await writeFile(join(tmp.path, 'bin', 'crun'), '#!/bin/sh\n');
    expect(await checkReadiness(o)).toMatchObject({ ready: false });
    await chmod(join(tmp.path, 'bin', 'crun'), 0o755);
    expect(await checkReadiness(o)).toEqual({ ready: true });
  });
});
