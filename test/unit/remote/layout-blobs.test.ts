import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestHex, digestOf, type Digest } from '../../../base/digest.js';
import { resolveClientLayouts, type ClientLayout, type LayoutBlobs } from '../../../controller/index.js';
import { LayoutBlobSender } from '../../../remote/layout-blob-sender.js';
import type { ClientMessage, ServerMessage } from '../../../remote/messages.js';
import { StreamLayoutBlobs } from '../../../remote/stream-layout-blobs.js';

const signal = new AbortController().signal;

/**
 * A server's blob reader and a client's sender joined as over a Build call: requests go to the sender, chunks come
 * back to the reader one at a time (the reader's backpressure holds the sender's writes).
 */
function joined(layouts: ReadonlyMap<string, ClientLayout>): { blobs: LayoutBlobs; server: StreamLayoutBlobs; sent: ClientMessage[]; failures: unknown[] } {
  const sent: ClientMessage[] = [];
  const failures: unknown[] = [];
  let server: StreamLayoutBlobs | undefined;
  const sender = new LayoutBlobSender(
    layouts,
    async (m) => {
      sent.push(m);
      if (m.kind === 'blob') await server?.deliver(m.blob);
    },
    (err) => failures.push(err),
  );
  server = new StreamLayoutBlobs([...layouts.keys()], (m: ServerMessage) => {
    if (m.kind === 'blobRequest') sender.serve(m.blobRequest);
    return Promise.resolve();
  });
  const blobs = server.layouts().get('base');
  if (blobs === undefined) throw new Error('no layout named base');
  return { blobs, server, sent, failures };
}

describe('OCI layout blobs served by a remote client', () => {
  let root = '';
  let layouts: ReadonlyMap<string, ClientLayout> = new Map();
  let small: { digest: Digest; bytes: Buffer };
  let layer: { digest: Digest; bytes: Buffer };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tbuild-layout-blobs-'));
    const dir = join(root, 'layout');
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    const put = async (bytes: Buffer): Promise<{ digest: Digest; bytes: Buffer }> => {
      const digest = digestOf(bytes);
      await writeFile(join(dir, 'blobs', 'sha256', digestHex(digest)), bytes);
      return { digest, bytes };
    };
    small = await put(Buffer.from('{"schemaVersion":2}'));
    // Larger than a chunk and than the reader's buffer, so it arrives in pieces under backpressure.
    layer = await put(randomBytes(3 * 1024 * 1024 + 17));
    await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: small.digest, size: small.bytes.length }] }));
    layouts = await resolveClientLayouts([{ name: 'base', type: 'oci-layout', path: dir, tag: 'latest' }]);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('finds the image on the client and reads a whole blob through the call', async () => {
    expect(layouts.get('base')?.digest).toBe(small.digest);
    const { blobs, failures } = joined(layouts);
    expect(Buffer.from(await blobs.read(small.digest, { signal }))).toEqual(small.bytes);
    expect(failures).toEqual([]);
  });

  it('streams a layer in chunks, and several at once', async () => {
    const { blobs, sent } = joined(layouts);
    const readAll = async (): Promise<Buffer> => {
      const chunks: Buffer[] = [];
      for await (const c of (await blobs.open({ mediaType: '', digest: layer.digest, size: layer.bytes.length }, { signal })) as AsyncIterable<Buffer>) chunks.push(c);
      return Buffer.concat(chunks);
    };
    const [a, b] = await Promise.all([readAll(), readAll()]);
    expect(digestOf(a)).toBe(layer.digest);
    expect(digestOf(b)).toBe(layer.digest);
    const chunks = sent.filter((m) => m.kind === 'blob' && m.blob.data.length > 0);
    expect(chunks.length).toBeGreaterThanOrEqual(2 * 12);
    expect(Math.max(...chunks.map((m) => (m.kind === 'blob' ? m.blob.data.length : 0)))).toBeLessThanOrEqual(256 * 1024);
  });

  it('answers a blob the layout lacks with the reason, which the build reports', async () => {
    const { blobs, failures } = joined(layouts);
    const missing = digestOf('missing');
    await expect(blobs.read(missing, { signal })).rejects.toThrow(`Cannot read a blob of an OCI layout context from the client: ${join(root, 'layout')}: the layout has no blob ${missing}`);
    expect(failures).toEqual([]);
  });

  it('serves only the blobs of the layouts of the build, and fails reads once the client stops serving', async () => {
    const answers: ClientMessage[] = [];
    const failures: unknown[] = [];
    const sender = new LayoutBlobSender(layouts, (m) => Promise.resolve(void answers.push(m)), (err) => failures.push(err));
    sender.serve({ id: 1, layout: 'etc', digest: small.digest });
    sender.serve({ id: 2, layout: 'base', digest: '../../../etc/passwd' });
    await sender.settled();
    expect(answers).toEqual([
      { kind: 'blob', blob: { id: 1, data: Buffer.alloc(0), eof: true, error: 'no OCI layout context is named etc' } },
      { kind: 'blob', blob: { id: 2, data: Buffer.alloc(0), eof: true, error: '"../../../etc/passwd" is not a sha256 digest' } },
    ]);
    expect(failures).toEqual([]);
    const { blobs, server } = joined(layouts);
    server.fail(new Error('the client stopped serving them'));
    await expect(blobs.read(small.digest, { signal })).rejects.toThrow('the client stopped serving them');
  });
});
