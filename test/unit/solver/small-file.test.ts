import { truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SMALL_FILE, SmallFileReader } from '../../../solver/ops/small-file.js';
import { makeTempDir, type TempDir } from '../../helpers/cli.js';

let tmp: TempDir;
beforeEach(async () => {
  tmp = await makeTempDir('tbuild-small-file-');
});
afterEach(async () => {
  await tmp[Symbol.asyncDispose]();
});

/** bytes is `n` bytes of a pattern that tells one offset from another. */
const bytes = (n: number, seed = 0): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) % 251));

describe('SmallFileReader', () => {
  it('reads files of the size their stat said, empty to SMALL_FILE, one after the other with one buffer', async () => {
    const reader = new SmallFileReader();
    for (const [i, n] of [0, 1, 4095, 4096, SMALL_FILE - 1, SMALL_FILE, 3].entries()) {
      const path = join(tmp.path, `f${i}`);
      await writeFile(path, bytes(n, i));
      expect(Buffer.from(reader.read(path, n)).equals(bytes(n, i))).toBe(true);
    }
  });

  it('reads what a file holds now when it grew or shrank since its stat, as readFileSync would', async () => {
    const reader = new SmallFileReader();
    const path = join(tmp.path, 'f');
    await writeFile(path, bytes(5000));
    expect(Buffer.from(reader.read(path, 100)).equals(bytes(5000))).toBe(true);
    await truncate(path, 10);
    expect(Buffer.from(reader.read(path, 5000)).equals(bytes(10))).toBe(true);
    // Grown past what one buffer holds: read whole all the same.
    await writeFile(path, bytes(SMALL_FILE + 10_000, 3));
    expect(reader.read(path, 100).equals(bytes(SMALL_FILE + 10_000, 3))).toBe(true);
    await writeFile(path, bytes(SMALL_FILE + 1, 4));
    expect(reader.read(path, SMALL_FILE).equals(bytes(SMALL_FILE + 1, 4))).toBe(true);
  });

  it('reads a file above SMALL_FILE whole', async () => {
    const path = join(tmp.path, 'big');
    await writeFile(path, bytes(SMALL_FILE * 2 + 5));
    expect(new SmallFileReader().read(path, SMALL_FILE * 2 + 5).equals(bytes(SMALL_FILE * 2 + 5))).toBe(true);
  });
});
