import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, REPO_ROOT, run, runTbuild, writeMirrorConfig, type TempDir } from '../helpers/cli.js';
import { startServe, type ServeProcess } from '../helpers/remote-server.js';
import { seedBusybox, startRegistry, type TestRegistry } from '../fixtures/registry.js';
import { serveDir } from '../compat/buildkit/fixtures.js';

/** Transfer is what the context sync line of a remote build reports. */
interface Transfer {
  readonly files: number;
  readonly bytes: number;
  readonly entries: number;
  readonly total: number;
  readonly removed: number;
}

function transferOf(stderr: string): Transfer {
  const m = /transferred (\d+) files, (\d+) bytes \(context: (\d+) entries, (\d+) bytes; removed (\d+)\)/.exec(stderr);
  if (m === null) throw new Error(`no context transfer line in:\n${stderr}`);
  const [files, bytes, entries, total, removed] = m.slice(1).map(Number) as [number, number, number, number, number];
  return { files, bytes, entries, total, removed };
}

/** Starts a client in the background; resolves `started` once its stderr shows `marker`. */
function startClient(args: readonly string[], marker: string): { started: Promise<void>; done: Promise<{ code: number | null; stderr: string; ms: number }>; kill: (s: NodeJS.Signals) => void } {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'tbuild.js'), ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let t0 = 0;
  const started = new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes(marker)) resolve();
    });
    child.once('exit', () => reject(new Error(`client exited before "${marker}": ${stderr}`)));
  });
  started.catch(() => undefined);
  const done = once(child, 'exit').then(([code]) => ({ code: code as number | null, stderr, ms: Date.now() - t0 }));
  return { started, done, kill: (s) => { t0 = Date.now(); child.kill(s); } };
}

