import { describe, expect, it } from 'vitest';
import { compileDockerfile } from '../../../frontend/index.js';
import type { ExecOp } from '../../../solver/graph/index.js';
import { compileOptions, vertices } from './compile-fixture.js';

async function runEnv(text: string, over: { target?: string; buildArgs?: Record<string, string> } = {}): Promise<readonly string[] | undefined> {
  const def = await compileDockerfile(
    text,
    compileOptions({ buildArgs: new Map(Object.entries(over.buildArgs ?? {})), ...(over.target === undefined ? {} : { target: over.target }) }),
  );
  return (vertices(def.root).find((v) => v.op.kind === 'exec')?.op as ExecOp | undefined)?.meta.env;
}

describe('built-in ARGs', () => {
  const text = (last: string): string => `FROM busybox AS base\nARG TARGETSTAGE\nRUN echo\nFROM base AS foo\nFROM base${last}\n`;

  it('sets TARGETSTAGE to the target: --target, else the last stage name, else "default", as BuildKit does', async () => {
    expect(await runEnv(text(''), { target: 'foo' })).toContain('TARGETSTAGE=foo');
    expect(await runEnv(text(' AS Final'))).toContain('TARGETSTAGE=final');
    expect(await runEnv(text(''))).toContain('TARGETSTAGE=default');
  });

  it('lets a --build-arg override a built-in arg', async () => {
    const env = await runEnv('FROM busybox\nARG TARGETARCH TARGETSTAGE\nRUN echo\n', { buildArgs: { TARGETARCH: 'riscv64', TARGETSTAGE: 'mine' } });
    expect(env).toEqual(expect.arrayContaining(['TARGETARCH=riscv64', 'TARGETSTAGE=mine']));
  });
});
