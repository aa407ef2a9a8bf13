import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespaceExecutor } from '../../executor/index.js';

const run = promisify(execFile);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const HELPER = path.join(REPO, 'native/build/tbuild-sandbox');

let base = '';

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('sandbox helper tests need root (namespaces, overlayfs)');
  base = await mkdtemp(path.join(tmpdir(), 'tbuild-helper-args-'));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

async function helperFails(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await run(HELPER, args);
  } catch (err) {
    const failure = err as { code: number; stderr: string };
    return { code: failure.code, stderr: failure.stderr };
  }
  throw new Error(`tbuild-sandbox ${args.join(' ')} succeeded`);
}

describe('tbuild-sandbox arguments', () => {
  it.each([
    [['--bundle', '/b', '--verbose', 'x'], /unknown argument --verbose/],
    [['--bundle', '/b', '--result-fd', '3x'], /--result-fd needs a number from 0 to 2147483647, not "3x"/],
    [['--bundle', '/b', '--parent-pid', '-4'], /--parent-pid needs a number from 1/],
    [['--bundle'], /missing value for --bundle/],
    [[], /--bundle is required/],
  ])('refuses %j with a usage error', async (args, message) => {
    const { code, stderr } = await helperFails(args);
    expect(code).toBe(125);
    expect(stderr).toMatch(message);
  });

  it('reports a malformed config.json with the parser\'s own message', async () => {
    const bundle = path.join(base, 'bad-bundle');
    await mkdir(bundle);
    await writeFile(path.join(bundle, 'config.json'), '{bad');
    const { stdout } = await run(HELPER, ['--bundle', bundle, '--result-fd', '1']).catch((err: unknown) => err as { stdout: string });
    expect(JSON.parse(stdout)).toEqual({
      type: 'error',
      stage: 'config',
      message: 'invalid config.json: not a JSON object: expected string at offset 1',
    });
  });

  it('writes the init pid to every --cgroup-procs file, however many there are', async () => {
    const lower = path.join(base, 'lower');
    await mkdir(path.join(lower, 'bin'), { recursive: true });
    await copyFile('/bin/busybox', path.join(lower, 'bin/busybox'));
    await symlink('busybox', path.join(lower, 'bin/true'));
    const procs = Array.from({ length: 12 }, (_, i) => path.join(base, `procs-${i}`));
    for (const file of procs) await writeFile(file, '');
    // The executor passes its own cgroup files; a wrapper adds twelve more in front of the real helper.
    const wrapper = path.join(base, 'helper-wrapper');
    await writeFile(wrapper, `#!/bin/sh\nexec ${HELPER} ${procs.map((f) => `--cgroup-procs ${f}`).join(' ')} "$@"\n`);
    await chmod(wrapper, 0o755);
    await mkdir(path.join(base, 'upper'));
    await mkdir(path.join(base, 'work'));
    const executor = createNamespaceExecutor({ stateDir: path.join(base, 'state'), helperPath: wrapper });
    const result = await executor.run(
      {
        rootfs: { lowerdirs: [lower], upperdir: path.join(base, 'upper'), workdir: path.join(base, 'work') },
        process: { args: ['/bin/true'], env: ['PATH=/bin'], cwd: '/', user: '' },
        network: 'none',
        mounts: [],
      },
      { signal: AbortSignal.timeout(60_000) },
    );
    expect(result.exitCode).toBe(0);
    const pids = await Promise.all(procs.map((f) => readFile(f, 'utf8')));
    expect(new Set(pids).size).toBe(1);
    expect(pids[0]).toMatch(/^[1-9][0-9]*$/);
  });
});
