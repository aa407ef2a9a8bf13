import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { GZIP_CHUNK, parallelGzip } from '../../../exporter/layer/index.js';

const signal = new AbortController().signal;

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk);
  return Buffer.concat(parts);
}

/** pieces cuts a buffer into uneven pieces, as a tar stream arrives. */
function pieces(data: Buffer, sizes: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let offset = 0, i = 0; offset < data.length; i++) {
    const n = sizes[i % sizes.length] ?? 1;
    out.push(data.subarray(offset, offset + n));
    offset += n;
  }
  return out;
}

/** reference is the stream the way layers have always been compressed: each GZIP_CHUNK of the input as one member. */
function reference(data: Buffer, level: number): Buffer {
  const members: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += GZIP_CHUNK) members.push(gzipSync(data.subarray(offset, offset + GZIP_CHUNK), { level }));
  return Buffer.concat(members);
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('parallelGzip', () => {
  // Three and a half chunks of mixed data: random (incompressible) and text (compressible), as a layer holds.
  const text = Buffer.from('usr/share/doc/package/changelog: fixed a bug in the parser\n'.repeat(40_000));
  const input = Buffer.concat([randomBytes(GZIP_CHUNK + 12_345), text, randomBytes(GZIP_CHUNK / 2)]);

  it('writes the same bytes for 1 and 2 threads and run after run, those of one member per chunk', async () => {
    expect(input.length).toBeGreaterThan(3 * GZIP_CHUNK);
    const one = await collect(parallelGzip(Readable.from(pieces(input, [65_536, 7, 300_001])), { level: 6, signal, threads: 1 }));
    const two = await collect(parallelGzip(Readable.from(pieces(input, [1_000_000, 4096])), { level: 6, signal, threads: 2 }));
    const again = await collect(parallelGzip(Readable.from([input]), { level: 6, signal, threads: 2 }));
    expect(sha256(two)).toBe(sha256(one));
    expect(sha256(again)).toBe(sha256(one));
    // The bytes every earlier tbuild wrote for this input: image digests of existing builds stay as they were.
    expect(sha256(one)).toBe(sha256(reference(input, 6)));
    expect(sha256(execFileSync('gzip', ['-dc'], { input: one, maxBuffer: 1 << 26 }))).toBe(sha256(input));
    // The text compressed: the stream is smaller than its input despite the random parts.
    expect(one.length).toBeLessThan(input.length);
  });

  it('keeps the level: 1 and 9 make other bytes, each the same for any thread count', async () => {
    for (const level of [1, 9]) {
      const one = await collect(parallelGzip(Readable.from([input]), { level, signal, threads: 1 }));
      const three = await collect(parallelGzip(Readable.from(pieces(input, [99_999])), { level, signal, threads: 3 }));
      expect(three.equals(one)).toBe(true);
      expect(one.equals(reference(input, level))).toBe(true);
    }
  });

  it('writes one valid member for an empty or a small input, and an exact multiple of the chunk without an empty tail', async () => {
    const empty = await collect(parallelGzip(Readable.from([]), { level: 6, signal }));
    expect(execFileSync('gzip', ['-dc'], { input: empty }).length).toBe(0);
    const small = Buffer.from('a small layer\n');
    expect((await collect(parallelGzip(Readable.from([small]), { level: 6, signal }))).equals(gzipSync(small, { level: 6 }))).toBe(true);
    const exact = randomBytes(2 * GZIP_CHUNK);
    const out = await collect(parallelGzip(Readable.from(pieces(exact, [GZIP_CHUNK / 4])), { level: 6, signal, threads: 2 }));
    expect(out.equals(reference(exact, 6))).toBe(true);
  });

  it('stops with the reason when the build is cancelled, and rethrows a failure of its input', async () => {
    const controller = new AbortController();
    async function* endless(): AsyncGenerator<Buffer> {
      for (let i = 0; ; i++) {
        if (i === 5) controller.abort(new Error('build cancelled'));
        yield randomBytes(GZIP_CHUNK / 2);
      }
    }
    await expect(collect(parallelGzip(endless(), { level: 6, signal: controller.signal, threads: 2 }))).rejects.toThrow('build cancelled');
    async function* failing(): AsyncGenerator<Buffer> {
      yield randomBytes(3 * GZIP_CHUNK);
      throw new Error('cannot read the snapshot');
    }
    await expect(collect(parallelGzip(failing(), { level: 6, signal, threads: 2 }))).rejects.toThrow('cannot read the snapshot');
  });

  it('fails with the reason a worker gives when it cannot compress a chunk', async () => {
    // zlib refuses level 42 in the worker, which answers with its message instead of a member.
    await expect(collect(parallelGzip(Readable.from([input]), { level: 42, signal, threads: 2 }))).rejects.toThrow(/^Cannot compress a layer with gzip: .*level/);
  });
});
