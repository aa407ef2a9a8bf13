import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTempDir, REPO_ROOT, run } from '../helpers/cli.js';

// A blob is durable once its folder is synced after the rename that puts it in place: strace shows the order.
describe('content store durability', () => {
  it('syncs the blob file, renames it into place, then syncs the blobs folder', async () => {
    await using tmp = await makeTempDir('tbuild-durable-');
    const script = join(tmp.path, 'write.mjs');
    await writeFile(
      script,
      `const { createLocalContentStore } = await import(${JSON.stringify(join(REPO_ROOT, 'dist/cache/content-store.js'))});
const store = createLocalContentStore(${JSON.stringify(join(tmp.path, 'store'))});
await store.writeBlob(Buffer.from('durable'), {}, { signal: new AbortController().signal });
`,
    );
    const traced = await run('strace', ['-f', '-y', '-e', 'trace=fsync,fdatasync,rename,renameat,renameat2', '-o', join(tmp.path, 'trace'), 'node', script]);
    expect(traced.code, traced.stderr).toBe(0);
    const { stdout } = await run('cat', [join(tmp.path, 'trace')]);
    const lines = stdout.split('\n');
    const renamed = lines.findIndex((l) => /rename/.test(l) && /blobs\/sha256\/[0-9a-f]{64}/.test(l));
    const fileSynced = lines.findIndex((l) => /f(data)?sync\(\d+<[^>]*ingest\/[^>]+>\)/.test(l));
    const dirSynced = lines.findIndex((l, i) => i > renamed && /fsync\(\d+<[^>]*\/blobs\/sha256>\)/.test(l));
    expect(fileSynced, stdout).toBeGreaterThanOrEqual(0);
    expect(renamed, stdout).toBeGreaterThan(fileSynced);
    expect(dirSynced, stdout).toBeGreaterThan(renamed);
  });
});
