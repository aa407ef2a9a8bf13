import { isIP } from 'node:net';
import { checkServerIdentity, connect, type PeerCertificate } from 'node:tls';
import type { BuilderAddress } from './address.js';

const PROBE_MS = 3000;

/** TlsPeer is what a TLS probe needs: the address and the PEM material the client uses. */
export interface TlsPeer {
  readonly address: Extract<BuilderAddress, { kind: 'tcp' }>;
  readonly ca: Buffer | null;
  readonly cert: Buffer | null;
  readonly key: Buffer | null;
}

/** checkIdentityOf checks a server certificate against the real host (also when the SNI name was replaced). */
export function checkIdentityOf(host: string): (name: string, cert: PeerCertificate) => Error | undefined {
  return (_name, cert) => checkServerIdentity(host.replace(/^\[|\]$/g, ''), cert);
}

/**
 * probeTls opens one plain TLS connection like the gRPC channel would and returns why the handshake failed, if it
 * did. gRPC reports only "failed to connect"; a TLS 1.3 server rejects a client certificate after the handshake, so
 * the probe also waits briefly for the server's alert.
 */
export function probeTls(peer: TlsPeer, options: { signal?: AbortSignal } = {}): Promise<string | undefined> {
  const host = peer.address.host.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const socket = connect({
      host,
      port: peer.address.port,
      ...(isIP(host) === 0 ? { servername: host } : {}),
      ...(peer.ca === null ? {} : { ca: peer.ca }),
      ...(peer.cert === null ? {} : { cert: peer.cert }),
      ...(peer.key === null ? {} : { key: peer.key }),
      ALPNProtocols: ['h2'],
      checkServerIdentity: checkIdentityOf(host),
    });
    let settled = false;
    const finish = (reason: string | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(reason);
    };
    const timer = setTimeout(() => finish(undefined), PROBE_MS);
    // Failures before the TCP connection stands (refused, unreachable) are not about certificates.
    let connected = false;
    socket.once('connect', () => (connected = true));
    socket.once('error', (err) => finish(connected ? err.message : undefined));
    socket.once('close', () => finish(connected ? 'the server closed the connection during the TLS handshake' : undefined));
    socket.once('secureConnect', () => {
      // Give a TLS 1.3 server the moment it needs to reject our certificate.
      socket.setTimeout(500, () => finish(undefined));
    });
    options.signal?.addEventListener('abort', () => finish(undefined), { once: true });
  });
}
