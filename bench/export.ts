/**
 * Benchmarks layer export and push on one fresh ~121 MB layer: debian:bookworm's rootfs plus a file unique to the run,
 * copied into a scratch image. Each round times a fresh gzip export (no memo) against `tar | pigz -6` and
 * `tar | gzip -6` of the same snapshot, and a zstd export against `tar | zstd -3 -T2`; medians are reported. Then one
 * push each to a fresh repository: tbuild, `docker push` and `buildah push`, each of its own image (so that no blob is
 * already in the registry).
 * With --against, each round also times the gzip and zstd exports of another build of tbuild (its dist/ folder, e.g. of
 * an earlier commit) on the same snapshot, between the others, so that a change is measured against its base under
 * the same load. The main thread's CPU time during each gzip export is reported beside it (the event loop's share).
 * Usage: node dist/bench/export.js [--registry HOST] [--rounds N] [--no-peers] [--against DIST]
 *   (HOST serves library/debian:bookworm and takes the pushes)
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openStore } from '../controller/store.js';
import { buildImage, createMemoryLayerBlobCache, type Compression } from '../exporter/index.js';
import { createRegistryClient } from '../registry/lazy.js';
import { EMPTY_REGISTRY_CONFIG, parseReference } from '../registry/index.js';
import { storeBlobOpener } from '../controller/push-output.js';

const REPO = resolve(import.meta.dirname, '..', '..');
const DOCKER = 'DOCKER_API_VERSION=1.41 DOCKER_BUILDKIT=1 /usr/bin/docker';

function sh(script: string): Promise<void> {
  return new Promise((ok, fail) => {
    const child = spawn('sh', ['-c', script], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? ok() : fail(new Error(`${script} exited ${code}`))));
  });
}

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = process.hrtime.bigint();
  const out = await fn();
  return [Number(process.hrtime.bigint() - start) / 1e9, out];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** mainThreadCpu is the CPU time (seconds) the main thread has used, from /proc: worker threads' time is not in it. */
