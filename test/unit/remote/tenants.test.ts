import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { ConfigError, LimitError } from '../../../base/errors.js';
import type { Logger } from '../../../base/log.js';
import { makeTempDir } from '../../helpers/cli.js';
import type { ProgressEvent } from '../../../base/progress.js';
import { admitReporting, TenantGate } from '../../../remote/tenant-gate.js';
import { certificateNames, TenantIdentities, type CertificateNames } from '../../../remote/tenant-identity.js';
import { NO_TENANT_SETTINGS, parseTenantSettings, type TenantSettings } from '../../../remote/tenant-settings.js';
import { parseTokensFile } from '../../../remote/tokens-file.js';

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

function bearer(token?: string): Metadata {
  const m = new Metadata();
  if (token !== undefined) m.set('authorization', `Bearer ${token}`);
  return m;
}

function cert(cn: string, san = ''): CertificateNames {
  // Only the names are read: the connection's TLS checked the certificate itself.
  return { subject: { CN: cn }, subjectaltname: san };
}

const settingsOf = (toml: string): TenantSettings => parseTenantSettings(parse(toml), '/etc/tbuild/tbuild.toml');

describe('tokens file', () => {
  it('reads NAME TOKEN lines, skipping blank lines and comments, a tenant with several tokens', () => {
    const text = '# CI and people\nci  tok-ci-1\n\n  alice\ttok-alice\nci tok-ci-2\n';
    expect(parseTokensFile(text, 'tokens')).toEqual([
      { tenant: 'ci', token: 'tok-ci-1' },
      { tenant: 'alice', token: 'tok-alice' },
      { tenant: 'ci', token: 'tok-ci-2' },
    ]);
  });

  it('names the line of a malformed entry, and never prints a token', () => {
    expect(() => parseTokensFile('ci tok\nbob\n', 'tokens')).toThrow('Cannot read tokens file "tokens" at line 2: expected NAME TOKEN, found 1 field');
    expect(() => parseTokensFile('ci a b\n', 'tokens')).toThrow('found 3 fields');
    expect(() => parseTokensFile('../x tok\n', 'tokens')).toThrow(ConfigError);
    let message = '';
    try {
      parseTokensFile('ci same-secret\nbob same-secret\n', 'tokens');
    } catch (err) {
      message = err instanceof Error ? err.message : String(err);
    }
    expect(message).toBe('Cannot read tokens file "tokens" at line 2: the token of tenant "bob" is also the token of tenant "ci"');
  });
});

describe('tenant settings', () => {
  it('reads [serve] and [tenants.NAME], the tokens file relative to the settings file', () => {
    const s = settingsOf('[serve]\ntokens-file = "tokens"\nshare-cache = true\n[tenants.ci]\nmax-builds = 2\nmax-queued = 8\ncert-names = ["ci.example"]\n[tenants.alice]\ntokens = ["t-a"]\n');
    expect(s.tokensFile).toBe('/etc/tbuild/tokens');
    expect(s.shareCache).toBe(true);
    expect(s.tenants.get('ci')).toEqual({ name: 'ci', tokens: [], certNames: ['ci.example'], maxBuilds: 2, maxQueued: 8 });
    expect(s.tenants.get('alice')).toEqual({ name: 'alice', tokens: ['t-a'], certNames: [] });
    expect(settingsOf('[registry."docker.io"]\nmirrors = ["m"]\n')).toEqual(NO_TENANT_SETTINGS);
  });

  it('refuses unknown keys, bad limits, and a token or certificate name of two tenants', () => {
    expect(() => settingsOf('[tenants.ci]\nmax_builds = 2\n')).toThrow('[tenants.ci] max_builds is not a setting (tokens, cert-names, max-builds, max-queued)');
    expect(() => settingsOf('[tenants.ci]\nmax-builds = 0\n')).toThrow('[tenants.ci] max-builds must be a whole number ≥ 1');
    expect(() => settingsOf('[serve]\nshare-cache = "yes"\n')).toThrow('[serve] share-cache must be true or false');
    expect(() => settingsOf('[tenants.a]\ntokens = ["x"]\n[tenants.b]\ntokens = ["x"]\n')).toThrow('a token of tenant "b" is also a token of tenant "a"');
    expect(() => settingsOf('[tenants.a]\ncert-names = ["n"]\n[tenants.b]\ncert-names = ["n"]\n')).toThrow('"n" also names tenant "a"');
  });
});

