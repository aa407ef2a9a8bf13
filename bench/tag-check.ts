/**
 * Benchmarks what re-checking an expired base image tag costs a warm (no change) build: the same warm build with a
 * fresh stored resolution (`[resolve] tag-ttl = "24h"`: no request) and with an expired one (`tag-ttl = "0"`: one
 * HEAD request), alternated in one run, through the resident builder (the launcher) and as `node bin/tbuild.js`.
 * With --delay MS the registry answers through a proxy that holds each response that long (a registry further away
 * than loopback). Usage:
 *   node dist/bench/tag-check.js [--cases tiny,bigcontext] [--runs N] [--registry HOST] [--delay MS] [--bench-dir DIR]
 * (`--bench-dir`: the shared benchmark cases, default `../shared/bench` beside the checkout).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const REPO = resolve(import.meta.dirname, '..', '..');
const LAUNCHER = join(REPO, 'native', 'build', 'tbuild');
const ENTRY = join(REPO, 'bin', 'tbuild.js');

function exec(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise(code ?? -1));
  });
}

async function timed(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  const start = process.hrtime.bigint();
  const code = await exec(cmd, args, env);
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}`);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

function fastest(values: readonly number[]): number {
  return Math.min(...values);
}

/** Starts a plain-HTTP proxy to `target` that holds every response `delayMs` before answering. */
async function startDelayProxy(target: string, delayMs: number): Promise<{ host: string; server: Server }> {
  const [host, port] = target.split(':');
  const server = createServer((req, res) => {
    const upstream = request({ host, port: Number(port), method: req.method, path: req.url, headers: req.headers }, (up) => {
      setTimeout(() => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      }, delayMs);
    });
    upstream.on('error', (err) => res.destroy(err));
    req.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('Cannot read the proxy address');
  return { host: `127.0.0.1:${address.port}`, server };
}

async function waitForFile(path: string, ms: number): Promise<void> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    if (await access(path).then(() => true, () => false)) return;
  }
  throw new Error(`the resident builder did not create ${path}`);
}

async function benchCase(name: string, runs: number, registry: string, benchDir: string): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), `tbuild-bench-tags-${name}-`));
  const socket = join(work, 'daemon', 'daemon.sock');
  const env = { TBUILD_DAEMON_SOCKET: socket, TBUILD_DAEMON: '1' };
  try {
    const ctx = join(work, 'ctx');
    if ((await exec('sh', [join(benchDir, 'make-context.sh'), name, ctx])) !== 0) throw new Error(`cannot lay out case ${name}`);
    const fresh = join(work, 'fresh.toml');
    const expired = join(work, 'expired.toml');
    await writeFile(fresh, '[resolve]\ntag-ttl = "24h"\n');
    await writeFile(expired, '[resolve]\ntag-ttl = "0"\n');
    const root = join(work, 'root');
    const build = (config: string): string[] => [
      'build', '--root', root, '--config', config, '--progress', 'quiet', '--build-arg', `BASE=${registry}/library/busybox:latest`, '-t', `bench-${name}`, ctx,
    ];
    await timed(LAUNCHER, build(fresh), env);
    await waitForFile(socket, 10_000);
    await timed(LAUNCHER, build(fresh), env);
    const t = { fresh: [] as number[], expired: [] as number[], freshDirect: [] as number[], expiredDirect: [] as number[] };
    // Alternated, so drift on a shared machine falls on both sides alike.
    for (let i = 0; i < runs; i++) {
      t.fresh.push(await timed(LAUNCHER, build(fresh), env));
      t.expired.push(await timed(LAUNCHER, build(expired), env));
      t.freshDirect.push(await timed(process.execPath, [ENTRY, ...build(fresh)]));
      t.expiredDirect.push(await timed(process.execPath, [ENTRY, ...build(expired)]));
    }
    // Medians, and the fastest runs: on a busy machine the fastest is the steadier measure of the work itself.
    const row = (how: string, a: number[], b: number[]): void => {
      const [f, e, fMin, eMin] = [median(a), median(b), fastest(a), fastest(b)];
      console.log(`| ${name} | ${how} | ${f.toFixed(3)} s (${fMin.toFixed(3)}) | ${e.toFixed(3)} s (${eMin.toFixed(3)}) | ${(e / f).toFixed(2)} (${(eMin / fMin).toFixed(2)}) |`);
    };
    row('resident builder', t.fresh, t.expired);
    row('node bin/tbuild.js', t.freshDirect, t.expiredDirect);
  } finally {
    await exec(process.execPath, [ENTRY, 'daemon', 'stop', '--socket', socket]);
    await rm(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { cases: { type: 'string' }, runs: { type: 'string' }, registry: { type: 'string' }, delay: { type: 'string' }, 'bench-dir': { type: 'string' } },
  });
  const cases = (values.cases ?? 'tiny,bigcontext').split(',').filter((c) => c.length > 0);
  const runs = Number(values.runs ?? '7');
  const origin = values.registry ?? '127.0.0.1:5000';
  const delay = Number(values.delay ?? '0');
  const benchDir = resolve(values['bench-dir'] ?? join(REPO, '..', 'shared', 'bench'));
  const proxy = delay > 0 ? await startDelayProxy(origin, delay) : undefined;
  try {
    console.log(`warm builds, medians (fastest) of ${runs}${delay > 0 ? `, registry answers delayed ${delay} ms` : ''}`);
    console.log('| case | timed as | fresh resolution (no request) | expired (one HEAD) | ratio |\n|---|---|---|---|---|');
    for (const name of cases) await benchCase(name, runs, proxy?.host ?? origin, benchDir);
  } finally {
    proxy?.server.close();
    proxy?.server.closeAllConnections();
  }
}

await main();
