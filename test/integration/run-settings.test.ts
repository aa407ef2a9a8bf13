import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runTbuild } from '../helpers/cli.js';
import { useBuildEnvironment } from '../helpers/build-env.js';

describe('--add-host, --shm-size and --ulimit', () => {
  const env = useBuildEnvironment();
  let ctx: string;
  let outputs = 0;

  beforeAll(async () => {
    ctx = join(env.tmp.path, 'ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(
      join(ctx, 'Dockerfile'),
      [
        'FROM busybox',
        'RUN grep -E "registry.internal|mirror.internal" /etc/hosts > /hosts.txt || true',
        "RUN awk '$2 == \"/dev/shm\" { print $4 }' /proc/mounts > /shm.txt",
        'RUN ulimit -n > /nofile.txt && ulimit -u > /nproc.txt',
        '',
      ].join('\n'),
    );
  });

  const build = async (flags: readonly string[]): Promise<{ stderr: string; read: (f: string) => Promise<string> }> => {
    const out = join(env.tmp.path, `out-${outputs++}`);
    const res = await runTbuild(['build', '--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'plain', ...flags, '--output', `type=local,dest=${out}`, ctx]);
    expect(res.code, res.stderr).toBe(0);
    return { stderr: res.stderr, read: (f) => readFile(join(out, f), 'utf8') };
  };

  it('gives every RUN the extra /etc/hosts lines, /dev/shm size and limits asked for', async () => {
    const b = await build(['--add-host', 'registry.internal:10.1.2.3', '--add-host', 'mirror.internal=fd00::5', '--shm-size', '128m', '--ulimit', 'nofile=2048:4096', '--ulimit', 'nproc=300']);
    expect(await b.read('hosts.txt')).toBe('10.1.2.3\tregistry.internal\nfd00::5\tmirror.internal\n');
    expect(await b.read('shm.txt')).toMatch(/size=131072k/);
    expect(await b.read('nofile.txt')).toBe('2048\n');
    expect(await b.read('nproc.txt')).toBe('300\n');
  });

  it('keeps the defaults without them, and reruns RUN steps when a setting changes', async () => {
    const plain = await build([]);
    expect(await plain.read('hosts.txt')).toBe('');
    expect(await plain.read('shm.txt')).toMatch(/size=65536k/);
    expect(await plain.read('nofile.txt')).not.toBe('2048\n');
    const again = await build([]);
    expect(again.stderr).toMatch(/RUN ulimit -n[^\n]*\n#\d+ CACHED/);
    const changed = await build(['--add-host', 'registry.internal:10.9.9.9']);
    expect(await changed.read('hosts.txt')).toBe('10.9.9.9\tregistry.internal\n');
    // The settings are part of every RUN's cache key, like BuildKit's exec meta.
    expect(changed.stderr).toMatch(/RUN ulimit -n/);
    expect(changed.stderr).not.toMatch(/RUN ulimit -n[^\n]*\n#\d+ CACHED/);
  });
});
