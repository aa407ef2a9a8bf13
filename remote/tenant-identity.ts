import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { Metadata } from '@grpc/grpc-js';
import { ConfigError, errnoCode } from '../base/errors.js';
import type { Logger } from '../base/log.js';
import type { TenantSettings } from './tenant-settings.js';
import { DEFAULT_TENANT, parseTokensFile, type TokenEntry } from './tokens-file.js';

/** CertificateNames are the parts of a client certificate (node:tls CertificateNames) that name its holder. */
export interface CertificateNames {
  readonly subject?: { readonly CN?: string | readonly string[] };
  readonly subjectaltname?: string;
}

/** Identified is who a call comes from: a tenant, and what told it. */
export interface Identified {
  readonly ok: true;
  readonly tenant: string;
  readonly via: 'token' | 'certificate' | 'none';
}

/** Refused says why a call is not let in: no valid token (unauthenticated), or a token and a certificate that disagree. */
export interface Refused {
  readonly ok: false;
  readonly reason: 'invalid token' | 'conflicting identities';
}

/** TenantIdentityOptions are where identities come from: `--token`, the tokens file and the `[tenants.*]` tables. */
export interface TenantIdentityOptions {
  /** The single token of `--token`/`--token-file`: it identifies the default tenant. */
  readonly token?: string;
  readonly settings: TenantSettings;
  readonly logger: Logger;
}

interface HashedToken {
  readonly tenant: string;
  readonly digest: Buffer;
}

