import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, runTbuild, writeMirrorConfig, type TempDir } from '../helpers/cli.js';
import { seedBusybox, startRegistry, type TestRegistry } from '../fixtures/registry.js';

describe('pulling an image of several layers', () => {
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

  it('downloads every layer, unpacks them in order and shows each transfer', async () => {
    const base = join(tmp.path, 'base');
    await mkdir(base);
    await writeFile(join(base, 'Dockerfile'), 'FROM busybox\nRUN echo one > /one && echo gone > /gone\nRUN echo two > /two && rm /gone\nRUN head -c 300000 /dev/urandom > /three\n');
    const name = `${registry.host}/test/layered:1`;
    const pushed = await runTbuild(['build', '--root', join(tmp.path, 'first'), '--config', config, '--output', `type=image,name=${name},push=true`, base]);
    expect(pushed.code, pushed.stderr).toBe(0);

    const user = join(tmp.path, 'user');
    await mkdir(user);
    await writeFile(join(user, 'Dockerfile'), `FROM ${name}\nRUN cat /one /two > /both && test ! -e /gone\n`);
    const out = join(tmp.path, 'out');
    const res = await runTbuild(['build', '--root', join(tmp.path, 'fresh'), '--config', config, '--progress', 'plain', '--output', `type=local,dest=${out}`, user]);
    expect(res.code, res.stderr).toBe(0);
    expect(await readFile(join(out, 'both'), 'utf8')).toBe('one\ntwo\n');
    expect((await readFile(join(out, 'three'))).length).toBe(300000);
    expect(res.stderr.match(/sha256:[a-f0-9]{64} [\d.]+[kMG]?B done/g)?.length).toBe(4);
  });
});
