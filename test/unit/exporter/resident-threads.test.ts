import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedGzipPool } from '../../../exporter/layer/gzip-pool.js';

const run = promisify(execFile);
const DIST = resolve(import.meta.dirname, '..', '..', '..', 'dist', 'exporter', 'index.js');
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tbuild-resident-threads-'));
  await mkdir(join(root, 'snap'));
  // Large enough for the tar thread and for whole gzip chunks on the gzip threads.
  for (let i = 0; i < 6; i++) await writeFile(join(root, 'snap', `f${i}`), Buffer.alloc(1024 * 1024, i));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('resident export threads', () => {
  it('serve every export of a process from one gzip pool', async () => {
    expect(await sharedGzipPool(2)).toBe(await sharedGzipPool(2));
  });

  it('never keep a process alive once its exports are done', async () => {
    // Two exports in a row, then nothing: the process must end by itself, its threads idle.
    const script = `
      import { buildImage, createMemoryLayerBlobCache } from ${JSON.stringify(DIST)};
      import { createLocalContentStore } from ${JSON.stringify(DIST.replace(/exporter[/]index[.]js$/, 'cache/content-store.js'))};
      const store = createLocalContentStore(${JSON.stringify(join(root, 'store'))});
      const config = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } };
      const layers = [{ id: 's', dir: ${JSON.stringify(join(root, 'snap'))} }];
      for (let i = 0; i < 2; i++) {
        const built = await buildImage({ layers, config }, { compression: 'gzip', store, cache: createMemoryLayerBlobCache(), signal: AbortSignal.timeout(60_000) });
        console.log(built.manifest.layers[0].digest);
      }
    `;
    await writeFile(join(root, 'export.mjs'), script);
    const { stdout } = await run(process.execPath, [join(root, 'export.mjs')], { timeout: 60_000 });
    const digests = stdout.trim().split('\n');
    expect(digests).toHaveLength(2);
    expect(digests[0]).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(digests[1]).toBe(digests[0]);
  });
});