describe('tenant identities', () => {
  it('lets every call in as the default tenant when no token is set', async () => {
    const ids = new TenantIdentities({ settings: NO_TENANT_SETTINGS, logger: quiet });
    expect(ids.requiresToken).toBe(false);
    expect(await ids.identify(bearer(), undefined)).toEqual({ ok: true, tenant: 'default', via: 'none' });
    expect(await ids.identify(bearer('anything'), undefined)).toEqual({ ok: true, tenant: 'default', via: 'none' });
  });

  it('keeps --token as the default tenant, and refuses calls without it', async () => {
    const ids = new TenantIdentities({ token: 's3cret', settings: NO_TENANT_SETTINGS, logger: quiet });
    expect(await ids.identify(bearer('s3cret'), undefined)).toEqual({ ok: true, tenant: 'default', via: 'token' });
    expect(await ids.identify(bearer('s3cre'), undefined)).toEqual({ ok: false, reason: 'invalid token' });
    expect(await ids.identify(bearer(), undefined)).toEqual({ ok: false, reason: 'invalid token' });
  });

  it('maps named tokens and certificate names to tenants; a token and a certificate of two tenants are refused', async () => {
    const settings = settingsOf('[tenants.ci]\ntokens = ["t-ci"]\ncert-names = ["ci.example"]\n[tenants.alice]\ncert-names = ["alice@example.com"]\n');
    const ids = new TenantIdentities({ settings, logger: quiet });
    expect(await ids.identify(bearer('t-ci'), undefined)).toMatchObject({ ok: true, tenant: 'ci', via: 'token' });
    expect(await ids.identify(bearer(), cert('ci.example'))).toMatchObject({ ok: true, tenant: 'ci', via: 'certificate' });
    expect(await ids.identify(bearer(), cert('laptop', 'DNS:laptop.lan, email:alice@example.com'))).toMatchObject({ ok: true, tenant: 'alice' });
    expect(await ids.identify(bearer(), cert('nobody'))).toEqual({ ok: false, reason: 'invalid token' });
    expect(await ids.identify(bearer('t-ci'), cert('x', 'email:alice@example.com'))).toEqual({ ok: false, reason: 'conflicting identities' });
  });

  it('reads the certificate CN and its DNS, email and URI names, not its IP addresses', () => {
    expect(certificateNames(cert('ci', 'DNS:ci.example, IP Address:10.0.0.1, URI:spiffe://corp/ci, email:ci@corp'))).toEqual(['ci', 'ci.example', 'spiffe://corp/ci', 'ci@corp']);
  });

  it('reads the tokens file again when it changes: a removed token stops working, a new one works', async () => {
    await using tmp = await makeTempDir('tbuild-tenants-');
    const file = join(tmp.path, 'tokens');
    await writeFile(file, 'ci old-token\nalice a-token\n');
    const ids = new TenantIdentities({ settings: { ...NO_TENANT_SETTINGS, tokensFile: file }, logger: quiet });
    await ids.load();
    expect(await ids.tenantOfToken('old-token')).toBe('ci');
    // Rewritten the way editors and config tools do: a new file renamed over the old one.
    await writeFile(`${file}.new`, 'ci new-token\nalice a-token\n');
    await rename(`${file}.new`, file);
    expect(await ids.tenantOfToken('old-token')).toBeUndefined();
    expect(await ids.tenantOfToken('new-token')).toBe('ci');
    expect(await ids.tenantOfToken('a-token')).toBe('alice');
    // A file that does not parse keeps the tokens read before; an emptied file still asks for tokens.
    await writeFile(file, 'ci\n');
    expect(await ids.tenantOfToken('new-token')).toBe('ci');
    await writeFile(file, '');
    expect(await ids.tenantOfToken('new-token')).toBeUndefined();
    expect(ids.requiresToken).toBe(true);
    expect(await ids.identify(bearer(), undefined)).toEqual({ ok: false, reason: 'invalid token' });
  });

  it('refuses a tokens file that gives one tenant the token of another in the settings', async () => {
    await using tmp = await makeTempDir('tbuild-tenants-');
    const file = join(tmp.path, 'tokens');
    await writeFile(file, 'alice t-ci\n');
    const ids = new TenantIdentities({ settings: { ...settingsOf('[tenants.ci]\ntokens = ["t-ci"]\n'), tokensFile: file }, logger: quiet });
    await expect(ids.load()).rejects.toThrow(`Cannot read tokens file "${file}": the token of tenant "alice" is also a token of tenant "ci" in the settings`);
  });
});

