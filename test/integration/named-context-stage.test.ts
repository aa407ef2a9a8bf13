import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTbuild } from '../helpers/cli.js';
import { useBuildEnvironment } from '../helpers/build-env.js';

describe('--build-context with the name of a stage', () => {
  const env = useBuildEnvironment();

  it('replaces the stage in COPY --from and FROM, as BuildKit does', async () => {
    const ctx = join(env.tmp.path, 'ctx');
    const deps = join(env.tmp.path, 'deps');
    await mkdir(ctx);
    await mkdir(deps);
    await writeFile(join(deps, 'x'), 'from-context\n');
    await writeFile(
      join(ctx, 'Dockerfile'),
      'FROM busybox AS deps\nRUN echo from-stage > /x\nFROM deps AS again\nFROM busybox\nCOPY --from=deps /x /copied\nCOPY --from=again /x /based\n',
    );
    const root = join(env.tmp.path, 'root');
    const plain = join(env.tmp.path, 'plain');
    const first = await runTbuild(['build', '--root', root, '--config', env.config, '--output', `type=local,dest=${plain}`, ctx]);
    expect(first.code, first.stderr).toBe(0);
    expect(await readFile(join(plain, 'copied'), 'utf8')).toBe('from-stage\n');

    const out = join(env.tmp.path, 'out');
    const res = await runTbuild(['build', '--root', root, '--config', env.config, '--build-context', `deps=${deps}`, '--output', `type=local,dest=${out}`, ctx]);
    expect(res.code, res.stderr).toBe(0);
    expect(await readFile(join(out, 'copied'), 'utf8')).toBe('from-context\n');
    expect(await readFile(join(out, 'based'), 'utf8')).toBe('from-context\n');
  });
});
