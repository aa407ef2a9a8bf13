import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf } from '../../base/digest.js';
import { MEDIA_TYPES, type Descriptor } from '../../base/oci.js';
import { createRegistryClient } from '../../registry/lazy.js';
import { EMPTY_REGISTRY_CONFIG, parseReference, type DisposableRegistryClient } from '../../registry/index.js';

// A registry on loopback that serves blobs wrong: one without end, one cut short.
let server: Server;
let host = '';
let tmp = '';
let client: DisposableRegistryClient;
let endlessBytesSent = 0;
const chunk = Buffer.alloc(64 * 1024, 0x61);

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/v2/') {
      res.writeHead(200).end('{}');
      return;
    }
    if (req.url?.startsWith('/v2/hostile/endless/blobs/') === true) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk)) endlessBytesSent += chunk.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
      return;
    }
    if (req.url?.startsWith('/v2/hostile/short/blobs/') === true) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end('abc');
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  tmp = await mkdtemp(join(tmpdir(), 'tbuild-blob-size-'));
  client = createRegistryClient({ config: EMPTY_REGISTRY_CONFIG, dockerConfigDir: join(tmp, 'no-docker-config') });
});

afterAll(async () => {
  await client[Symbol.asyncDispose]();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(tmp, { recursive: true, force: true });
});

async function drain(stream: NodeJS.ReadableStream): Promise<number> {
  let size = 0;
  for await (const part of stream) size += typeof part === 'string' ? Buffer.byteLength(part) : part.length;
  return size;
}

describe('fetchBlob against a registry that lies about sizes', () => {
  it('stops reading at the declared size of a blob without end, naming the digest', async () => {
    const declared: Descriptor = { mediaType: MEDIA_TYPES.ociLayerGzip, digest: digestOf('small'), size: 127 };
    const stream = await client.fetchBlob(parseReference(`${host}/hostile/endless`), declared, { signal: AbortSignal.timeout(30_000) });
    await expect(drain(stream)).rejects.toThrow(
      `Cannot fetch blob ${declared.digest} from ${host}/hostile/endless: the registry sent more than the 127 bytes its descriptor declares`,
    );
    // The download was stopped, not read to the end: a few socket buffers at most.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(endlessBytesSent).toBeLessThan(64 * 1024 * 1024);
  });

  it('reports a blob that ends before its declared size', async () => {
    const declared: Descriptor = { mediaType: MEDIA_TYPES.ociLayerGzip, digest: digestOf('abcdef'), size: 6 };
    const stream = await client.fetchBlob(parseReference(`${host}/hostile/short`), declared, { signal: AbortSignal.timeout(30_000) });
    await expect(drain(stream)).rejects.toThrow(`the registry sent 3 of the 6 bytes its descriptor declares`);
  });
});
