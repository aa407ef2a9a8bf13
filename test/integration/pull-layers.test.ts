import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTbuild } from '../helpers/cli.js';
import { useBuildEnvironment } from '../helpers/build-env.js';

describe('pulling an image of several layers', () => {
  const env = useBuildEnvironment();

  it('downloads every layer, unpacks them in order and shows each transfer', async () => {
    const base = join(env.tmp.path, 'base');
    await mkdir(base);
    await writeFile(join(base, 'Dockerfile'), 'FROM busybox\nRUN echo one > /one && echo gone > /gone\nRUN echo two > /two && rm /gone\nRUN head -c 300000 /dev/urandom > /three\n');
    const name = `${env.registry.host}/test/layered:1`;
    const pushed = await runTbuild(['build', '--root', join(env.tmp.path, 'first'), '--config', env.config, '--output', `type=image,name=${name},push=true`, base]);
    expect(pushed.code, pushed.stderr).toBe(0);

    const user = join(env.tmp.path, 'user');
    await mkdir(user);
    await writeFile(join(user, 'Dockerfile'), `FROM ${name}\nRUN cat /one /two > /both && test ! -e /gone\n`);
    const out = join(env.tmp.path, 'out');
    const res = await runTbuild(['build', '--root', join(env.tmp.path, 'fresh'), '--config', env.config, '--progress', 'plain', '--output', `type=local,dest=${out}`, user]);
    expect(res.code, res.stderr).toBe(0);
    expect(await readFile(join(out, 'both'), 'utf8')).toBe('one\ntwo\n');
    expect((await readFile(join(out, 'three'))).length).toBe(300000);
    expect(res.stderr.match(/sha256:[a-f0-9]{64} ([\d.]+[kMG]?B) \/ \1(?: [\d.]+s)? done/g)?.length).toBe(4);
  });
});
