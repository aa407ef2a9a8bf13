// Step names and stored triggers: what a build shows and keeps of an instruction's text.
import { describe, expect, it } from 'vitest';
import { compileDockerfile } from '../../../frontend/index.js';
import { compileOptions, vertices } from './compile-fixture.js';

describe('RUN step names', () => {
  it('show a variable a secret is exposed as as ****, and expand the others, as BuildKit does', async () => {
    const text = 'FROM busybox\nENV SECRET_ENV=foo OTHER=bar\nRUN --mount=type=secret,id=s,env=SECRET_ENV [ "$SECRET_ENV" == "$OTHER" ]\n';
    const def = await compileDockerfile(text, compileOptions());
    const run = vertices(def.root).find((v) => v.op.kind === 'exec');
    expect(run?.metadata.name).toBe('[2/2] RUN --mount=type=secret,id=s,env=SECRET_ENV [ "****" == "bar" ]');
  });
});

describe('ONBUILD with a heredoc', () => {
  it('stores the trigger with its document, and a stage built from it runs the document', async () => {
    const base = await compileDockerfile('FROM busybox AS base\nONBUILD RUN <<EOF\necho "hello world" >> /dest\nEOF\nFROM base\n', compileOptions());
    expect(base.image.config?.OnBuild).toBeUndefined();
    const stored = await compileDockerfile('FROM busybox\nONBUILD RUN <<EOF\necho "hello world" >> /dest\nEOF\n', compileOptions());
    expect(stored.image.config?.OnBuild).toEqual(['RUN <<EOF\necho "hello world" >> /dest\nEOF']);
    const run = vertices(base.root).find((v) => v.op.kind === 'exec');
    expect(run?.op.kind === 'exec' ? run.op.meta.args : []).toEqual(['/bin/sh', '-c', 'echo "hello world" >> /dest\n']);
  });
});

describe('COPY and ADD history', () => {
  it('records --parents, --chown and --chmod and the destination as expanded, as BuildKit does', async () => {
    const text = 'FROM busybox\nENV D=/x U=1:2\nCOPY --chown=$U --chmod=0755 a $D\nCOPY --parents b/c /p/\nADD --chown=3 a /y\n';
    const def = await compileDockerfile(text, compileOptions());
    expect(def.image.history?.slice(-3).map((h) => h.created_by)).toEqual([
      'COPY --chown=1:2 --chmod=0755 a /x # buildkit',
      'COPY --parents b/c /p/ # buildkit',
      'ADD --chown=3 a /y # buildkit',
    ]);
  });
});
