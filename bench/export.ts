/**
 * Benchmarks image export and push on the shared `bigcontext` case: a fresh gzip export (no memo) against
 * `tar | gzip -6` and `tar | pigz -6` of the same snapshots, a zstd export, and a push to a fresh repository.
 * Usage: node dist/bench/export.js [--registry HOST]  (HOST serves busybox as docker.io's mirror and takes the push)
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openStore } from '../controller/store.js';
import { buildImage, createMemoryLayerBlobCache, type Compression } from '../exporter/index.js';
import { createRegistryClient } from '../registry/lazy.js';
import { EMPTY_REGISTRY_CONFIG, parseReference } from '../registry/index.js';
import { storeBlobOpener } from '../controller/push-output.js';

const REPO = resolve(import.meta.dirname, '..', '..');

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

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { registry: { type: 'string', default: '127.0.0.1:5000' } } });
  const host = values.registry ?? '127.0.0.1:5000';
  const tmp = await mkdtemp(join(tmpdir(), 'tbuild-bench-export-'));
  try {
    const ctx = join(tmp, 'ctx');
    const root = join(tmp, 'root');
    await sh(`${join(REPO, '..', 'shared', 'bench', 'make-context.sh')} bigcontext ${ctx}`);
    const config = join(tmp, 'tbuild.toml');
    await writeFile(config, `[registry."docker.io"]\nmirrors = ["${host}"]\n`);
    await sh(`node ${join(REPO, 'bin', 'tbuild.js')} build --root ${root} --config ${config} --progress quiet -t bench/export ${ctx}`);
    await using store = await openStore(root);
    const record = store.meta.images.get('docker.io/bench/export:latest');
    if (record === undefined) throw new Error('the benchmark image is not in the store');
    const layers = store.snapshotter.chain(record.snapshotId).map((id) => ({ id, dir: store.snapshotter.dir(id) }));
    const config0 = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers' as const, diff_ids: [] } };
    const signal = AbortSignal.timeout(600_000);
    const exportWith = (compression: Compression) =>
      time(() => buildImage({ layers, config: config0 }, { compression, store: store.content, cache: createMemoryLayerBlobCache(), signal }));
    const [gzipS, image] = await exportWith('gzip');
    const [zstdS] = await exportWith('zstd');
    const dirs = layers.map((l) => `-C ${l.dir} .`).join(' ');
    const [gzip6] = await time(() => sh(`tar -cf - ${dirs} | gzip -6 > /dev/null`));
    const [pigz6] = await time(() => sh(`tar -cf - ${dirs} | pigz -6 > /dev/null`));
    await using client = createRegistryClient({ config: EMPTY_REGISTRY_CONFIG });
    const ref = parseReference(`${host}/bench/export-${Date.now()}:v1`);
    const pushImage = { manifest: image.manifestBytes, manifestMediaType: image.manifestDescriptor.mediaType, config: image.manifest.config, layers: image.manifest.layers };
    const [pushS] = await time(() => client.pushImage(ref, pushImage, storeBlobOpener(store), { signal }));
    const size = image.layers.reduce((n, l) => n + l.descriptor.size, 0);
    const line = (name: string, s: number): string => `${name.padEnd(34)} ${s.toFixed(2)} s  (${(s / gzip6).toFixed(2)}x gzip -6, ${(s / pigz6).toFixed(2)}x pigz -6)`;
    process.stdout.write(
      [
        `bigcontext: ${layers.length} layers, ${(size / 1e6).toFixed(1)} MB gzip`,
        line('tar | gzip -6', gzip6),
        line('tar | pigz -6', pigz6),
        line('tbuild gzip export (fresh blobs)', gzipS),
        line('tbuild zstd export (fresh blobs)', zstdS),
        line('tbuild push (fresh repository)', pushS),
        '',
      ].join('\n'),
    );
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

await main();
