import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { run, runTbuild } from '../helpers/cli.js';

/*
 * RUN --mount targets below the image's own symlinks land where the links lead inside the root, never outside it.
 * Docker 20.10's BuildKit on this Dockerfile: the bind appears at /somewhere/x/file and the tmpfs at /etc/evil/t (the
 * relative link's `..`s stop at the root). Current BuildKit's mount-stub cleanup then leaves none of the folders made
 * for them in the layer (20.10 kept the folders), which tbuild follows.
 */
const env = useBuildEnvironment();
const DOCKERFILE = `FROM busybox
RUN ln -s /somewhere /mnt2 && ln -s ../../../etc/evil /rel
RUN --mount=type=bind,source=file,target=/mnt2/x/file cat /somewhere/x/file > /bound
RUN --mount=type=tmpfs,target=/rel/t grep -c ' /etc/evil/t tmpfs' /proc/mounts > /tmpfs-at
`;

describe('RUN --mount with a target below an image symlink', () => {
  it('mounts where the link leads inside the root, leaving no stubs in the layer', async () => {
    const ctx = join(env.tmp.path, 'ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE);
    await writeFile(join(ctx, 'file'), 'data\n');
    const out = join(env.tmp.path, 'out.tar');
    const r = await runTbuild(['build', '--root', join(env.tmp.path, 'root'), '--config', env.config, '-o', `type=tar,dest=${out}`, ctx]);
    expect(r.stderr).not.toContain('ERROR');
    expect(r.code).toBe(0);
    const unpacked = join(env.tmp.path, 'unpacked');
    await mkdir(unpacked);
    expect((await run('tar', ['-xf', out, '-C', unpacked])).code).toBe(0);
    expect(await readFile(join(unpacked, 'bound'), 'utf8')).toBe('data\n');
    expect(await readFile(join(unpacked, 'tmpfs-at'), 'utf8')).toBe('1\n');
    const listing = (await run('tar', ['-tf', out])).stdout.split('\n');
    expect(listing.filter((p) => /^(somewhere|etc\/evil)/.test(p))).toEqual([]);
  });
});
