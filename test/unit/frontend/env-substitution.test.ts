import { describe, expect, it } from 'vitest';
import { compileDockerfile } from '../../../frontend/index.js';
import type { ExecOp } from '../../../solver/graph/index.js';
import { compileOptions, vertices } from './compile-fixture.js';

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

async function compile(text: string, buildArgs: ReadonlyMap<string, string> = new Map()) {
  const def = await compileDockerfile(text, compileOptions({ buildArgs }));
  const run = vertices(def.root).find((v) => v.op.kind === 'exec')?.op as ExecOp | undefined;
  return { def, runEnv: run?.meta.env };
}

describe('variable substitution within one instruction', () => {
  it('expands every ENV pair with the values from before the instruction', async () => {
    const { def, runEnv } = await compile('FROM busybox\nENV abc=hello\nENV abc=bye def=$abc\nENV x1=one\nENV x1=two x2=${x1}-z\nRUN env\n');
    const expected = [PATH, 'abc=bye', 'def=hello', 'x1=two', 'x2=one-z'];
    expect(def.image.config?.Env).toEqual(expected);
    expect(runEnv).toEqual(expected);
    expect(def.image.history?.map((h) => h.created_by)).toContain('ENV abc=bye def=hello');
  });

  it('expands the legacy `ENV key value` form with the earlier value', async () => {
    const { def } = await compile('FROM busybox\nENV abc=hello\nENV abc=bye\nENV ghi $abc\nENV legacy one two $abc\n');
    expect(def.image.config?.Env).toEqual([PATH, 'abc=bye', 'ghi=bye', 'legacy=one two bye']);
  });

  it('expands LABEL values from the environment only, never from labels set in the same instruction', async () => {
    const { def } = await compile('FROM busybox\nENV x1=two\nLABEL lab=x lab2=$lab\nLABEL l1=$x1 x1=three l2=$x1\n');
    expect(def.image.config?.Labels).toEqual({ lab: 'x', lab2: '', l1: 'two', x1: 'three', l2: 'two' });
  });

  // Current BuildKit sets each ARG before expanding the next one's default (dispatchArg), so `ARG a=1 b=$a` gives b=1.
  // Docker 20.10 (BuildKit v0.8) expanded the whole instruction first and gave b an empty value.
  it('expands each ARG default after the ARGs before it in the same instruction, as current BuildKit does', async () => {
    const { runEnv } = await compile('FROM busybox\nARG c=first\nARG a=1 b=$a\nARG c=second d=$c\nRUN env\n');
    expect(runEnv).toEqual([PATH, 'a=1', 'b=1', 'c=second', 'd=second']);
  });

  it('lets a --build-arg value feed the next ARG default in the same instruction', async () => {
    const { runEnv } = await compile('FROM busybox\nARG a=1 b=$a\nRUN env\n', new Map([['a', 'given']]));
    expect(runEnv).toEqual([PATH, 'a=given', 'b=given']);
  });
});