function sha(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

const hashed = (entries: readonly TokenEntry[]): HashedToken[] => entries.map((e) => ({ tenant: e.tenant, digest: sha(e.token) }));

/**
 * TenantIdentities tells which tenant a call comes from: its bearer token (the tokens file, read again when it changes,
 * `[tenants.NAME] tokens`, or `--token` for the default tenant), else its client certificate's names
 * (`[tenants.NAME] cert-names`), else the default tenant when the server asks for no token.
 */
export class TenantIdentities {
  readonly #fixed: readonly HashedToken[];
  readonly #certs = new Map<string, string>();
  readonly #file: string | undefined;
  readonly #logger: Logger;
  #fromFile: HashedToken[] = [];
  #version = '';
  #reading: Promise<void> | undefined;

  constructor(o: TenantIdentityOptions) {
    const fixed: TokenEntry[] = [...o.settings.tenants.values()].flatMap((t) => t.tokens.map((token) => ({ tenant: t.name, token })));
    if (o.token !== undefined) fixed.push({ tenant: DEFAULT_TENANT, token: o.token });
    this.#fixed = hashed(fixed);
    for (const t of o.settings.tenants.values()) for (const n of t.certNames) this.#certs.set(n, t.name);
    this.#file = o.settings.tokensFile;
    this.#logger = o.logger;
  }

  /** requiresToken tells whether calls need a token (or a certificate naming a tenant): a token or a tokens file is set. */
  get requiresToken(): boolean {
    // A tokens file with no line (yet) still closes the door: an emptied file never opens the builder to everyone.
    return this.#fixed.length > 0 || this.#file !== undefined;
  }

  /** identify tells who a call comes from, by its metadata and the client certificate of its connection. */
  async identify(metadata: Metadata, certificate: CertificateNames | undefined): Promise<Identified | Refused> {
    const byCert = certificate === undefined ? undefined : this.tenantOfCertificate(certificate);
    const value = metadata.get('authorization')[0];
    if (typeof value === 'string' && value.startsWith('Bearer ') && this.requiresToken) {
      const tenant = await this.tenantOfToken(value.slice('Bearer '.length));
      if (tenant === undefined) return { ok: false, reason: 'invalid token' };
      if (byCert !== undefined && byCert !== tenant) return { ok: false, reason: 'conflicting identities' };
      return { ok: true, tenant, via: 'token' };
    }
    if (byCert !== undefined) return { ok: true, tenant: byCert, via: 'certificate' };
    if (this.requiresToken) return { ok: false, reason: 'invalid token' };
    return { ok: true, tenant: DEFAULT_TENANT, via: 'none' };
  }

  /** tenantOfCertificate maps a client certificate's subject CN, or one of its DNS, email or URI names, to a tenant. */
  tenantOfCertificate(certificate: CertificateNames): string | undefined {
    for (const name of certificateNames(certificate)) {
      const tenant = this.#certs.get(name);
      if (tenant !== undefined) return tenant;
    }
    return undefined;
  }

  /** tenantOfToken finds the tenant of a token, comparing it with every known token in constant time. */
  async tenantOfToken(token: string): Promise<string | undefined> {
    await this.#refresh();
    const digest = sha(token);
    let found: string | undefined;
    // Every token is compared, whichever matches: the time taken tells nothing of which tenant, or how far it matched.
    for (const t of [...this.#fixed, ...this.#fromFile]) if (timingSafeEqual(t.digest, digest) && found === undefined) found = t.tenant;
    return found;
  }

  /** #refresh reads the tokens file again when it changed since it was last read (a stat per call). */
  async #refresh(): Promise<void> {
    const file = this.#file;
    if (file === undefined) return;
    await this.#reading;
    let version: string;
    try {
      const s = await stat(file, { bigint: true });
      version = `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
      version = 'missing';
    }
    if (version === this.#version) return;
    this.#reading ??= this.#read(file, version).finally(() => (this.#reading = undefined));
    await this.#reading;
  }

  async #read(file: string, version: string): Promise<void> {
    if (version === 'missing') {
      this.#logger.warn('tokens file is missing: its tokens no longer let anyone in', { file });
      this.#fromFile = [];
      this.#version = version;
      return;
    }
    try {
      const entries = this.#checked(parseTokensFile(await readFile(file, 'utf8'), file), file);
      this.#fromFile = hashed(entries);
      this.#version = version;
      this.#logger.info('tokens file read', { file, tokens: entries.length, tenants: new Set(entries.map((e) => e.tenant)).size });
    } catch (err) {
      // A file being rewritten may be read half-written: the tokens read before stay until it reads whole.
      this.#logger.error('Cannot use the tokens file: keeping the tokens read before', { file, error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** #checked refuses a tokens file that gives another tenant a token the settings file gives one. */
  #checked(entries: readonly TokenEntry[], file: string): TokenEntry[] {
    for (const e of entries) {
      const digest = sha(e.token);
      const other = this.#fixed.find((t) => t.tenant !== e.tenant && timingSafeEqual(t.digest, digest));
      if (other !== undefined) throw new ConfigError(`Cannot read tokens file "${file}": the token of tenant "${e.tenant}" is also a token of tenant "${other.tenant}" in the settings`);
    }
    return [...entries];
  }

  /** load reads the tokens file at start: a file that cannot be read or parsed there fails the server's start. */
  async load(): Promise<void> {
    const file = this.#file;
    if (file === undefined) return;
    const s = await stat(file, { bigint: true });
    const entries = this.#checked(parseTokensFile(await readFile(file, 'utf8'), file), file);
    this.#fromFile = hashed(entries);
    this.#version = `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  }
}

/** certificateNames lists a certificate's subject CN and its DNS, email and URI subject alternative names. */
export function certificateNames(certificate: CertificateNames): string[] {
  const names: string[] = [];
  // Node gives a field that occurs several times (two CNs) as an array.
  const cn = certificate.subject?.CN;
  if (typeof cn === 'string') names.push(cn);
  else if (cn !== undefined) names.push(...cn);
  for (const part of (certificate.subjectaltname ?? '').split(/,\s*/)) {
    const m = /^(DNS|email|URI):(.+)$/.exec(part);
    if (m?.[2] !== undefined) names.push(m[2]);
  }
  return names;
}