function mainThreadCpu(): number {
  const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

type BuildImage = typeof buildImage;
type LayerBlobCacheMaker = typeof createMemoryLayerBlobCache;

/** loadExporter imports the exporter of another build of tbuild, given its dist/ folder. */
async function loadExporter(dist: string): Promise<{ buildImage: BuildImage; createMemoryLayerBlobCache: LayerBlobCacheMaker }> {
  return (await import(join(resolve(dist), 'exporter', 'index.js'))) as { buildImage: BuildImage; createMemoryLayerBlobCache: LayerBlobCacheMaker };
}

/** context writes a build context whose one layer is debian's rootfs plus a file no other run has. */
async function context(dir: string, host: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'nonce'), `${randomUUID()}\n`);
  await writeFile(join(dir, 'Dockerfile'), `FROM ${host}/library/debian:bookworm AS base\nCOPY nonce /nonce\nFROM scratch\nCOPY --from=base / /\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      registry: { type: 'string', default: '127.0.0.1:5000' },
      rounds: { type: 'string', default: '5' },
      'no-peers': { type: 'boolean', default: false },
      against: { type: 'string' },
    },
  });
  const host = values.registry ?? '127.0.0.1:5000';
  const rounds = Number(values.rounds ?? '5');
  const tmp = await mkdtemp(join(tmpdir(), 'tbuild-bench-export-'));
  try {
    const ctx = join(tmp, 'ctx');
    const root = join(tmp, 'root');
    await context(ctx, host);
    const config = join(tmp, 'tbuild.toml');
    await writeFile(config, `[registry."${host}"]\nhttp = true\n`);
    await sh(`node ${join(REPO, 'bin', 'tbuild.js')} build --root ${root} --config ${config} --progress quiet -t bench/export ${ctx}`);
    await using store = await openStore(root);
    const record = store.meta.images.get('docker.io/bench/export:latest');
    if (record === undefined) throw new Error('the benchmark image is not in the store');
    const layers = store.snapshotter.chain(record.snapshotId).map((id) => ({ id, dir: store.snapshotter.dir(id) }));
    const config0 = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers' as const, diff_ids: [] } };
    const signal = AbortSignal.timeout(1_800_000);
    const base = values.against === undefined ? undefined : await loadExporter(values.against);
    const mainCpu: Record<string, number[]> = { tbuildGzip: [], baseGzip: [] };
    const exportWith = async (compression: Compression, exporter = { buildImage, createMemoryLayerBlobCache }, cpuKey?: string) => {
      const cpu = mainThreadCpu();
      const out = await time(() => exporter.buildImage({ layers, config: config0 }, { compression, store: store.content, cache: exporter.createMemoryLayerBlobCache(), signal, sourceDateEpoch: 0 }));
      if (cpuKey !== undefined) mainCpu[cpuKey]?.push(mainThreadCpu() - cpu);
      return out;
    };
    const dirs = layers.map((l) => `-C ${l.dir} .`).join(' ');
    const runs: Record<string, number[]> = { pigz: [], gzip: [], tbuildGzip: [], zstdCli: [], tbuildZstd: [], baseGzip: [], baseZstd: [] };
    const digests = new Set<string>();
    let size = 0;
    for (let round = 0; round < rounds; round++) {
      const [gzipS, built] = await exportWith('gzip', undefined, 'tbuildGzip');
      digests.add(built.manifest.layers.map((l) => l.digest).join(','));
      size = built.layers.reduce((n, l) => n + l.descriptor.size, 0);
      runs.tbuildGzip?.push(gzipS);
      runs.pigz?.push((await time(() => sh(`tar -cf - ${dirs} | pigz -6 > /dev/null`)))[0]);
      runs.tbuildZstd?.push((await exportWith('zstd'))[0]);
      runs.zstdCli?.push((await time(() => sh(`tar -cf - ${dirs} | zstd -3 -T2 -q > /dev/null`)))[0]);
      runs.gzip?.push((await time(() => sh(`tar -cf - ${dirs} | gzip -6 > /dev/null`)))[0]);
      if (base === undefined) continue;
      const [baseS, baseBuilt] = await exportWith('gzip', base, 'baseGzip');
      digests.add(baseBuilt.manifest.layers.map((l) => l.digest).join(','));
      runs.baseGzip?.push(baseS);
      runs.baseZstd?.push((await exportWith('zstd', base))[0]);
    }
    const pigz6 = median(runs.pigz ?? []);
    const gzip6 = median(runs.gzip ?? []);
    const line = (name: string, key: string): string => {
      const all = runs[key] ?? [];
      const s = median(all);
      const spread = all.map((v) => v.toFixed(2)).join(' ');
      const cpu = mainCpu[key] === undefined ? '' : `  main thread CPU ${median(mainCpu[key] ?? []).toFixed(2)} s`;
      return `${name.padEnd(34)} ${s.toFixed(2)} s  (${(s / gzip6).toFixed(2)}x gzip -6, ${(s / pigz6).toFixed(2)}x pigz -6)  [${spread}]${cpu}`;
    };
    const out = [
      `${layers.length} layer(s), ${(size / 1e6).toFixed(1)} MB gzip; medians of ${rounds} rounds; ${digests.size} distinct gzip digest(s)`,
      line('tar | gzip -6', 'gzip'),
      line('tar | pigz -6', 'pigz'),
      line('tbuild gzip export (fresh blobs)', 'tbuildGzip'),
      line('tar | zstd -3 -T2', 'zstdCli'),
      line('tbuild zstd export (fresh blobs)', 'tbuildZstd'),
      ...(base === undefined ? [] : [line('--against gzip export', 'baseGzip'), line('--against zstd export', 'baseZstd')]),
    ];
    process.stdout.write(`${out.join('\n')}\n`);

    // Like docker and buildah, which compress when they push, the push is timed with its compression.
    await using client = createRegistryClient({ config: EMPTY_REGISTRY_CONFIG });
    const stamp = Date.now();
    const ref = parseReference(`${host}/bench/export-${stamp}:v1`);
    const [exportS, image] = await exportWith('gzip');
    const pushImage = { manifest: image.manifestBytes, manifestMediaType: image.manifestDescriptor.mediaType, config: image.manifest.config, layers: image.manifest.layers };
    const [uploadS] = await time(() => client.pushImage(ref, pushImage, storeBlobOpener(store), { signal }));
    const pushes = [`tbuild export + push (fresh repo)  ${(exportS + uploadS).toFixed(2)} s  (export ${exportS.toFixed(2)} s, upload ${uploadS.toFixed(2)} s)`];
    if (values['no-peers'] !== true) pushes.push(...(await peerPushes(tmp, host, stamp)));
    process.stdout.write(`${pushes.join('\n')}\n`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** peerPushes builds the same kind of image (with a nonce of its own) in docker and times `docker push` and `buildah push`. */
async function peerPushes(tmp: string, host: string, stamp: number): Promise<string[]> {
  const lines: string[] = [];
  const dockerTag = `${host}/bench/export-docker-${stamp}:v1`;
  const buildahTag = `${host}/bench/export-buildah-${stamp}:v1`;
  try {
    await context(join(tmp, 'ctx-docker'), host);
    await sh(`${DOCKER} build -q -t ${dockerTag} ${join(tmp, 'ctx-docker')}`);
    lines.push(`docker push (fresh repository)     ${(await time(() => sh(`${DOCKER} push -q ${dockerTag}`)))[0].toFixed(2)} s`);
    await context(join(tmp, 'ctx-buildah'), host);
    await sh(`${DOCKER} build -q -t ${buildahTag} ${join(tmp, 'ctx-buildah')}`);
    await sh(`buildah pull -q docker-daemon:${buildahTag}`);
    const [s] = await time(() => sh(`buildah push -q --tls-verify=false ${buildahTag} docker://${buildahTag}`));
    lines.push(`buildah push (fresh repository)    ${s.toFixed(2)} s`);
  } finally {
    await sh(`${DOCKER} rmi -f ${dockerTag} ${buildahTag} >/dev/null 2>&1; buildah rmi -f ${buildahTag} >/dev/null 2>&1; true`);
  }
  return lines;
}

await main();
