import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { makeTempDir, runTbuild } from '../helpers/cli.js';
import { startServe } from '../helpers/remote-server.js';

const FILES = 200;
const FILE_SIZE = 1024 * 1024;

/** Every byte of protocol messages the client sent (request, manifest, file chunks). */
function bytesSent(stderr: string): number {
  const m = /sent (\d+) bytes to the builder/.exec(stderr);
  if (m === null) throw new Error(`no context transfer line in:\n${stderr}`);
  return Number(m[1]);
}

it('sends under 1% of a 200 MB context again when nothing changed', async () => {
  await using tmp = await makeTempDir('tbuild-remote-size-');
  const ctx = join(tmp.path, 'ctx');
  for (let d = 0; d < 10; d++) {
    await mkdir(join(ctx, `dir${d}`), { recursive: true });
    for (let f = 0; f < FILES / 10; f++) await writeFile(join(ctx, `dir${d}`, `blob${f}.bin`), randomBytes(FILE_SIZE));
  }
  await writeFile(join(ctx, 'small.txt'), 'small\n');
  await writeFile(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY small.txt /small.txt\n');
  const builder = `unix://${join(tmp.path, 'tbuild.sock')}`;
  await using _server = await startServe(['--addr', builder, '--root', join(tmp.path, 'root')]);
  const env = { XDG_CONFIG_HOME: join(tmp.path, 'config'), XDG_CACHE_HOME: join(tmp.path, 'cache') };
  const args = ['build', '--builder', builder, '--progress', 'plain', ctx];
  const t0 = Date.now();
  const first = await runTbuild(args, { env });
  const t1 = Date.now();
  expect(first.code, first.stderr).toBe(0);
  const second = await runTbuild(args, { env });
  const t2 = Date.now();
  expect(second.code, second.stderr).toBe(0);
  const a = bytesSent(first.stderr);
  const b = bytesSent(second.stderr);
  expect(a).toBeGreaterThanOrEqual(FILES * FILE_SIZE);
  expect(b / a).toBeLessThan(0.01);
  // The files (200 MiB and two small ones) go up as a transfer with its bytes: running at least once, then done.
  expect(first.stderr).toMatch(/^#\d+ transferring context: [\d.]+[kM]?B \/ 209\.72MB/m);
  expect(first.stderr).toMatch(/^#\d+ transferring context: 209\.72MB \/ 209\.72MB(?: [\d.]+s)? done$/m);
  console.log(`context transfer: first build ${a} bytes (${t1 - t0} ms), unchanged second build ${b} bytes (${t2 - t1} ms), ratio ${(b / a).toFixed(6)}`);
}, 300_000);
