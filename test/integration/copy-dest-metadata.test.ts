import { chmod, lstat, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { ownedRootfsOutput, run, runTbuild, unpackOwnedRootfs } from '../helpers/cli.js';

/*
 * Which directories COPY, ADD and WORKDIR create, and with which owner and mode, as BuildKit builds them.
 * Recorded with docker 20.10 (BuildKit v0.8) from the Dockerfile below; rows marked "current BuildKit" differ there
 * and follow today's BuildKit instead, read from its source:
 *  - tonistiigi/fsutil copy.Copy (183e7fb, 2025): directories a copy creates take an octal --chmod instead of 0755
 *    (v0.8 made them 0755); a symbolic --chmod leaves them 0755.
 *  - moby/buildkit solver/llbsolver/file/unpack.go (46e52f4, 2025): ADD --chown owns the extracted entries too
 *    (v0.8 kept the archive's owners).
 *  - COPY --link is unknown to v0.8: dockerfile2llb copies onto scratch and merges the layer on the stage, so the
 *    directories that copy creates replace existing ones; with --chmod it copies onto the stage instead.
 *
 * | instruction                                 | directory                  | BuildKit                               |
 * |---------------------------------------------|----------------------------|----------------------------------------|
 * | WORKDIR /opt/app; COPY --chown=svc:svc . .   | /opt/app (exists)          | unchanged: 0755 root                   |
 * | COPY --chmod=0640 config/ /etc/service/     | /etc/service (exists)      | unchanged: 0755 root                   |
 * | COPY --chmod=0640 config/ /etc/newservice/  | /etc/newservice (created)  | 0640 root (current BuildKit; v0.8 0755)|
 * | COPY --chmod=0755 src/ /srv/existing/       | /srv/existing (exists)     | unchanged: 0750 1234:1234              |
 * | COPY src/ /e/ onto /e/lib 0777 7:7          | /e/lib (copied)            | takes the source: 0711 root            |
 * | COPY --chown=svc:svc a.txt /new1/sub/       | /new1, /new1/sub (created) | 0755 svc                               |
 * | COPY --chown=1234:1234 src /new2/deep       | /new2, /new2/deep (created)| 0755 1234 (not the source's 0750)      |
 * | COPY --chown=7:8 a.txt /new3/file.txt       | /new3 (created parent)     | 0755 7:8                               |
 * | COPY --chmod=0600 tree/ /new4/              | /new4 / /new4/sub          | 0600 (current BuildKit) / 0600         |
 * | COPY --chmod=u+x,g-r tree/ /new4s/          | /new4s / /new4s/sub        | 0755 / 0715 (current BuildKit only)   |
 * | COPY src /new5/                             | /new5 (created)            | 0755 root, not the source's 0750       |
 * | ADD --chown=svc:svc arch.tar /new6/         | /new6 / entries            | 0755 svc / svc (current BuildKit)      |
 * | ADD --chmod=0600 arch.tar /x/               | /x / entries               | 0755 / archive modes, chmod ignored    |
 * | COPY --from=other /made /new7/              | /new7/sub                  | keeps the stage's owner 42:43          |
 * | COPY --from=other --chown=9:9 /made/sub /new8/a/ | /new8/a (created)     | 0755 9:9 (not the source's 0701)       |
 * | USER svc; WORKDIR /w1/w2                    | /w1, /w1/w2 (created)      | 0755 svc                               |
 * | COPY --link src/ /srv/linked/               | /srv/linked (exists 0750)  | replaced: 0755 root                    |
 * | COPY --link --chmod=0700 a.txt /srv/linked2/| /srv/linked2 (exists)      | unchanged: 0750 1234:1234              |
 */
const DOCKERFILE = `FROM busybox AS base
RUN echo 'svc:x:1234:1234::/home/svc:/bin/sh' >> /etc/passwd && echo 'svc:x:1234:' >> /etc/group \\
 && mkdir -p /etc/service /srv/existing /srv/existing2 /srv/linked /srv/linked2 /e/lib \\
 && chown 1234:1234 /srv/existing /srv/linked /srv/linked2 && chmod 0750 /srv/existing /srv/linked /srv/linked2 \\
 && chown 4:4 /srv/existing2 && chown 7:7 /e/lib /e && chmod 0777 /e/lib && chmod 0711 /e

FROM base AS other
RUN mkdir -p /made/sub && echo m > /made/sub/m && chown -R 42:43 /made && chmod 0701 /made/sub

FROM base
WORKDIR /opt/app
COPY --chown=svc:svc . .
COPY --chmod=0640 config/ /etc/service/
COPY --chmod=0640 config/ /etc/newservice/
COPY --chmod=0755 src/ /srv/existing/
COPY src/ /e/
COPY --chown=svc:svc a.txt /new1/sub/
COPY --chown=1234:1234 src /new2/deep
COPY --chown=7:8 a.txt /new3/file.txt
COPY --chmod=0600 tree/ /new4/
COPY --chmod=u+x,g-r tree/ /new4s/
COPY src /new5/
ADD --chown=svc:svc arch.tar /new6/
ADD --chmod=0600 arch.tar /x/
COPY --from=other /made /new7/
COPY --from=other --chown=9:9 /made/sub /new8/a/
COPY --from=other /made/sub/m /srv/existing2/
COPY --link src/ /srv/linked/
COPY --link --chmod=0700 a.txt /srv/linked2/
USER svc
WORKDIR /w1/w2
USER 55:66
WORKDIR /w3
`;

const EXPECTED: Record<string, string> = {
  '/opt/app': 'dir 0755 0:0',
  '/opt/app/a.txt': 'file 0644 1234:1234',
  '/opt/app/config': 'dir 0700 1234:1234',
  '/opt/app/config/svc.conf': 'file 0600 1234:1234',
  '/opt/app/src': 'dir 0750 1234:1234',
  '/opt/app/src/lib': 'dir 0711 1234:1234',
  '/etc/service': 'dir 0755 0:0',
  '/etc/service/svc.conf': 'file 0640 0:0',
  '/etc/newservice': 'dir 0640 0:0',
  '/etc/newservice/svc.conf': 'file 0640 0:0',
  '/srv/existing': 'dir 0750 1234:1234',
  '/srv/existing/lib': 'dir 0755 0:0',
  '/srv/existing/main.c': 'file 0755 0:0',
  '/srv/existing2': 'dir 0755 4:4',
  '/srv/existing2/m': 'file 0644 42:43',
  '/e': 'dir 0711 7:7',
  '/e/lib': 'dir 0711 0:0',
  '/new1': 'dir 0755 1234:1234',
  '/new1/sub': 'dir 0755 1234:1234',
  '/new1/sub/a.txt': 'file 0644 1234:1234',
  '/new2': 'dir 0755 1234:1234',
  '/new2/deep': 'dir 0755 1234:1234',
  '/new2/deep/lib': 'dir 0711 1234:1234',
  '/new3': 'dir 0755 7:8',
  '/new3/file.txt': 'file 0644 7:8',
  '/new4': 'dir 0600 0:0',
  '/new4/sub': 'dir 0600 0:0',
  '/new4/top': 'file 0600 0:0',
  '/new4s': 'dir 0755 0:0',
  '/new4s/sub': 'dir 0715 0:0',
  '/new4s/top': 'file 0704 0:0',
  '/new5': 'dir 0755 0:0',
  '/new5/lib': 'dir 0711 0:0',
  '/new6': 'dir 0755 1234:1234',
  '/new6/d': 'dir 0700 1234:1234',
  '/new6/d/f': 'file 0600 1234:1234',
  '/x': 'dir 0755 0:0',
  '/x/d': 'dir 0700 5:5',
  '/x/d/f': 'file 0600 5:5',
  '/new7': 'dir 0755 0:0',
  '/new7/sub': 'dir 0701 42:43',
  '/new7/sub/m': 'file 0644 42:43',
  '/new8': 'dir 0755 9:9',
  '/new8/a': 'dir 0755 9:9',
  '/new8/a/m': 'file 0644 9:9',
  '/srv/linked': 'dir 0755 0:0',
  '/srv/linked/main.c': 'file 0644 0:0',
  '/srv/linked2': 'dir 0750 1234:1234',
  '/srv/linked2/a.txt': 'file 0700 0:0',
  '/w1': 'dir 0755 1234:1234',
  '/w1/w2': 'dir 0755 1234:1234',
  '/w3': 'dir 0755 55:66',
};

async function describeEntry(path: string): Promise<string> {
  const st = await lstat(path);
  const kind = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  return `${kind} ${(st.mode & 0o7777).toString(8).padStart(4, '0')} ${st.uid}:${st.gid}`;
}

describe('COPY and ADD leave the destination directory as BuildKit does', () => {
  const env = useBuildEnvironment();
  let ctx: string;

  beforeAll(async () => {
    ctx = join(env.tmp.path, 'ctx');
    const files: Record<string, [string, number]> = {
      'a.txt': ['a\n', 0o644],
      'config/svc.conf': ['conf\n', 0o600],
      'src/main.c': ['main\n', 0o644],
      'src/lib/x.c': ['x\n', 0o644],
      'tree/sub/f': ['f\n', 0o644],
      'tree/top': ['t\n', 0o644],
      'archive/d/f': ['af\n', 0o600],
    };
    for (const [rel, [text, mode]] of Object.entries(files)) {
      await mkdir(join(ctx, rel, '..'), { recursive: true });
      await writeFile(join(ctx, rel), text);
      await chmod(join(ctx, rel), mode);
    }
    for (const [rel, mode] of [['config', 0o700], ['src', 0o750], ['src/lib', 0o711], ['tree', 0o755], ['tree/sub', 0o755], ['archive/d', 0o700]] as const) {
      await chmod(join(ctx, rel), mode);
    }
    const tar = await run('tar', ['-C', join(ctx, 'archive'), '--owner=5', '--group=5', '-cf', join(ctx, 'arch.tar'), 'd']);
    expect(tar.code, tar.stderr).toBe(0);
    await writeFile(join(ctx, '.dockerignore'), 'archive\n');
    await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE);
  });

  it('changes only what it copies and creates, with --chown and --chmod applied to those', async () => {
    const out = join(env.tmp.path, 'out');
    const r = await runTbuild(['build', '--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'plain', ...ownedRootfsOutput(out), ctx]);
    expect(r.code, r.stderr).toBe(0);
    await unpackOwnedRootfs(out);
    const got: Record<string, string> = {};
    for (const path of Object.keys(EXPECTED)) got[path] = await describeEntry(join(out, path)).catch((err: unknown) => String(err));
    expect(got).toEqual(EXPECTED);
    // Nothing else lands in a destination that already existed.
    expect((await readdir(join(out, 'etc/service'))).sort()).toEqual(['svc.conf']);
  });
});
