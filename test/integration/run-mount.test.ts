import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { runTbuild, type TempDir } from '../helpers/cli.js';
import { useBuildEnvironment } from '../helpers/build-env.js';

const SECRET = 'tbuild-secret-Zq81xK4';

async function grepTree(dir: string, needle: string): Promise<string[]> {
  const hits: string[] = [];
  for (const name of await readdir(dir)) {
    const p = join(dir, name);
    const st = await stat(p).catch(() => undefined);
    if (st === undefined) continue;
    if (st.isDirectory()) hits.push(...(await grepTree(p, needle)));
    else if (st.isFile() && (await readFile(p)).includes(needle)) hits.push(p);
  }
  return hits;
}

describe('RUN --mount, end to end', () => {
  const env = useBuildEnvironment();
  let tmp: TempDir;
  let root: string;
  let config: string;
  let ctx: string;
  const base = (): string[] => ['--root', root, '--config', config, '--progress', 'plain'];
  const build = async (dockerfile: string, extra: string[] = []): Promise<{ code: number; out: string }> => {
    await writeFile(join(ctx, 'Dockerfile'), dockerfile);
    const r = await runTbuild(['build', ...base(), ...extra, ctx], { env: { ...process.env, TOKEN_VAR: SECRET } });
    return { code: r.code, out: r.stdout + r.stderr };
  };

  beforeAll(async () => {
    ({ tmp, config } = env);
    root = join(tmp.path, 'root');
    ctx = join(tmp.path, 'ctx');
    await mkdir(join(ctx, 'sub'), { recursive: true });
    await writeFile(join(ctx, 'sub', 'a.txt'), 'from-context\n');
    await writeFile(join(ctx, 'big.bin'), 'unrelated\n');
    await writeFile(join(tmp.path, 'secret.txt'), SECRET);
  });


  it('keeps cache mounts across builds and --no-cache, outside the layer', async () => {
    const df = 'FROM busybox\nRUN --mount=type=cache,target=/c,id=runs,sharing=locked sh -c \'echo x >> /c/log; echo count=$(wc -l < /c/log)\'\n';
    const first = await build(df);
    expect(first.code, first.out).toBe(0);
    expect(first.out).toContain('count=1');
    const again = await build(df, ['--no-cache']);
    expect(again.code, again.out).toBe(0);
    expect(again.out).toContain('count=2');
    const du = await runTbuild(['du', '--root', root]);
    expect(du.code, du.stderr).toBe(0);
  });

  it('binds from the context, a stage and an image; rw changes are discarded', async () => {
    const df = [
      'FROM busybox AS stage',
      'RUN echo stagefile > /made.txt',
      'FROM busybox',
      'RUN --mount=type=bind,source=sub,target=/ctx cat /ctx/a.txt',
      'RUN --mount=from=stage,source=/made.txt,target=/m.txt cat /m.txt',
      'RUN --mount=from=busybox,target=/img test -x /img/bin/sh && echo image-ok',
      'RUN --mount=from=stage,target=/b,rw touch /b/new && ls /b/new',
      'RUN --mount=type=tmpfs,target=/t,size=1m df /t | tail -1',
      'RUN test ! -e /b/new && test ! -e /ctx/a.txt && echo clean',
      'RUN <<EOT',
      '#!/bin/sh',
      'echo shebang-ok',
      'EOT',
      '',
    ].join('\n');
    const r = await build(df);
    expect(r.code, r.out).toBe(0);
    for (const s of ['from-context', 'stagefile', 'image-ok', '/b/new', '/t', 'clean', 'shebang-ok']) expect(r.out).toContain(s);
    // Changing an unrelated context file keeps the bind RUN cached.
    await writeFile(join(ctx, 'big.bin'), 'changed\n');
    const again = await build(df);
    expect(again.code, again.out).toBe(0);
    expect(again.out).not.toContain('from-context');
  });

  it('mounts secrets from a file and an env var without leaking them', async () => {
    const tar = join(tmp.path, 'out.tar');
    const df = [
      'FROM busybox',
      'RUN --mount=type=secret,id=tok,required sh -c \'test -s /run/secrets/tok && sha1sum /run/secrets/tok > /sum && echo file-ok\'',
      'RUN --mount=type=secret,id=envtok,env=TOK,required sh -c \'test -n "$TOK" && echo env-ok\'',
      '',
    ].join('\n');
    const r = await build(df, ['--secret', `id=tok,src=${join(tmp.path, 'secret.txt')}`, '--secret', 'id=envtok,env=TOKEN_VAR', '--output', `type=oci,dest=${tar}`]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('file-ok');
    expect(r.out).toContain('env-ok');
    expect(r.out).not.toContain(SECRET);
    expect(await grepTree(root, SECRET)).toEqual([]);
    expect((await readFile(tar)).includes(SECRET)).toBe(false);
    const missing = await build('FROM busybox\nRUN --mount=type=secret,id=nope,required true\n');
    expect(missing.code).not.toBe(0);
    expect(missing.out).toContain('secret nope: not found');
    expect(missing.out).toContain('pass --secret id=nope,src=FILE');
    expect(missing.out).toContain('Dockerfile:2');
  });

  it('forwards an ssh agent socket', async () => {
    const sock = join(tmp.path, 'agent.sock');
    const server: Server = createServer((c) => c.end('agent-hello\n'));
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    try {
      const r = await build('FROM busybox\nRUN --mount=type=ssh test -S "$SSH_AUTH_SOCK" && echo ssh-ok\n', ['--ssh', `default=${sock}`]);
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain('ssh-ok');
    } finally {
      server.close();
    }
  });

  it('loads --ssh key files into an ssh-agent of its own and stops it afterwards', async () => {
    const agents = async (): Promise<string[]> => {
      const found: string[] = [];
      for (const pid of await readdir('/proc')) {
        if (!/^[0-9]+$/.test(pid)) continue;
        const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
        if (cmdline[0]?.endsWith('ssh-agent') === true && cmdline.some((a) => a.includes('tbuild-ssh-'))) found.push(pid);
      }
      return found;
    };
    const before = await agents();
    const keyDir = join(tmp.path, 'ssh-key');
    await mkdir(keyDir);
    const key = join(keyDir, 'id_ed25519');
    await promisify(execFile)('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tbuild-test', '-f', key]);
    const r = await build('FROM busybox\nRUN --mount=type=ssh test -S "$SSH_AUTH_SOCK" && echo agent-ok\n', ['--ssh', `default=${key}`]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('agent-ok');
    expect(await agents()).toEqual(before);
    const body = (await readFile(key, 'utf8')).split('\n').filter((l) => l !== '' && !l.startsWith('-----'));
    for (const line of body) expect(await grepTree(root, line)).toEqual([]);
  });

  it('refuses RUN --security=insecure and --network=host without their --allow, in BuildKit\'s words', async () => {
    const r = await build('FROM busybox\nRUN --security=insecure true\n');
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('entitlement security.insecure is not allowed');
    expect(r.out).toContain('pass --allow security.insecure');
    const host = await build('FROM busybox\nRUN --network=host true\n');
    expect(host.code).not.toBe(0);
    expect(host.out).toContain('entitlement network.host is not allowed');
    expect(host.out).toContain('pass --allow network.host');
  });
});
