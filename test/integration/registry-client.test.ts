import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Digester, digestOf, type Digest } from '../../base/digest.js';
import { RegistryError } from '../../base/errors.js';
import { MEDIA_TYPES, hostPlatform, type Descriptor, type ImageIndex, type ImageManifest } from '../../base/oci.js';
import { createRegistryClient } from '../../registry/lazy.js';
import {
  EMPTY_REGISTRY_CONFIG,
  parseReference,
  parseRegistryConfig,
  type DisposableRegistryClient,
  type PushImage,
  type PushProgress,
} from '../../registry/index.js';
import { makeBusyboxOciLayout } from '../fixtures/busybox-image.js';
import { TEST_CREDENTIALS, seedBusybox, startRegistry, type TestRegistry } from '../fixtures/registry.js';

const execFileAsync = promisify(execFile);
const signal = AbortSignal.timeout(60_000);
const platform = hostPlatform();

interface Layout {
  readonly dir: string;
  readonly manifestDigest: Digest;
  readonly image: PushImage;
}

async function loadLayout(dir: string): Promise<Layout> {
  await makeBusyboxOciLayout(dir);
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as ImageIndex;
  const descriptor = index.manifests[0];
  if (descriptor === undefined) throw new Error('layout has no manifest');
  const bytes = await readFile(join(dir, 'blobs/sha256', descriptor.digest.slice(7)));
  const manifest = JSON.parse(bytes.toString('utf8')) as ImageManifest;
  return {
    dir,
    manifestDigest: descriptor.digest,
    image: { manifest: bytes, manifestMediaType: MEDIA_TYPES.ociManifest, config: manifest.config, layers: manifest.layers },
  };
}

function blobOpener(dir: string) {
  return (d: Descriptor): Promise<NodeJS.ReadableStream> => Promise.resolve(createReadStream(join(dir, 'blobs/sha256', d.digest.slice(7))));
}

async function digestStream(stream: NodeJS.ReadableStream): Promise<{ digest: Digest; size: number }> {
  const digester = new Digester();
  for await (const chunk of stream) digester.update(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return { digest: digester.digest(), size: digester.size };
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

let registry: TestRegistry;
let client: DisposableRegistryClient;
let layout: Layout;
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'tbuild-registry-client-'));
  registry = await startRegistry();
  await seedBusybox(registry.host);
  layout = await loadLayout(join(tmp, 'layout'));
  client = createRegistryClient({ config: EMPTY_REGISTRY_CONFIG, dockerConfigDir: join(tmp, 'no-docker-config') });
});

afterAll(async () => {
  await client.close();
  await registry.stop();
  await rm(tmp, { recursive: true, force: true });
});