describe('tenant gate', () => {
  it('admits max-builds at once, queues max-queued in order, and refuses one more at once naming the limits', async () => {
    const gate = new TenantGate((t) => (t === 'ci' ? { maxBuilds: 2, maxQueued: 1 } : {}));
    const signal = new AbortController().signal;
    const first = await gate.admit('ci', signal);
    await gate.admit('ci', signal);
    let thirdIn = false;
    const third = gate.admit('ci', signal).then((release) => {
      thirdIn = true;
      return release;
    });
    expect(gate.load('ci')).toEqual({ running: 2, queued: 1 });
    const fourth = gate.admit('ci', signal);
    await expect(fourth).rejects.toThrow(LimitError);
    await expect(fourth).rejects.toThrow('Cannot queue the build: tenant "ci" has 2 builds running (max-builds = 2) and 1 waiting (max-queued = 1)');
    // Another tenant is not held back by ci's limits.
    await gate.admit('alice', signal);
    expect(thirdIn).toBe(false);
    first();
    first();
    (await third)();
    expect(thirdIn).toBe(true);
    expect(gate.load('ci')).toEqual({ running: 1, queued: 0 });
  });

  it('drops a waiting build whose caller went away', async () => {
    const gate = new TenantGate(() => ({ maxBuilds: 1 }));
    const release = await gate.admit('ci', new AbortController().signal);
    const waiting = new AbortController();
    const queued = gate.admit('ci', waiting.signal);
    waiting.abort(new Error('client went away'));
    await expect(queued).rejects.toThrow('client went away');
    expect(gate.load('ci')).toEqual({ running: 1, queued: 0 });
    release();
    expect(gate.load('ci')).toEqual({ running: 0, queued: 0 });
  });

  it('reports a wait for a slot as a progress vertex, done once the build is admitted, and nothing when none was needed', async () => {
    const gate = new TenantGate(() => ({ maxBuilds: 1 }));
    const events: ProgressEvent[] = [];
    const o = { signal: new AbortController().signal, progress: { emit: (e: ProgressEvent) => void events.push(e) } };
    const first = await admitReporting(gate, 'ci', o);
    expect(events).toEqual([]);
    const second = admitReporting(gate, 'ci', o);
    expect(events.map((e) => e.type)).toEqual(['vertex.started', 'vertex.log']);
    expect(events[0]).toMatchObject({ name: '[internal] wait for a build slot of tenant "ci"' });
    expect(events[1]).toMatchObject({ data: '1 builds of the tenant running, 0 waiting before this one\n' });
    first();
    (await second)();
    expect(events.map((e) => e.type)).toEqual(['vertex.started', 'vertex.log', 'vertex.completed']);
    expect(events[2]).not.toHaveProperty('error');
  });
});
