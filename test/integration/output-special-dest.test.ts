import { spawn } from 'node:child_process';
import { lstat, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makedev, mknod, S_IFCHR } from '../../native/index.js';
import { useBuildEnvironment, useRemoteBuilder } from '../helpers/build-env.js';
import { run, runTbuild } from '../helpers/cli.js';

// An output path that names a device or a pipe is written into, never replaced by a plain file (as buildx opens it).
const env = useBuildEnvironment();
const remote = useRemoteBuilder(env);
let ctx = '';

beforeAll(async () => {
  ctx = join(env.tmp.path, 'ctx');
  await mkdir(ctx);
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo made > /made\n');
});

const modes = [
  ['embedded', (): string[] => []],
  ['through --builder', (): string[] => ['--builder', remote.address]],
] as const;

describe('outputs to devices and pipes', () => {
  it.each(modes)('writes a tar output into a character device and leaves it one (%s)', async (name, extra) => {
    // A null device of the test's own, never the machine's /dev/null.
    const device = join(env.tmp.path, `null-${name.replace(/\W/g, '')}`);
    mknod(device, S_IFCHR | 0o666, makedev(1, 3));
    const before = await lstat(device);
    const r = await runTbuild(['build', ...extra(), '--root', join(env.tmp.path, 'root'), '--config', env.config, '-o', `type=tar,dest=${device}`, ctx]);
    expect(r.stderr).not.toContain('ERROR');
    expect(r.code).toBe(0);
    const st = await lstat(device);
    expect(st.isCharacterDevice()).toBe(true);
    expect([st.mode, st.rdev]).toEqual([before.mode, before.rdev]);
  });

  it.each(modes)('writes an OCI archive into a named pipe that a reader drains (%s)', async (name, extra) => {
    const fifo = join(env.tmp.path, `pipe-${name.replace(/\W/g, '')}`);
    expect((await run('mkfifo', [fifo])).code).toBe(0);
    const received = `${fifo}.received`;
    const reader = spawn('sh', ['-c', `cat ${fifo} > ${received}`], { stdio: 'ignore' });
    const readerDone = new Promise<number | null>((resolve) => reader.on('close', resolve));
    const r = await runTbuild(['build', ...extra(), '--root', join(env.tmp.path, 'root'), '--config', env.config, '-o', `type=oci,dest=${fifo}`, ctx]);
    expect(r.stderr).not.toContain('ERROR');
    expect(r.code).toBe(0);
    expect(await readerDone).toBe(0);
    expect((await run('tar', ['-tf', received])).stdout).toContain('index.json');
    expect((await lstat(fifo)).isFIFO()).toBe(true);
  });
});
