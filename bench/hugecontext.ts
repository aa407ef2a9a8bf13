/**
 * Lays out the `hugecontext` benchmark case: a build context ten times `bigcontext` (../shared/bench), 200,000 files
 * and about 2 GB, for what a warm build costs as a context grows. The same seed gives the same bytes on every machine
 * (a seeded PRNG, no clock); only file times differ. Usage:
 *   node dist/bench/hugecontext.js OUTDIR [--seed N]
 * OUTDIR gets a Dockerfile like bigcontext's (COPY . /app/, then a RUN counting the files), app/src/index.js (the file
 * a one-file change edits) and pkg-000 … pkg-399, each with 5 folders of 100 files of 0-20,000 bytes (200,002 files in
 * all with the Dockerfile and the app's). Put it on a disk with room (/var/tmp) and remove it after.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const PACKAGES = 400;
const FOLDERS = 5;
const FILES = 100;
const MAX_SIZE = 20_000;
/** File contents are slices of one pool of pseudo-random text at seeded offsets: distinct files, generated quickly. */
const POOL_BYTES = 64 * 1024 * 1024;

const DOCKERFILE = `# hugecontext: COPY of a ~2 GB, ~200,000-file context (bench/hugecontext.ts), then one RUN over the copied tree.
ARG BASE=127.0.0.1:5000/library/busybox:latest
FROM \${BASE}
WORKDIR /app
COPY . /app/
RUN find /app -type f | wc -l > /file-count && cat /file-count
`;

/** mulberry32, a small and well-known 32-bit PRNG. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** pool is printable pseudo-random text (compressible about like source code), from the seed. */
function pool(next: () => number): Buffer {
  const out = Buffer.allocUnsafe(POOL_BYTES);
  for (let i = 0; i < POOL_BYTES; i += 4) {
    const r = next();
    for (let j = 0; j < 4 && i + j < POOL_BYTES; j++) out[i + j] = 32 + (((r >>> (j * 8)) & 0xff) % 95);
  }
  return out;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { seed: { type: 'string' } }, allowPositionals: true });
  const [out] = positionals;
  if (out === undefined) throw new Error('usage: node dist/bench/hugecontext.js OUTDIR [--seed N]');
  const next = prng(Number(values.seed ?? 20261207));
  const text = pool(next);
  await mkdir(join(out, 'app', 'src'), { recursive: true });
  await writeFile(join(out, 'Dockerfile'), DOCKERFILE);
  await writeFile(join(out, 'app', 'src', 'index.js'), 'export const answer = 42;\n');
  let bytes = 0;
  for (let p = 0; p < PACKAGES; p++) {
    const pkg = `pkg-${String(p).padStart(3, '0')}`;
    for (let f = 0; f < FOLDERS; f++) {
      const dir = join(out, pkg, `part-${f}`);
      await mkdir(dir, { recursive: true });
      const writes: Promise<void>[] = [];
      for (let i = 0; i < FILES; i++) {
        const size = next() % (MAX_SIZE + 1);
        const at = next() % (POOL_BYTES - size);
        bytes += size;
        writes.push(writeFile(join(dir, `file-${String(i).padStart(3, '0')}.txt`), text.subarray(at, at + size)));
      }
      await Promise.all(writes);
    }
  }
  process.stdout.write(`${out}: ${PACKAGES * FOLDERS * FILES + 2} files, ${(bytes / 1e9).toFixed(2)} GB\n`);
}

await main();
