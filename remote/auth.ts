import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { ChannelCredentials, Metadata, ServerCredentials } from '@grpc/grpc-js';
import { UsageError } from '../base/errors.js';
import type { BuilderAddress } from './address.js';
import type { Logger } from '../base/log.js';
import { checkIdentityOf } from './tls-probe.js';

/** TlsFiles are the PEM files given with --tlscacert, --tlscert and --tlskey. */
export interface TlsFiles {
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
}

async function readPem(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new UsageError(`Cannot read the ${what} "${path}"`, { cause: err });
  }
}

/**
 * serverCredentials picks how one listener accepts connections. Unix sockets are plain (their file mode guards
 * them). TCP needs TLS: with --tlscacert only clients holding a certificate from that CA get in. Plain TCP, or TLS
 * that nothing authenticates (no CA, no token), is refused unless `insecure`, and then logged as a warning.
 */
export async function serverCredentials(
  address: BuilderAddress,
  options: { tls: TlsFiles; hasToken: boolean; insecure: boolean; logger: Logger },
): Promise<ServerCredentials> {
  if (address.kind === 'unix') return ServerCredentials.createInsecure();
  const { tls } = options;
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw new UsageError('Cannot serve TLS: pass both --tlscert and --tlskey');
  if (tls.cert === undefined || tls.key === undefined) {
    if (!options.insecure) {
      throw new UsageError(`Cannot listen on ${address.text} without TLS`, { hint: 'pass --tlscacert/--tlscert/--tlskey, or --insecure to accept plain TCP' });
    }
    options.logger.warn('listening on plain TCP without TLS: traffic and tokens are readable on the network', { addr: address.text });
    return ServerCredentials.createInsecure();
  }
  if (tls.ca === undefined && !options.hasToken) {
    if (!options.insecure) {
      throw new UsageError(`Cannot listen on ${address.text}: nothing authenticates clients`, { hint: 'pass --tlscacert for mutual TLS or --token, or --insecure' });
    }
    options.logger.warn('TLS without client authentication: anyone who reaches the address can build', { addr: address.text });
  }
  const ca = tls.ca === undefined ? null : await readPem(tls.ca, 'CA certificate');
  const pair = { cert_chain: await readPem(tls.cert, 'server certificate'), private_key: await readPem(tls.key, 'server key') };
  return ServerCredentials.createSsl(ca, [pair], ca !== null);
}

/** TlsMaterial is the PEM content a client connects with (null where not given). */
export interface TlsMaterial {
  readonly ca: Buffer | null;
  readonly cert: Buffer | null;
  readonly key: Buffer | null;
}

/** readTlsMaterial reads the client's PEM files; undefined means the client does not use TLS. */
export async function readTlsMaterial(tls: TlsFiles): Promise<TlsMaterial | undefined> {
  if (tls.ca === undefined && tls.cert === undefined && tls.key === undefined) return undefined;
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw new UsageError('Cannot connect with TLS: pass both --tlscert and --tlskey');
  return {
    ca: tls.ca === undefined ? null : await readPem(tls.ca, 'CA certificate'),
    key: tls.key === undefined ? null : await readPem(tls.key, 'client key'),
    cert: tls.cert === undefined ? null : await readPem(tls.cert, 'client certificate'),
  };
}

/** channelCredentials picks how the client connects: plain for unix sockets, TLS (with a client certificate when given) for TCP. */
export function channelCredentials(address: BuilderAddress, tls: TlsMaterial | undefined, serverName?: string): { credentials: ChannelCredentials; options: Record<string, string> } {
  if (address.kind === 'unix' || tls === undefined) return { credentials: ChannelCredentials.createInsecure(), options: {} };
  // An address a DNS name resolved to (dns+tcp://) is checked against that name, as a connection by name would be.
  const host = serverName ?? address.host.replace(/^\[|\]$/g, '');
  const credentials = ChannelCredentials.createSsl(tls.ca, tls.key, tls.cert, { checkServerIdentity: checkIdentityOf(host) });
  // Node warns when the TLS server name (SNI) is an IP address (RFC 6066): send a plain name instead; the
  // certificate is still checked against the real address above.
  const sni = isIP(host) === 0 ? serverName : 'tbuild-builder';
  return { credentials, options: sni === undefined ? {} : { 'grpc.ssl_target_name_override': sni } };
}

/** tokenMetadata is the metadata a client sends with every call. */
export function tokenMetadata(token: string | undefined): Metadata {
  const m = new Metadata();
  if (token !== undefined && token !== '') m.set('authorization', `Bearer ${token}`);
  return m;
}
