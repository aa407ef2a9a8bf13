import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { run, runTbuild } from '../helpers/cli.js';

/** The ENV/LABEL lines docker 20.10 (BuildKit) built into Env and Labels: every pair sees the values from before. */
const DOCKERFILE = `FROM busybox
ENV abc=hello
ENV abc=bye def=$abc
ENV ghi $abc
LABEL l1=$abc abc=label l2=$abc
RUN echo "$abc $def $ghi" > /seen
`;

describe('variable substitution within one instruction, end to end', () => {
  const env = useBuildEnvironment();

  it('builds ENV and LABEL pairs from the values before the instruction, as docker build does', async () => {
    const ctx = join(env.tmp.path, 'ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE);
    const out = join(env.tmp.path, 'out');
    const archive = join(env.tmp.path, 'image.tar');
    const res = await runTbuild([
      'build', '--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'plain',
      '--output', `type=local,dest=${out}`, '--output', `type=oci,dest=${archive}`, ctx,
    ]);
    expect(res.code, res.stderr).toBe(0);
    expect(await readFile(join(out, 'seen'), 'utf8')).toBe('bye hello bye\n');
    const inspect = await run('skopeo', ['inspect', '--raw', '--config', `oci-archive:${archive}`]);
    expect(inspect.code, inspect.stderr).toBe(0);
    const config = (JSON.parse(inspect.stdout) as { config: { Env: string[]; Labels: Record<string, string> } }).config;
    expect(config.Env.slice(1)).toEqual(['abc=bye', 'def=hello', 'ghi=bye']);
    expect(config.Labels).toEqual({ l1: 'bye', abc: 'label', l2: 'bye' });
  });
});
