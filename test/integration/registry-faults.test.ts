import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryError } from '../../base/errors.js';
import { MEDIA_TYPES, type Descriptor, type ImageIndex, type ImageManifest } from '../../base/oci.js';
import { createRegistryClient } from '../../registry/lazy.js';
import { EMPTY_REGISTRY_CONFIG, parseReference, type BlobOpener, type PushImage, type PushProgress } from '../../registry/index.js';
import { makeBusyboxOciLayout } from '../fixtures/busybox-image.js';
import { startRegistry, type TestRegistry } from '../fixtures/registry.js';

const execFileAsync = promisify(execFile);
const signal = AbortSignal.timeout(120_000);

type Fault = '500' | 'drop-mid-body';
interface Rule {
  readonly match: (req: IncomingMessage) => boolean;
  readonly fault: Fault;
  times: number;
}

/** FaultProxy forwards to the registry, injecting server errors and dropped connections on request. */
class FaultProxy {
  readonly seen: string[] = [];
  readonly rules: Rule[] = [];
  readonly server: Server;
  constructor(private readonly target: string) {
    this.server = createServer((req, res) => this.handle(req, res));
  }
  get host(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  inject(fault: Fault, times: number, match: (req: IncomingMessage) => boolean): void {
    this.rules.push({ fault, times, match });
  }
  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.seen.push(`${req.method} ${req.url}`);
    const rule = this.rules.find((r) => r.times > 0 && r.match(req));
    if (rule !== undefined) {
      rule.times--;
      if (rule.fault === '500') {
        req.resume();
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNKNOWN","message":"injected failure"}]}');
        return;
      }
      // Take a little of the body, then cut the connection as a flaky network would.
      let received = 0;
      req.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > 1024) req.socket.destroy();
      });
      req.on('end', () => req.socket.destroy());
      return;
    }
    const headers = { ...req.headers, host: this.target };
    const up = httpRequest(`http://${this.target}${req.url ?? '/'}`, { method: req.method, headers }, (upRes) => {
      const out = { ...upRes.headers };
      if (typeof out.location === 'string') out.location = out.location.replace(this.target, this.host);
      res.writeHead(upRes.statusCode ?? 502, out);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  }
}

let registry: TestRegistry;
let proxy: FaultProxy;
let tmp: string;
let image: PushImage;
let blobs: BlobOpener;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'tbuild-faults-'));
  registry = await startRegistry();
  proxy = new FaultProxy(registry.host);
  proxy.server.listen(0, '127.0.0.1');
  await new Promise((r) => proxy.server.once('listening', r));
  const dir = join(tmp, 'layout');
  await makeBusyboxOciLayout(dir);
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as ImageIndex;
  const top = index.manifests[0] as Descriptor;
  const bytes = await readFile(join(dir, 'blobs/sha256', top.digest.slice(7)));
  const manifest = JSON.parse(bytes.toString()) as ImageManifest;
  image = { manifest: bytes, manifestMediaType: MEDIA_TYPES.ociManifest, config: manifest.config, layers: manifest.layers };
  blobs = (d, range) => Promise.resolve(createReadStream(join(dir, 'blobs/sha256', d.digest.slice(7)), range));
});

afterAll(async () => {
  proxy?.server.close();
  await registry?.stop();
  await rm(tmp, { recursive: true, force: true });
});

const client = (chunk = 256 * 1024) =>
  createRegistryClient({ config: EMPTY_REGISTRY_CONFIG, dockerConfigDir: join(tmp, 'none'), uploadChunkSize: chunk });

describe('pushing through a faulty network', () => {
  it('uploads large blobs in chunks and recovers from a 500 and a connection dropped mid-blob', async () => {
    proxy.inject('500', 1, (req) => req.method === 'HEAD');
    proxy.inject('drop-mid-body', 1, (req) => req.method === 'PATCH');
    await using c = client();
    const ref = parseReference(`${proxy.host}/faults/chunked:v1`);
    const { digest } = await c.pushImage(ref, image, blobs, { signal });
    expect(proxy.seen.filter((s) => s.startsWith('PATCH')).length).toBeGreaterThan(2);
    expect(proxy.rules.every((r) => r.times === 0)).toBe(true);
    const { stdout } = await execFileAsync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/faults/chunked:v1`]);
    expect(JSON.parse(stdout)).toMatchObject({ layers: image.layers.map((l) => ({ digest: l.digest })) });
    expect(digest).toMatch(/^sha256:/);
  });

  it('restarts a monolithic upload whose connection dropped', async () => {
    proxy.inject('drop-mid-body', 1, (req) => req.method === 'PUT' && (req.url ?? '').includes('/blobs/uploads/'));
    await using c = client(64 * 1024 * 1024);
    await c.pushImage(parseReference(`${proxy.host}/faults/monolithic:v1`), image, blobs, { signal });
    expect(proxy.rules.every((r) => r.times === 0)).toBe(true);
  });

  it('mounts blobs from another repository of the same registry instead of uploading them', async () => {
    await using c = client();
    await c.pushImage(parseReference(`${proxy.host}/mount/source:v1`), image, blobs, { signal });
    const events: PushProgress[] = [];
    proxy.seen.length = 0;
    await c.pushImage(parseReference(`${proxy.host}/mount/target:v1`), image, blobs, { signal, onProgress: (e) => events.push(e) });
    expect(events.filter((e) => e.status === 'mounted')).toHaveLength(image.layers.length + 1);
    expect(proxy.seen.some((s) => s.includes('mount=') && s.includes('from=mount%2Fsource'))).toBe(true);
    expect(proxy.seen.some((s) => s.startsWith('PATCH') || (s.startsWith('PUT') && s.includes('/blobs/')))).toBe(false);
  });

  it('gives up on a registry that keeps failing with a clear error', async () => {
    proxy.inject('500', 1000, (req) => req.method === 'POST');
    await using c = client();
    const err = await c.pushImage(parseReference(`${proxy.host}/faults/broken:v1`), image, blobs, { signal }).catch((e: unknown) => e);
    proxy.rules.length = 0;
    expect(err).toBeInstanceOf(RegistryError);
    expect(String((err as Error).message)).toContain(`Cannot push image "${proxy.host}/faults/broken:v1": injected failure`);
  });
});