describe('resolveImage', () => {
  it('resolves the seeded busybox and verifies digests', async () => {
    const ref = parseReference(`${registry.host}/library/busybox:latest`);
    const resolved = await client.resolveImage(ref, { platform, signal });
    expect(resolved.digest).toBe(layout.manifestDigest);
    expect(resolved.source).toBe(registry.host);
    expect(resolved.manifest.layers).toHaveLength(1);
    expect(resolved.config.os).toBe('linux');
    expect(resolved.config.architecture).toBe(platform.architecture);
    expect(resolved.config.config?.Cmd).toEqual(['sh']);
    expect(resolved.configDescriptor).toEqual(layout.image.config);
  });

  it('resolves by digest', async () => {
    const ref = parseReference(`${registry.host}/library/busybox@${layout.manifestDigest}`);
    const resolved = await client.resolveImage(ref, { platform, signal });
    expect(resolved.digest).toBe(layout.manifestDigest);
  });

  it('selects the platform from an OCI index', async () => {
    const entry = { mediaType: MEDIA_TYPES.ociManifest, digest: layout.manifestDigest, size: layout.image.manifest.length };
    const index = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: [
        { ...entry, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        { ...entry, platform: { os: 'linux', architecture: 'amd64' } },
      ],
    };
    const res = await request(`${registry.url}/v2/library/busybox/manifests/multi`, {
      method: 'PUT',
      headers: { 'content-type': MEDIA_TYPES.ociIndex },
      body: JSON.stringify(index),
    });
    await res.body.dump();
    expect(res.statusCode).toBe(201);
    const ref = parseReference(`${registry.host}/library/busybox:multi`);
    for (const p of [{ os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'amd64' }]) {
      const resolved = await client.resolveImage(ref, { platform: p, signal });
      expect(resolved.digest).toBe(layout.manifestDigest);
    }
    const err = await caught(client.resolveImage(ref, { platform: { os: 'linux', architecture: 's390x' }, signal }));
    expect(err).toBeInstanceOf(RegistryError);
    expect(String(err)).toContain(`Cannot resolve image "${registry.host}/library/busybox:multi": no manifest for platform linux/s390x`);
  });

  it('reads Docker schema 2 manifests', async () => {
    await execFileAsync('skopeo', [
      'copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', '--format', 'v2s2',
      `docker://${registry.host}/library/busybox:latest`, `docker://${registry.host}/library/busybox-docker:latest`,
    ]);
    const resolved = await client.resolveImage(parseReference(`${registry.host}/library/busybox-docker`), { platform, signal });
    expect(resolved.manifest.mediaType).toBe(MEDIA_TYPES.dockerManifest);
    expect(resolved.manifest.layers[0]?.mediaType).toBe(MEDIA_TYPES.dockerLayerGzip);
    expect(resolved.config.rootfs.diff_ids).toHaveLength(1);
  });

  it('resolves docker.io names through a mirror', async () => {
    const config = parseRegistryConfig(`[registry."docker.io"]\nmirrors = ["${registry.host}"]\n`, 'test.toml');
    await using mirrored = createRegistryClient({ config, dockerConfigDir: join(tmp, 'no-docker-config') });
    const resolved = await mirrored.resolveImage(parseReference('busybox'), { platform, signal });
    expect(resolved.source).toBe(registry.host);
    expect(resolved.digest).toBe(layout.manifestDigest);
    const blob = await mirrored.fetchBlob(parseReference('busybox'), resolved.configDescriptor, { signal });
    expect((await digestStream(blob)).digest).toBe(resolved.configDescriptor.digest);
  });

  it('reports an unknown tag clearly', async () => {
    const err = await caught(client.resolveImage(parseReference(`${registry.host}/library/nope:latest`), { platform, signal }));
    expect(err).toBeInstanceOf(RegistryError);
    expect(err).toMatchObject({ code: 'REGISTRY_NOT_FOUND', status: 404, ref: `${registry.host}/library/nope:latest` });
    expect(err).toHaveProperty('message', `Cannot resolve image "${registry.host}/library/nope:latest": manifest unknown`);
  });

  it('reports an unreachable host clearly', async () => {
    const err = await caught(client.resolveImage(parseReference('127.0.0.1:1/library/busybox'), { platform, signal }));
    expect(err).toBeInstanceOf(RegistryError);
    expect(err).toHaveProperty('message', 'Cannot resolve image "127.0.0.1:1/library/busybox:latest": cannot reach registry "127.0.0.1:1" (ECONNREFUSED)');
  });

  it('rethrows the abort reason unchanged', async () => {
    const reason = new Error('stop');
    const err = await caught(client.resolveImage(parseReference(`${registry.host}/library/busybox`), { platform, signal: AbortSignal.abort(reason) }));
    expect(err).toBe(reason);
  });
});

describe('fetchBlob', () => {
  it('streams the layer with the expected digest', async () => {
    const ref = parseReference(`${registry.host}/library/busybox:latest`);
    const resolved = await client.resolveImage(ref, { platform, signal });
    const layer = resolved.manifest.layers[0];
    if (layer === undefined) throw new Error('no layer');
    const got = await digestStream(await client.fetchBlob(ref, layer, { signal }));
    expect(got).toEqual({ digest: layer.digest, size: layer.size });
  });

  it('reports a missing blob', async () => {
    const ref = parseReference(`${registry.host}/library/busybox:latest`);
    const missing: Descriptor = { mediaType: MEDIA_TYPES.ociLayerGzip, digest: digestOf('missing'), size: 7 };
    const err = await caught(client.fetchBlob(ref, missing, { signal }));
    expect(err).toMatchObject({ code: 'REGISTRY_NOT_FOUND', status: 404 });
  });
});

describe('pushImage', () => {
  it('pushes a new repository, then finds every blob present', async () => {
    const ref = parseReference(`${registry.host}/tbuild/pushed:v1`);
    const events: PushProgress[] = [];
    const { digest } = await client.pushImage(ref, layout.image, blobOpener(layout.dir), { signal, onProgress: (e) => events.push(e) });
    expect(digest).toBe(layout.manifestDigest);
    // The layer was fetched from library/busybox by an earlier test, so it is mounted from there.
    expect(events.filter((e) => e.status === 'uploaded' || e.status === 'mounted')).toHaveLength(2);
    const { stdout } = await execFileAsync('skopeo', ['inspect', '--tls-verify=false', `docker://${ref.registry}/${ref.repository}:v1`]);
    expect(JSON.parse(stdout)).toMatchObject({ Digest: layout.manifestDigest, Os: 'linux' });

    const again: PushProgress[] = [];
    await client.pushImage(parseReference(`${registry.host}/tbuild/pushed:v2`), layout.image, blobOpener(layout.dir), {
      signal,
      onProgress: (e) => again.push(e),
    });
    expect(again.map((e) => e.status)).toEqual(['exists', 'exists', 'manifest-pushed']);
  });
});

