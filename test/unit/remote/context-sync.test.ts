import { chmod, lstat, mkdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '../../helpers/cli.js';
import { buildManifest, type ContextManifest } from '../../../remote/context-manifest.js';
import { receiveContext, type SyncedContext } from '../../../remote/context-receiver.js';
import { sendFiles, sendManifest } from '../../../remote/context-sender.js';
import type { ClientMessage, ServerMessage } from '../../../remote/messages.js';
import type { MessageReader } from '../../../remote/message-reader.js';

/** A one-way in-memory channel standing in for the gRPC stream. */
function channel<T>(): { reader: MessageReader<T>; write: (m: T) => Promise<void> } {
  const queue: T[] = [];
  const waiting: ((m: T) => void)[] = [];
  return {
    reader: { next: () => new Promise<T | undefined>((resolve) => (queue.length > 0 ? resolve(queue.shift()) : waiting.push(resolve))) },
    write: async (m) => {
      const w = waiting.shift();
      if (w !== undefined) w(m);
      else queue.push(m);
    },
  };
}

async function sync(manifest: ContextManifest, dir: string, tamper?: (m: ClientMessage) => ClientMessage): Promise<SyncedContext> {
  const up = channel<ClientMessage>();
  const signal = new AbortController().signal;
  const send = async (m: ServerMessage): Promise<void> => {
    if (m.kind === 'want' && m.want.last) {
      const all = wants.concat(m.want.indices);
      await sendFiles(manifest, all, (c) => up.write(tamper ? tamper(c) : c), { signal });
    } else if (m.kind === 'want') wants.push(...m.want.indices);
  };
  const wants: number[] = [];
  await sendManifest(manifest, up.write);
  return receiveContext(up.reader, send, { dir, signal });
}

describe('context sync', () => {
  let tmp: TempDir;
  let ctx: string;
  let server: string;
  const manifest = (): Promise<ContextManifest> => buildManifest(ctx, undefined, { signal: new AbortController().signal, memoPath: join(tmp.path, 'memo.json') });

  beforeEach(async () => {
    tmp = await makeTempDir('tbuild-sync-');
    ctx = join(tmp.path, 'ctx');
    server = join(tmp.path, 'server');
    await mkdir(join(ctx, 'src', 'deep'), { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), 'FROM scratch\n');
    await writeFile(join(ctx, 'src', 'a.txt'), 'a'.repeat(300_000));
    await writeFile(join(ctx, 'src', 'deep', 'b.txt'), 'bee\n');
    await writeFile(join(ctx, 'secret.key'), 'never sent');
    await writeFile(join(ctx, '.dockerignore'), '*.key\n');
    await symlink('src/a.txt', join(ctx, 'link'));
  });

  afterEach(async () => {
    await tmp[Symbol.asyncDispose]();
  });

  it('sends the kept files once, then only what changed', async () => {
    const first = await sync(await manifest(), server);
    expect(first.stats).toMatchObject({ filesSent: 4, bytesSent: 300_000 + 4 + 13 + 6, removed: 0 });
    await expect(lstat(join(first.dir, 'secret.key'))).rejects.toThrow(/ENOENT/);
    expect(await readlink(join(first.dir, 'link'))).toBe('src/a.txt');
    expect((await readFile(join(first.dir, 'src', 'a.txt'))).length).toBe(300_000);

    const again = await sync(await manifest(), server);
    expect(again.stats).toMatchObject({ filesSent: 0, bytesSent: 0 });

    await writeFile(join(ctx, 'src', 'deep', 'b.txt'), 'changed\n');
    await rm(join(ctx, 'src', 'a.txt'));
    await chmod(join(ctx, 'Dockerfile'), 0o600);
    const third = await sync(await manifest(), server);
    expect(third.stats).toMatchObject({ filesSent: 1, bytesSent: 8, removed: 1 });
    expect(await readFile(join(third.dir, 'src', 'deep', 'b.txt'), 'utf8')).toBe('changed\n');
    await expect(lstat(join(third.dir, 'src', 'a.txt'))).rejects.toThrow(/ENOENT/);
    expect((await lstat(join(third.dir, 'Dockerfile'))).mode & 0o777).toBe(0o600);
  });

  it('rejects file content that does not match the manifest checksum, and sends everything next time', async () => {
    const flip = (m: ClientMessage): ClientMessage => (m.kind === 'file' && m.file.data.length > 0 ? { kind: 'file', file: { ...m.file, data: Buffer.from(m.file.data).fill(0x7a) } } : m);
    await expect(sync(await manifest(), server, flip)).rejects.toThrow(/does not match/);
    const retry = await sync(await manifest(), server);
    expect(retry.stats.filesSent).toBe(4);
  });

  it('refuses manifest paths that leave the context', async () => {
    const evil: ContextManifest = { dir: ctx, dockerignore: '', entries: [{ path: '../escape', kind: 'DIR', mode: 0o755, size: 0, mtimeMs: 0, sha256: '', linkTarget: '' }] };
    await expect(sync(evil, server)).rejects.toThrow(/not a clean relative path/);
  });
});
