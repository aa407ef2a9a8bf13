import { lstat, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBuildEnvironment, useRemoteBuilder } from '../helpers/build-env.js';
import { runTbuild } from '../helpers/cli.js';

/*
 * -o type=local writes files owned by the user who runs the build, keeping their modes, setuid and setgid included.
 * Docker 20.10's BuildKit on the Dockerfile below (run as root): /o is 2750 0:0, /o/f 4755 0:0, /o/l a link of 0:0,
 * not the image's 1234:5678.
 */
const env = useBuildEnvironment();
const remote = useRemoteBuilder(env);
const DOCKERFILE = `FROM busybox
RUN mkdir /o && echo x > /o/f && ln -s f /o/l && chown -hR 1234:5678 /o && chmod 2750 /o && chmod 4755 /o/f
`;
let ctx = '';

beforeAll(async () => {
  ctx = join(env.tmp.path, 'ctx');
  await mkdir(ctx);
  await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE);
});

async function owners(out: string): Promise<Record<string, string>> {
  const row = async (rel: string): Promise<string> => {
    const st = await lstat(join(out, rel));
    return `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
  };
  return { o: await row('o'), f: await row('o/f'), l: `${(await lstat(join(out, 'o/l'))).uid}` };
}

const me = `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`;

describe('-o type=local ownership', () => {
  it.each([
    ['embedded', (): string[] => []],
    ['through --builder', (): string[] => ['--builder', remote.address]],
  ])('gives the files to the user running the build, keeping modes (%s)', async (name, extra) => {
    const out = join(env.tmp.path, `out-${name.replace(/\W/g, '')}`);
    const r = await runTbuild(['build', ...extra(), '--root', join(env.tmp.path, 'root'), '--config', env.config, '-o', `type=local,dest=${out}`, ctx]);
    expect(r.stderr).not.toContain('ERROR');
    expect(r.code).toBe(0);
    expect(await owners(out)).toEqual({ o: `2750 ${me}`, f: `4755 ${me}`, l: me.split(':')[0] });
  });
});
