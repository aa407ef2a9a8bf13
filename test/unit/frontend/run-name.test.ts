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
