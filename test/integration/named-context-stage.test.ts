import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, runTbuild, writeMirrorConfig, type TempDir } from '../helpers/cli.js';
import { seedBusybox, startRegistry, type TestRegistry } from '../fixtures/registry.js';

describe('--build-context with the name of a stage', () => {
  let registry: TestRegistry;
  let tmp: TempDir;
  let config: string;

  beforeAll(async () => {
    registry = await startRegistry();
    await seedBusybox(registry.host);
    tmp = await makeTempDir();
    config = await writeMirrorConfig(tmp.path, registry.host);
  });

  afterAll(async () => {
    await tmp?.[Symbol.asyncDispose]();
    await registry?.stop();
  });

  it('replaces the stage in COPY --from and FROM, as BuildKit does', async () => {
    const ctx = join(tmp.path, 'ctx');
    const deps = join(tmp.path, 'deps');
    await mkdir(ctx);
    await mkdir(deps);
    await writeFile(join(deps, 'x'), 'from-context\n');
    await writeFile(
      join(ctx, 'Dockerfile'),
      'FROM busybox AS deps\nRUN echo from-stage > /x\nFROM deps AS again\nFROM busybox\nCOPY --from=deps /x /copied\nCOPY --from=again /x /based\n',
    );
    const root = join(tmp.path, 'root');
    const plain = join(tmp.path, 'plain');
    const first = await runTbuild(['build', '--root', root, '--config', config, '--output', `type=local,dest=${plain}`, ctx]);
    expect(first.code, first.stderr).toBe(0);
    expect(await readFile(join(plain, 'copied'), 'utf8')).toBe('from-stage\n');

    const out = join(tmp.path, 'out');
    const res = await runTbuild(['build', '--root', root, '--config', config, '--build-context', `deps=${deps}`, '--output', `type=local,dest=${out}`, ctx]);
    expect(res.code, res.stderr).toBe(0);
    expect(await readFile(join(out, 'copied'), 'utf8')).toBe('from-context\n');
    expect(await readFile(join(out, 'based'), 'utf8')).toBe('from-context\n');
  });
});
