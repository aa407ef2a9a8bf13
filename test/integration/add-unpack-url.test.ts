import { createServer, type Server } from 'node:http';
import { chmod, lstat, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { ownedRootfsOutput, run, runTbuild, unpackOwnedRootfs } from '../helpers/cli.js';

/*
 * ADD --unpack=true URL downloads the file and extracts it when it is a tar archive, plain or compressed with gzip,
 * bzip2, xz or zstd (the Dockerfile reference, ADD --unpack; dockerfile2llb gives the URL's copy AttemptUnpack only
 * from --unpack, and the file op extracts what compression.DecompressStream and a tar header recognise). Without the
 * flag, or with --unpack=false, the archive is kept as a 0600 file. Docker 20.10 has no --unpack: this follows current
 * BuildKit, where the extracted entries keep the archive's modes (--chmod does not apply) and take --chown.
 */
const ARCHIVES: Record<string, readonly string[]> = {
  'pkg.tar': [],
  'pkg.tar.gz': ['-z'],
  'pkg.tar.bz2': ['-j'],
  'pkg.tar.xz': ['-J'],
  'pkg.tar.zst': ['--zstd'],
};

describe('ADD --unpack=true of a URL', () => {
  const env = useBuildEnvironment();
  let http: Server;
  let base: string;
  let served: string;

  beforeAll(async () => {
    served = join(env.tmp.path, 'served');
    await mkdir(join(served, 'tree', 'pkg', 'bin'), { recursive: true });
    await writeFile(join(served, 'tree', 'pkg', 'bin', 'tool'), 'tool\n');
    await chmod(join(served, 'tree', 'pkg', 'bin', 'tool'), 0o750);
    for (const [name, flags] of Object.entries(ARCHIVES)) {
      const r = await run('tar', ['-C', join(served, 'tree'), '--owner=3', '--group=4', ...flags, '-cf', join(served, name), 'pkg']);
      expect(r.code, r.stderr).toBe(0);
    }
    await writeFile(join(served, 'notes.txt'), 'not an archive\n');
    http = createServer((req, res) => {
      const name = (req.url ?? '').slice(1);
      readFile(join(served, name)).then(
        (body) => res.writeHead(200).end(body),
        () => res.writeHead(404).end(),
      );
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((r) => http.close(() => r()));
  });

  it('extracts tar archives of every compression; keeps them without the flag; copies a file that is no archive', async () => {
    const ctx = join(env.tmp.path, 'ctx');
    await mkdir(ctx);
    const lines = ['FROM busybox'];
    for (const name of Object.keys(ARCHIVES)) lines.push(`ADD --unpack=true ${base}/${name} /x/${name}`);
    lines.push(
      `ADD --unpack=true --chown=5:6 --chmod=0600 ${base}/pkg.tar.gz /owned/`,
      `ADD ${base}/pkg.tar.gz /kept/`,
      `ADD --unpack=false ${base}/pkg.tar.gz /kept-too/`,
      `ADD --unpack=true ${base}/notes.txt /notes/`,
      '',
    );
    await writeFile(join(ctx, 'Dockerfile'), lines.join('\n'));
    const out = join(env.tmp.path, 'out');
    const r = await runTbuild(['build', '--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'plain', ...ownedRootfsOutput(out), ctx]);
    expect(r.code, r.stderr).toBe(0);
    await unpackOwnedRootfs(out);
    for (const name of Object.keys(ARCHIVES)) {
      // The destination is a directory holding what the archive holds, with its owners and modes.
      expect(await readdir(join(out, 'x', name))).toEqual(['pkg']);
      expect(await readFile(join(out, 'x', name, 'pkg/bin/tool'), 'utf8')).toBe('tool\n');
      const st = await lstat(join(out, 'x', name, 'pkg/bin/tool'));
      expect([st.mode & 0o7777, st.uid, st.gid], name).toEqual([0o750, 3, 4]);
    }
    const owned = await lstat(join(out, 'owned/pkg/bin/tool'));
    expect([owned.mode & 0o7777, owned.uid, owned.gid]).toEqual([0o750, 5, 6]);
    for (const dir of ['kept', 'kept-too']) {
      const kept = await lstat(join(out, dir, 'pkg.tar.gz'));
      expect(kept.isFile()).toBe(true);
      expect(kept.mode & 0o777).toBe(0o600);
    }
    expect(await readFile(join(out, 'notes/notes.txt'), 'utf8')).toBe('not an archive\n');
  });
});
