import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryError } from '../../base/errors.js';
import { formatPlatform, hostPlatform } from '../../base/oci.js';
import type { ProgressEvent } from '../../base/progress.js';
import { openStore } from '../../controller/store.js';
import { createRegistryClient } from '../../registry/lazy.js';
import { EMPTY_REGISTRY_CONFIG, parseReference } from '../../registry/index.js';
import { createImageResolver, type ImageResolverOptions } from '../../solver/ops/index.js';
import { startCountingProxy, type CountingProxy } from '../fixtures/counting-proxy.js';
import { seedBusybox, startRegistry, type TestRegistry } from '../fixtures/registry.js';
import { makeTempDir } from '../helpers/cli.js';

const platform = hostPlatform();
const MINUTE = 60_000;
// A generous check timeout, so a loaded machine never turns a refused connection into no answer in time.
const policy = { ttlMs: 10 * MINUTE, checkTimeoutMs: 10_000 };

describe('stored tag resolutions and their time to live', () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startRegistry();
    await seedBusybox(registry.host);
  });
  afterAll(async () => {
    await registry?.stop();
  });

  /** A store, a proxy counting what reaches the registry, and a clock the test moves. */
  async function world() {
    const tmp = await makeTempDir();
    const store = await openStore(join(tmp.path, 'root'));
    const proxy = await startCountingProxy(registry.host);
    const client = createRegistryClient({ config: EMPTY_REGISTRY_CONFIG });
    const clock = { t: 1_000_000_000 };
    const events: ProgressEvent[] = [];
    const ref = `${proxy.host}/library/busybox:latest`;
    /** One build's resolver: resolves the image the way a build does, and says what the registry was asked. */
    const build = async (o: Partial<ImageResolverOptions> = {}, alias?: string) => {
      proxy.reset();
      events.length = 0;
      await using images = createImageResolver({
        client: () => Promise.resolve(client),
        meta: store.meta,
        progress: { emit: (e) => events.push(e) },
        pull: false,
        policy,
        now: () => clock.t,
        ...o,
      });
      const resolved = await images.resolve(ref, { platform, signal: AbortSignal.timeout(30_000) });
      if (alias !== undefined) expect(await images.resolve(alias, { platform, signal: AbortSignal.timeout(30_000) })).toBe(resolved);
      // The graph pins the image by digest: resolving that waits for any check of the tag.
      await images.resolve(`${ref}@${resolved.digest}`, { platform, signal: AbortSignal.timeout(30_000) });
      return { digest: resolved.digest, moved: await images.checked(), requests: [...proxy.requests] };
    };
    const warnings = (): string[] => events.flatMap((e) => (e.type === 'warning' ? [e.message] : []));
    return {
      store,
      proxy,
      clock,
      ref,
      build,
      warnings,
      [Symbol.asyncDispose]: async () => {
        await client.close();
        await proxy.close();
        await store[Symbol.asyncDispose]();
        await tmp[Symbol.asyncDispose]();
      },
    };
  }

  const head = '/v2/library/busybox/manifests/latest';

  it('asks nothing within the time to live, then one HEAD that confirms the resolution for another period', async () => {
    await using w = await world();
    const first = await w.build();
    expect(first.requests).toContain(`GET ${head}`);
    w.clock.t += policy.ttlMs - 1;
    expect((await w.build()).requests).toEqual([]);
    w.clock.t += 1;
    const checked = await w.build();
    expect(checked).toEqual({ digest: first.digest, moved: false, requests: [`HEAD ${head}`] });
    w.clock.t += policy.ttlMs - 1;
    expect((await w.build()).requests).toEqual([]);
  });

  it('checks while the build goes ahead on the stored resolution when speculative', async () => {
    await using w = await world();
    const first = await w.build();
    w.clock.t += policy.ttlMs;
    // Two spellings of one reference share the resolution and its check.
    const alias = w.ref.replace(/:latest$/, '');
    expect(await w.build({ speculative: true }, alias)).toEqual({ digest: first.digest, moved: false, requests: [`HEAD ${head}`] });
  });

  it('resolves a record stored without the digest the tag named in full once, then checks it with a HEAD', async () => {
    await using w = await world();
    const first = await w.build();
    const key = `${w.ref}|${formatPlatform(platform)}`;
    const pin = w.store.meta.imagePins.get(key);
    expect(pin?.namedDigest).toMatch(/^sha256:/);
    if (pin === undefined) throw new Error('the first build stored no resolution');
    const { namedDigest: _dropped, ...older } = pin;
    await w.store.meta.imagePins.put(key, older);
    w.clock.t += policy.ttlMs;
    const full = await w.build();
    expect(full).toMatchObject({ digest: first.digest, moved: false });
    expect(full.requests).toContain(`GET ${head}`);
    expect(full.requests).not.toContain(`HEAD ${head}`);
    w.clock.t += policy.ttlMs;
    expect((await w.build()).requests).toEqual([`HEAD ${head}`]);
  });

  it('falls back to a GET when the registry gives no digest on HEAD', async () => {
    await using w = await world();
    await w.build();
    w.proxy.mode = { kind: 'no-digest-on-head' };
    w.clock.t += policy.ttlMs;
    expect((await w.build()).requests).toEqual([`HEAD ${head}`, `GET ${head}`]);
  });

  it('asks with a GET when the registry does not serve HEAD, and counts a rate limit as unreachable', async () => {
    await using w = await world();
    const first = await w.build();
    w.clock.t += policy.ttlMs;
    w.proxy.mode = { kind: 'status', status: 405, method: 'HEAD' };
    expect(await w.build()).toEqual({ digest: first.digest, moved: false, requests: [`HEAD ${head}`, `GET ${head}`] });
    w.clock.t += policy.ttlMs;
    w.proxy.mode = { kind: 'status', status: 429 };
    expect((await w.build()).digest).toBe(first.digest);
    expect(w.warnings()).toEqual([expect.stringMatching(/answered 429 by the test proxy; using its resolution from 10m ago/)]);
  });

  it('always checks with --pull, and no request at all for a digest', async () => {
    await using w = await world();
    const first = await w.build();
    expect((await w.build({ pull: true })).requests).toEqual([`HEAD ${head}`]);
    expect(first.digest).toMatch(/^sha256:/);
    // A build made again after a tag moved does not ask again about what its first attempt confirmed.
    expect((await w.build({ pull: true, confirmedSince: w.clock.t })).requests).toEqual([]);
  });

  it('uses the stored resolution with a warning naming the image and its age when the registry is unreachable', async () => {
    await using w = await world();
    const first = await w.build();
    w.clock.t += 2 * 60 * MINUTE + 5 * MINUTE;
    await w.proxy.close();
    const offline = await w.build();
    expect(offline.digest).toBe(first.digest);
    const name = w.ref.replace(/\./g, '\\.');
    expect(w.warnings()).toEqual([expect.stringMatching(new RegExp(`"${name}": cannot reach registry .*; using its resolution from 2h5m ago \\(${first.digest}\\)`))]);
    await expect(w.build({ pull: true })).rejects.toThrow(/cannot reach registry/);
  });

  it('treats a server error or no answer in time as unreachable', async () => {
    await using w = await world();
    await w.build();
    w.clock.t += policy.ttlMs;
    w.proxy.mode = { kind: 'status', status: 503 };
    await w.build();
    expect(w.warnings()).toEqual([expect.stringMatching(/answered 503 by the test proxy; using its resolution from 10m ago/)]);
    w.proxy.mode = { kind: 'hang' };
    w.clock.t += MINUTE;
    const started = Date.now();
    const hung = await w.build({ policy: { ...policy, checkTimeoutMs: 400 } });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(hung.requests).toEqual([`HEAD ${head}`]);
    expect(w.warnings()).toEqual([expect.stringMatching(/no answer within 400ms; using its resolution from 11m ago/)]);
  });

  it('does not ask again for a minute after the registry could not be reached, unless with --pull', async () => {
    await using w = await world();
    await w.build();
    w.clock.t += policy.ttlMs;
    w.proxy.mode = { kind: 'status', status: 503 };
    expect((await w.build()).requests.length).toBeGreaterThan(0);
    w.clock.t += MINUTE - 1;
    expect((await w.build()).requests).toEqual([]);
    expect(w.warnings()).toEqual([expect.stringMatching(/its registry could not be reached 59s ago; using its resolution from 10m59s ago/)]);
    await expect(w.build({ pull: true })).rejects.toThrow(/answered 503/);
    w.clock.t += 1;
    w.proxy.mode = { kind: 'forward' };
    expect((await w.build()).requests).toEqual([`HEAD ${head}`]);
    // Reached again: the record is confirmed and no longer says unreachable.
    const pin = w.store.meta.imagePins.get(`${w.ref}|${formatPlatform(platform)}`);
    expect(pin?.resolvedAt).toBe(w.clock.t);
    expect(pin?.unreachableAt).toBeUndefined();
  });

  it('fails when the tag is gone or the registry refuses access, instead of building on the stored image', async () => {
    await using w = await world();
    await w.build();
    w.clock.t += policy.ttlMs;
    w.proxy.mode = { kind: 'status', status: 404 };
    const gone = await w.build().catch((err: unknown) => err);
    expect(gone).toBeInstanceOf(RegistryError);
    expect(gone).toMatchObject({ code: 'REGISTRY_NOT_FOUND', message: expect.stringContaining(parseReference(w.ref).repository) });
    w.proxy.mode = { kind: 'status', status: 401 };
    await expect(w.build({ speculative: true })).rejects.toMatchObject({ code: 'REGISTRY_AUTH' });
    expect(w.warnings()).toEqual([]);
  });
});