describe('authentication', () => {
  it('uses Basic credentials from the Docker config', async () => {
    await using secured = await startRegistry({ htpasswd: true });
    const dockerDir = join(tmp, 'docker-basic');
    await writeDockerConfig(dockerDir, secured.host, TEST_CREDENTIALS);
    await using authed = createRegistryClient({ config: EMPTY_REGISTRY_CONFIG, dockerConfigDir: dockerDir });
    const ref = parseReference(`${secured.host}/tbuild/private:v1`);
    await authed.pushImage(ref, layout.image, blobOpener(layout.dir), { signal });
    const resolved = await authed.resolveImage(ref, { platform, signal });
    expect(resolved.digest).toBe(layout.manifestDigest);

    const err = await caught(client.resolveImage(ref, { platform, signal }));
    expect(err).toMatchObject({ code: 'REGISTRY_AUTH', status: 401 });
  });

  it('follows the Bearer token flow', async () => {
    await using proxy = await startTokenProxy(registry.host);
    const dockerDir = join(tmp, 'docker-bearer');
    await writeDockerConfig(dockerDir, proxy.host, TEST_CREDENTIALS);
    await using authed = createRegistryClient({ config: EMPTY_REGISTRY_CONFIG, dockerConfigDir: dockerDir });
    const resolved = await authed.resolveImage(parseReference(`${proxy.host}/library/busybox`), { platform, signal });
    expect(resolved.digest).toBe(layout.manifestDigest);
    // One token per scope, reused across the manifest and config requests.
    expect(proxy.tokenRequests).toEqual([{ scope: 'repository:library/busybox:pull', service: 'tbuild-test', basic: true }]);
  });
});

describe('transport', () => {
  it('trusts a configured CA for an HTTPS registry', async () => {
    await using secure = await startRegistry({ tls: true });
    const ca = secure.caCertPath ?? '';
    const config = parseRegistryConfig(`[registry."${secure.host}"]\nhttp = false\nca = ["${ca}"]\n`, 'test.toml');
    await using tlsClient = createRegistryClient({ config, dockerConfigDir: join(tmp, 'no-docker-config') });
    const ref = parseReference(`${secure.host}/tbuild/tls:v1`);
    await tlsClient.pushImage(ref, layout.image, blobOpener(layout.dir), { signal });
    expect((await tlsClient.resolveImage(ref, { platform, signal })).digest).toBe(layout.manifestDigest);

    const untrusted = parseRegistryConfig(`[registry."${secure.host}"]\nhttp = false\n`, 'test.toml');
    await using plain = createRegistryClient({ config: untrusted, dockerConfigDir: join(tmp, 'no-docker-config') });
    const err = await caught(plain.resolveImage(ref, { platform, signal }));
    expect(err).toBeInstanceOf(RegistryError);
    expect(String(err)).toContain(`cannot reach registry "${secure.host}"`);
  });

  it('retries server errors', async () => {
    await using proxy = await startFlakyProxy(registry.host, 2);
    const resolved = await client.resolveImage(parseReference(`${proxy.host}/library/busybox`), { platform, signal });
    expect(resolved.digest).toBe(layout.manifestDigest);
    expect(proxy.failures()).toBe(2);
  });
});

/** A loopback front for the registry that answers 503 to its first `failures` requests. */
async function startFlakyProxy(upstream: string, failures: number): Promise<AsyncDisposable & { host: string; failures(): number }> {
  let failed = 0;
  const server = createServer((req, res) => {
    if (failed < failures) {
      failed++;
      res.writeHead(503).end();
      return;
    }
    const forward = httpRequest(`http://${upstream}${req.url ?? '/'}`, { method: req.method, headers: { accept: req.headers.accept ?? '*/*' } }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    forward.on('error', (err) => res.destroy(err));
    req.pipe(forward);
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    failures: () => failed,
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function writeDockerConfig(dir: string, host: string, creds: { username: string; password: string }): Promise<void> {
  await execFileAsync('mkdir', ['-p', dir]);
  const auth = Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
  await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { [`http://${host}`]: { auth } } }));
}

interface TokenProxy extends AsyncDisposable {
  readonly host: string;
  readonly tokenRequests: { scope: string | null; service: string | null; basic: boolean }[];
}

/** A loopback front for the registry that demands a Bearer token issued by its own /token endpoint. */
async function startTokenProxy(upstream: string): Promise<TokenProxy> {
  const tokenRequests: TokenProxy['tokenRequests'] = [];
  const token = 'test-token';
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    if (url.pathname === '/token') {
      tokenRequests.push({ scope: url.searchParams.get('scope'), service: url.searchParams.get('service'), basic: (req.headers.authorization ?? '').startsWith('Basic ') });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
      return;
    }
    if (req.headers.authorization !== `Bearer ${token}`) {
      const realm = `http://${req.headers.host ?? ''}/token`;
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="tbuild-test",scope="repository:library/busybox:pull"` });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    const forward = httpRequest(`http://${upstream}${req.url ?? '/'}`, { method: req.method, headers: { accept: req.headers.accept ?? '*/*' } }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    forward.on('error', (err) => res.destroy(err));
    req.pipe(forward);
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    tokenRequests,
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
