import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryError } from '../../../base/errors.js';
import type { ProgressEvent } from '../../../base/progress.js';
import { dockerCredentials, type CredentialStore, type Credentials } from '../../../controller/index.js';
import { ClientCredentials } from '../../../remote/client-credentials.js';
import { BUILD_CLIENT_MESSAGE, BUILD_SERVER_MESSAGE, BUILD_START, type ServerMessage } from '../../../remote/messages.js';
import { credentialsMsg, credentialsOf, StreamCredentialStore } from '../../../remote/stream-credentials.js';
import { parseTenantSettings } from '../../../remote/tenant-settings.js';
import { decodeMessage, encodeMessage } from '../../../remote/wire-codec.js';

const BASIC: Credentials = { kind: 'basic', username: 'ci', password: 'pa:ss' };
const TOKEN: Credentials = { kind: 'identity-token', username: '<token>', token: 'refresh-123' };

/** A server store whose requests are recorded; `answer` plays the client. */
function server(o: { offered?: boolean; fallback?: CredentialStore } = {}): { store: StreamCredentialStore; asked: string[] } {
  const asked: string[] = [];
  const send = (m: ServerMessage): Promise<void> => {
    if (m.kind === 'credentialsRequest') asked.push(m.credentialsRequest.host);
    return Promise.resolve();
  };
  return { store: new StreamCredentialStore({ offered: o.offered ?? true, send, ...(o.fallback === undefined ? {} : { fallback: o.fallback }) }), asked };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function fixed(byHost: Record<string, Credentials>): CredentialStore & { asked: string[] } {
  const asked: string[] = [];
  return { asked, credentialsFor: (host) => (asked.push(host), Promise.resolve(byHost[host])) };
}

describe('registry credentials on the Build call: the messages', () => {
  it('carry a user and password, an identity token, or none, through the codec and back', () => {
    for (const creds of [BASIC, TOKEN, undefined]) {
      const msg = credentialsMsg('reg.example:5000', creds);
      const bytes = encodeMessage(BUILD_CLIENT_MESSAGE, { kind: 'credentials', credentials: msg });
      const back = decodeMessage(BUILD_CLIENT_MESSAGE, bytes);
      if (back.kind !== 'credentials') throw new Error(`decoded ${back.kind}`);
      expect(back.credentials).toEqual(msg);
      expect(credentialsOf(back.credentials)).toEqual(creds);
    }
    // An identity token travels alone: no password field.
    expect(credentialsMsg('h', TOKEN)).toEqual({ host: 'h', found: true, username: '<token>', password: '', identityToken: 'refresh-123', error: '' });
    const request = encodeMessage(BUILD_SERVER_MESSAGE, { kind: 'credentialsRequest', credentialsRequest: { host: 'docker.io' } });
    expect(request.toString('hex')).toBe(`5a0b0a09${Buffer.from('docker.io').toString('hex')}`);
  });

  it('say in BuildStart whether the client answers; an older client that does not say reads as one that does not', () => {
    const start = decodeMessage(BUILD_START, Buffer.alloc(0));
    expect(start.credentials).toBe(false);
    const offered = encodeMessage(BUILD_START, { ...start, credentials: true });
    // Field 34, varint: tag (34 << 3) = 0x110 → 90 02.
    expect(offered.toString('hex')).toBe('900201');
    expect(decodeMessage(BUILD_START, offered).credentials).toBe(true);
  });
});

describe('registry credentials on the Build call: the server asks once per build and host', () => {
  it('shares one request among concurrent lookups and answers later ones from memory', async () => {
    const { store, asked } = server();
    const a = store.credentialsFor('reg:5000');
    const b = store.credentialsFor('reg:5000');
    await tick();
    expect(asked).toEqual(['reg:5000']);
    store.answer(credentialsMsg('reg:5000', BASIC));
    expect(await a).toEqual(BASIC);
    expect(await b).toEqual(BASIC);
    expect(await store.credentialsFor('reg:5000')).toEqual(BASIC);
    const other = store.credentialsFor('other:5000');
    await tick();
    store.answer(credentialsMsg('other:5000', undefined));
    expect(await other).toBeUndefined();
    expect(await store.credentialsFor('other:5000')).toBeUndefined();
    expect(asked).toEqual(['reg:5000', 'other:5000']);
  });

  it('uses the server’s own credentials only for a host the client has none for, and only when given them', async () => {
    const own = fixed({ 'reg:5000': { kind: 'basic', username: 'server', password: 'server-pw' }, 'mine:5000': BASIC });
    const { store, asked } = server({ fallback: own });
    const mine = store.credentialsFor('mine:5000');
    const theirs = store.credentialsFor('reg:5000');
    await tick();
    store.answer(credentialsMsg('mine:5000', TOKEN));
    store.answer(credentialsMsg('reg:5000', undefined));
    expect(await mine).toEqual(TOKEN);
    expect(await theirs).toEqual({ kind: 'basic', username: 'server', password: 'server-pw' });
    expect(asked).toEqual(['mine:5000', 'reg:5000']);
    expect(own.asked).toEqual(['reg:5000']);
    const { store: strict } = server();
    const none = strict.credentialsFor('reg:5000');
    await tick();
    strict.answer(credentialsMsg('reg:5000', undefined));
    expect(await none).toBeUndefined();
  });

  it('never asks a client that does not answer: the server’s own credentials when allowed, else none', async () => {
    const own = fixed({ 'reg:5000': BASIC });
    const lent = server({ offered: false, fallback: own });
    expect(await lent.store.credentialsFor('reg:5000')).toEqual(BASIC);
    const bare = server({ offered: false });
    expect(await bare.store.credentialsFor('reg:5000')).toBeUndefined();
    expect([...lent.asked, ...bare.asked]).toEqual([]);
  });

  it('fails a lookup the client could not answer with its reason, and keeps that answer for the build', async () => {
    const { store, asked } = server();
    const failing = store.credentialsFor('reg:5000');
    await tick();
    store.answer({ ...credentialsMsg('reg:5000', undefined), error: 'Cannot run credential helper "docker-credential-gone": not found on PATH' });
    await expect(failing).rejects.toThrow(RegistryError);
    await expect(store.credentialsFor('reg:5000')).rejects.toThrow(`Cannot read the client's credentials for "reg:5000": Cannot run credential helper "docker-credential-gone"`);
    expect(asked).toEqual(['reg:5000']);
  });

  it('stops a caller whose signal aborts without dropping the request of the others', async () => {
    const { store } = server();
    const abort = new AbortController();
    const gone = store.credentialsFor('reg:5000', { signal: abort.signal });
    const stays = store.credentialsFor('reg:5000');
    await tick();
    abort.abort(new Error('build cancelled'));
    await expect(gone).rejects.toThrow('build cancelled');
    store.answer(credentialsMsg('reg:5000', BASIC));
    expect(await stays).toEqual(BASIC);
  });

  it('fails the lookups waiting and those to come once the client stops answering; answers kept still serve', async () => {
    const { store } = server();
    const known = store.credentialsFor('known:1');
    await tick();
    store.answer(credentialsMsg('known:1', BASIC));
    await known;
    const waiting = store.credentialsFor('reg:5000');
    await tick();
    store.fail(new Error('the client stopped answering'));
    await expect(waiting).rejects.toThrow('the client stopped answering');
    await expect(store.credentialsFor('new:1')).rejects.toThrow('the client stopped answering');
    expect(await store.credentialsFor('known:1')).toEqual(BASIC);
  });
});

describe('registry credentials on the Build call: the client answers from its Docker config', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tbuild-client-creds-'));
    const auth = Buffer.from('ci:pa:ss').toString('base64');
    await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { 'reg.example:5000': { auth }, 'https://index.docker.io/v1/': { identitytoken: 'refresh-123', auth: Buffer.from('<token>:').toString('base64') } }, credHelpers: { 'helper.example': 'tbuild-test-absent' } }));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('answers each host as a local build would read it, and reports sharing once per host', async () => {
    const events: ProgressEvent[] = [];
    const client = new ClientCredentials(dockerCredentials(dir), { emit: (e) => events.push(e) });
    const signal = new AbortController().signal;
    expect(credentialsOf(await client.answer('reg.example:5000', signal))).toEqual(BASIC);
    expect(credentialsOf(await client.answer('reg.example:5000', signal))).toEqual(BASIC);
    expect(credentialsOf(await client.answer('docker.io', signal))).toEqual(TOKEN);
    expect(await client.answer('nobody.example', signal)).toEqual(credentialsMsg('nobody.example', undefined));
    const failed = await client.answer('helper.example', signal);
    expect(failed.found).toBe(false);
    expect(failed.error).toContain('docker-credential-tbuild-test-absent');
    const shared = events.filter((e) => e.type === 'vertex.started').map((e) => ('name' in e ? e.name : ''));
    expect(shared).toEqual(['[auth] sharing credentials for reg.example:5000', '[auth] sharing credentials for docker.io']);
  });

  it('answers none for every host when it has no Docker config', async () => {
    const client = new ClientCredentials(undefined, { emit: () => undefined });
    expect(await client.answer('reg.example:5000', new AbortController().signal)).toEqual(credentialsMsg('reg.example:5000', undefined));
  });
});

describe('registry credentials on the Build call: the server lends its own only when its settings say so', () => {
  const file = '/etc/tbuild/tbuild.toml';
  it('reads [serve] server-credentials: false unless set, true or false only', () => {
    expect(parseTenantSettings({}, file).serverCredentials).toBe(false);
    expect(parseTenantSettings({ serve: { 'server-credentials': true } }, file).serverCredentials).toBe(true);
    expect(parseTenantSettings({ serve: { 'server-credentials': false, 'share-cache': true } }, file)).toMatchObject({ serverCredentials: false, shareCache: true });
    expect(() => parseTenantSettings({ serve: { 'server-credentials': 'yes' } }, file)).toThrow(`Cannot load config "${file}": [serve] server-credentials must be true or false`);
    expect(() => parseTenantSettings({ serve: { server_credentials: true } }, file)).toThrow(/\[serve\] server_credentials is not a setting \(tokens-file, share-cache, server-credentials\)/);
  });
});
