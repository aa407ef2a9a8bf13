import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { runTbuild } from '../helpers/cli.js';
import { useBuildEnvironment } from '../helpers/build-env.js';

const execFileAsync = promisify(execFile);

describe('builds reading standard input, as docker build does', () => {
  const env = useBuildEnvironment();
  let ctx: string;
  let n = 0;

  beforeAll(async () => {
    ctx = join(env.tmp.path, 'ctx');
    await mkdir(join(ctx, 'sub'), { recursive: true });
    await writeFile(join(ctx, 'data.txt'), 'from the context\n');
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY data.txt /data.txt\n');
    await writeFile(join(ctx, 'sub', 'Other.Dockerfile'), 'FROM busybox\nCOPY data.txt /other.txt\n');
  });

  const build = async (args: readonly string[], input: string | Buffer): Promise<{ code: number; stderr: string; out: string }> => {
    const out = join(env.tmp.path, `out-${n++}`);
    const res = await runTbuild(['build', '--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'plain', '--output', `type=local,dest=${out}`, ...args], { input });
    return { code: res.code, stderr: res.stderr, out };
  };

  it('takes the Dockerfile from standard input with -f - and the context from PATH', async () => {
    const res = await build(['-f', '-', ctx], 'FROM busybox\nCOPY data.txt /piped.txt\nRUN cat /piped.txt > /seen.txt\n');
    expect(res.code, res.stderr).toBe(0);
    expect(await readFile(join(res.out, 'seen.txt'), 'utf8')).toBe('from the context\n');
  });

  it('builds a Dockerfile piped as the context, with an empty context', async () => {
    const res = await build(['-'], 'FROM busybox\nRUN echo no context > /only.txt\n');
    expect(res.code, res.stderr).toBe(0);
    expect(await readFile(join(res.out, 'only.txt'), 'utf8')).toBe('no context\n');
    const copy = await build(['-'], 'FROM busybox\nCOPY data.txt /data.txt\n');
    expect(copy.code).not.toBe(0);
    expect(copy.stderr).toMatch(/data\.txt/);
  });

  it('unpacks a (compressed) tar archive piped as the context, with -f naming a file inside it', async () => {
    const { stdout } = await execFileAsync('sh', ['-c', `tar -C ${ctx} -cf - . | gzip`], { encoding: 'buffer', maxBuffer: 1 << 24 });
    const res = await build(['-f', 'sub/Other.Dockerfile', '-'], stdout);
    expect(res.code, res.stderr).toBe(0);
    expect(await readFile(join(res.out, 'other.txt'), 'utf8')).toBe('from the context\n');
    const escape = await build(['-f', '../outside', '-'], stdout);
    expect(escape.code).toBe(2);
    expect(escape.stderr).toContain('names a file inside it');
  });

  it('refuses standard input for both the context and the Dockerfile', async () => {
    const res = await build(['-f', '-', '-'], 'FROM busybox\n');
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('Cannot read both the context and the Dockerfile from standard input');
  });
});