async function waitFor(check: () => Promise<boolean> | boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('tbuild build --builder: builds on a remote builder over a unix socket', () => {
  let registry: TestRegistry;
  let tmp: TempDir;
  let config: string;
  let root: string;
  let server: ServeProcess;
  let builder: string;
  const env = (name: string): NodeJS.ProcessEnv => ({ XDG_CONFIG_HOME: join(tmp.path, 'clients', name, 'config'), XDG_CACHE_HOME: join(tmp.path, 'clients', name, 'cache') });

  beforeAll(async () => {
    registry = await startRegistry();
    await seedBusybox(registry.host);
    tmp = await makeTempDir('tbuild-remote-build-');
    config = await writeMirrorConfig(tmp.path, registry.host);
    root = join(tmp.path, 'server-root');
    builder = `unix://${join(tmp.path, 'run', 'tbuild.sock')}`;
    server = await startServe(['--addr', builder, '--root', root, '--config', config, '--max-parallel-builds', '8']);
  });

  afterAll(async () => {
    await server?.stop();
    await tmp?.[Symbol.asyncDispose]();
    await registry?.stop();
  });

  it('builds examples/hello on the builder, stores the image there and renders progress like an embedded build', async () => {
    const iid = join(tmp.path, 'iid');
    const res = await runTbuild(['build', '--builder', builder, '--progress', 'plain', '-t', 'hello', '--iidfile', iid, join(REPO_ROOT, 'examples/hello')], { env: env('a') });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/#\d+ \[\d\/\d\] RUN chmod \+x greet\.sh/);
    expect(res.stderr).toMatch(/#\d+ DONE \d+\.\d+s/);
    expect(await readFile(iid, 'utf8')).toMatch(/^sha256:[a-f0-9]{64}$/);
    const images = await runTbuild(['images', '--root', root]);
    expect(images.stdout).toMatch(/^hello\s+latest/m);
    const info = await runTbuild(['info', '--builder', builder]);
    expect(info.stdout).toContain(`Root:\t\t${root}`);
  });

  it('streams oci and tar outputs back to the client', async () => {
    const oci = join(tmp.path, 'hello-oci.tar');
    const rootfs = join(tmp.path, 'rootfs.tar');
    const res = await runTbuild(
      ['build', '--builder', builder, '--label', 'org.example.remote=yes', '--output', `type=oci,dest=${oci}`, '--output', `type=tar,dest=${rootfs}`, join(REPO_ROOT, 'examples/hello')],
      { env: env('a') },
    );
    expect(res.code, res.stderr).toBe(0);
    // --label travels to the builder and lands in the image config.
    const cfg = await run('skopeo', ['inspect', '--config', `oci-archive:${oci}`]);
    expect((JSON.parse(cfg.stdout) as { config: { Labels?: Record<string, string> } }).config.Labels?.['org.example.remote']).toBe('yes');
    const list = async (f: string): Promise<string> => {
      const p = spawn('tar', ['-tf', f], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await once(p, 'exit');
      return out;
    };
    expect(await list(oci)).toContain('index.json');
    expect(await list(rootfs)).toContain('app/greeting.txt');
  });

  it('carries --add-host, --shm-size and --ulimit to the RUN steps on the builder', async () => {
    const ctx = join(tmp.path, 'run-settings');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN grep internal /etc/hosts > /hosts && ulimit -n > /nofile && grep /dev/shm /proc/mounts > /shm\n');
    const out = join(tmp.path, 'run-settings-out');
    const res = await runTbuild(
      ['build', '--builder', builder, '--add-host', 'db.internal:10.4.4.4', '--shm-size', '16m', '--ulimit', 'nofile=300:400', '--output', `type=local,dest=${out}`, ctx],
      { env: env('settings') },
    );
    expect(res.code, res.stderr).toBe(0);
    expect(await readFile(join(out, 'hosts'), 'utf8')).toBe('10.4.4.4\tdb.internal\n');
    expect(await readFile(join(out, 'nofile'), 'utf8')).toBe('300\n');
    expect(await readFile(join(out, 'shm'), 'utf8')).toContain('size=16384k');
  });

  it('sends only the changed files on the second build and removes deleted ones', async () => {
    const ctx = join(tmp.path, 'sync-ctx');
    await mkdir(join(ctx, 'files'), { recursive: true });
    for (let i = 0; i < 50; i++) await writeFile(join(ctx, 'files', `f${i}.txt`), `${String(i).repeat(10_000)}\n`);
    await writeFile(join(ctx, 'ignored.log'), 'not sent');
    await writeFile(join(ctx, '.dockerignore'), '*.log\n');
    await writeFile(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY files /files\n');
    const out = join(tmp.path, 'sync-out');
    const args = ['build', '--builder', builder, '--progress', 'plain', '--output', `type=local,dest=${out}`, ctx];
    const first = await runTbuild(args, { env: env('sync') });
    expect(first.code, first.stderr).toBe(0);
    const t1 = transferOf(first.stderr);
    // 50 files, the Dockerfile and .dockerignore; ignored.log stays on the client.
    expect(t1).toMatchObject({ files: 52, entries: 53 });
    expect(t1.bytes).toBe(t1.total);
    await writeFile(join(ctx, 'files', 'f7.txt'), 'changed\n');
    await rm(join(ctx, 'files', 'f9.txt'));
    await rm(out, { recursive: true });
    const second = await runTbuild(args, { env: env('sync') });
    expect(second.code, second.stderr).toBe(0);
    const t2 = transferOf(second.stderr);
    expect(t2).toMatchObject({ files: 1, bytes: 'changed\n'.length, removed: 1 });
    expect(await readFile(join(out, 'files', 'f7.txt'), 'utf8')).toBe('changed\n');
    expect((await readdir(join(out, 'files'))).length).toBe(49);
  });

  it('reports a Dockerfile error with the same snippet and exit code as an embedded build', async () => {
    const ctx = join(tmp.path, 'bad-ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), 'FROM scratch\n\nCOPY\nLABEL a=b\n');
    const remote = await runTbuild(['build', '--builder', builder, '--progress', 'quiet', ctx], { env: env('a') });
    const embedded = await runTbuild(['build', '--root', join(tmp.path, 'embedded-root'), '--config', config, '--progress', 'quiet', ctx]);
    expect(embedded.code).toBe(2);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain('>>> COPY');
    expect(remote.stderr).toBe(embedded.stderr);
  });

  let stamps: string[] = [];

  it('builds for 8 concurrent clients, each with its own context', async () => {
    const clients = Array.from({ length: 8 }, (_, i) => i);
    const results = await Promise.all(
      clients.map(async (i) => {
        const ctx = join(tmp.path, `many-${i}`);
        await mkdir(ctx, { recursive: true });
        await writeFile(join(ctx, 'id.txt'), `client ${i}\n`);
        await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN sleep 2 && head -c 16 /dev/urandom | od -An -tx1 | tr -d " \\n" > /stamp\nCOPY id.txt /id.txt\n');
        const out = join(tmp.path, `many-out-${i}`);
        const res = await runTbuild(['build', '--builder', builder, '--progress', 'plain', '--output', `type=local,dest=${out}`, ctx], { env: env(`many-${i}`) });
        return { res, stamp: res.code === 0 ? await readFile(join(out, 'stamp'), 'utf8') : '', id: res.code === 0 ? await readFile(join(out, 'id.txt'), 'utf8') : '' };
      }),
    );
    for (const [i, r] of results.entries()) {
      expect(r.res.code, r.res.stderr).toBe(0);
      expect(r.id).toBe(`client ${i}\n`);
    }
    stamps = results.map((r) => r.stamp);
  });

  // The RUN sleeps so all 8 builds miss the cache together: the server's shared calls make it run once.
  it('runs the shared RUN step of those 8 clients once', () => {
    expect(stamps.length).toBe(8);
    expect(new Set(stamps).size).toBe(1);
  });

  it('cancels the remote build when the client gets Ctrl-C and cleans the build files', async () => {
    const ctx = join(tmp.path, 'cancel-ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo started-cancel && sleep 60\n');
    const client = startClient(['build', '--builder', builder, '--progress', 'plain', ctx], 'started-cancel');
    await client.started;
    client.kill('SIGINT');
    const done = await client.done;
    expect(done.code, done.stderr).toBe(130);
    expect(done.ms).toBeLessThan(10_000);
    await waitFor(() => server.log().includes('"msg":"build cancelled"'), 'the server to log the cancellation');
    await waitFor(async () => (await readdir(join(root, 'tmp'))).every((n) => !n.startsWith('remote-')), 'the build files to go');
  });

  it('carries what dates the build, named contexts at a URL and the epoch attributes of outputs to the builder', async () => {
    const served = join(tmp.path, 'served');
    await mkdir(served);
    // A context archive whose newest file dates the build, and a file a named context downloads.
    const ctx = join(tmp.path, 'dated-ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nARG SOURCE_DATE_EPOCH\nCOPY --from=extra context /extra\nRUN echo -n "$SOURCE_DATE_EPOCH" > /epoch\n');
    expect((await run('tar', ['-cf', join(served, 'ctx.tar'), '--mtime=@1700000302', '-C', ctx, 'Dockerfile'])).code).toBe(0);
    await writeFile(join(served, 'extra.txt'), 'extra\n');
    await using http = await serveDir(served);
    const oci = join(tmp.path, 'dated.tar');
    const local = join(tmp.path, 'dated-local');
    const rootfs = join(tmp.path, 'dated-rootfs.tar');
    const outputs = [`type=oci,dest=${oci},rewrite-timestamp=true`, `type=local,dest=${local}`, `type=tar,dest=${rootfs},source-date-epoch=1600000000`];
    const res = await runTbuild(
      ['build', '--builder', builder, '--build-arg', 'SOURCE_DATE_EPOCH=context', '--build-context', `extra=${http.url}/extra.txt`, ...outputs.flatMap((o) => ['--output', o]), `${http.url}/ctx.tar`],
      { env: env('dated') },
    );
    expect(res.code, res.stderr).toBe(0);
    const cfg = JSON.parse((await run('skopeo', ['inspect', '--config', `oci-archive:${oci}`])).stdout) as { created: string };
    expect(cfg.created).toBe('2023-11-14T22:18:22Z');
    const manifest = JSON.parse((await run('skopeo', ['inspect', '--raw', `oci-archive:${oci}`])).stdout) as { layers: { annotations?: Record<string, string> }[] };
    expect(manifest.layers.at(-1)?.annotations?.['buildkit/rewritten-timestamp']).toBe('1700000302');
    expect(manifest.layers.at(-2)?.annotations?.['buildkit/rewritten-timestamp']).toBe('1700000302');
    // The local output's files take the build's epoch; the tar output's own source-date-epoch wins over it.
    expect((await lstat(join(local, 'epoch'))).mtimeMs).toBe(1700000302 * 1000);
    const listed = await run('tar', ['--utc', '--full-time', '-tvf', rootfs, 'epoch']);
    expect(listed.stdout).toContain('2020-09-13 12:26:40 epoch');
  });

  it('refuses options the protocol cannot carry instead of dropping them', async () => {
    const ctx = join(tmp.path, 'named-ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), 'FROM scratch\n');
    const res = await runTbuild(['build', '--builder', builder, '--build-context', `extra=${ctx}`, ctx], { env: env('a') });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('Cannot build on a remote builder with --build-context with a local folder');
  });

  it('du, prune and info work against the builder', async () => {
    const du = await runTbuild(['du', '--builder', builder]);
    expect(du.code, du.stderr).toBe(0);
    expect(du.stdout).toMatch(/Total:/);
    const prune = await runTbuild(['prune', '--builder', builder, '--keep-storage', '100GB']);
    expect(prune.code, prune.stderr).toBe(0);
    expect(prune.stdout).toMatch(/^Deleted \d+ cache records/);
  });
});

describe('tbuild build --builder when the builder dies', () => {
  it('fails within seconds with a clear error when the server is killed mid-build; restarted, it keeps its cache and pushes', async () => {
    await using tmp = await makeTempDir('tbuild-remote-kill-');
    await using registry = await startRegistry();
    await seedBusybox(registry.host);
    const config = await writeMirrorConfig(tmp.path, registry.host);
    const builder = `unix://${join(tmp.path, 'tbuild.sock')}`;
    const serveArgs = ['--addr', builder, '--root', join(tmp.path, 'root'), '--config', config];
    const server = await startServe(serveArgs);
    const kept = join(tmp.path, 'kept-ctx');
    await mkdir(kept);
    await writeFile(join(kept, 'Dockerfile'), 'FROM busybox\nRUN echo kept-step > /kept\n');
    try {
      const first = await runTbuild(['build', '--builder', builder, '--progress', 'plain', kept]);
      expect(first.code, first.stderr).toBe(0);
      const ctx = join(tmp.path, 'ctx');
      await mkdir(ctx);
      await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo started-kill && sleep 20\n');
      const client = startClient(['build', '--builder', builder, '--progress', 'plain', ctx], 'started-kill');
      await client.started;
      client.kill('SIGCONT');
      await server.kill();
      const done = await client.done;
      expect(done.code).toBe(1);
      expect(done.ms).toBeLessThan(5_000);
      expect(done.stderr).toContain(`Cannot finish the build on builder ${builder}: connection lost`);
    } finally {
      await server.kill();
    }
    // A restarted server keeps its cache, and pushes from its side.
    const again = await startServe(serveArgs);
    try {
      const name = `${registry.host}/remote/kept:1`;
      const rebuilt = await runTbuild(['build', '--builder', builder, '--progress', 'plain', '--output', `type=image,name=${name},push=true`, kept]);
      expect(rebuilt.code, rebuilt.stderr).toBe(0);
      expect(rebuilt.stderr).toMatch(/RUN echo kept-step > \/kept\n#\d+ CACHED/);
      const inspect = await new Promise<number>((resolve) => {
        const child = spawn('skopeo', ['inspect', '--tls-verify=false', `docker://${name}`], { stdio: 'ignore' });
        child.on('close', (code) => resolve(code ?? -1));
      });
      expect(inspect).toBe(0);
    } finally {
      await again.kill();
    }
  });
});
