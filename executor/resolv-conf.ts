import { BlockList, isIP } from 'node:net';
import { readTextIfExists } from '../base/fs.js';
import type { NetworkMode } from './types.js';

/** DEFAULT_NAMESERVERS replace a host's list that has none left for a private network (BuildKit's defaults). */
export const DEFAULT_NAMESERVERS: readonly string[] = ['8.8.8.8', '8.8.4.4', '2001:4860:4860::8888', '2001:4860:4860::8844'];

const HOST_RESOLV = '/etc/resolv.conf';
/** The file systemd-resolved keeps with the upstream servers, used when the host's names only its stub. */
const RESOLVED_UPSTREAM = '/run/systemd/resolve/resolv.conf';
const RESOLVED_STUB = '127.0.0.53';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** isLoopbackAddress tells whether a nameserver address is on the loopback (127/8, ::1, IPv4-mapped 127/8). */
export function isLoopbackAddress(address: string): boolean {
  const bare = address.replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) return false;
  // BlockList matches an IPv4-mapped IPv6 address against its IPv4 rules.
  return LOOPBACK.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

interface ParsedResolv {
  nameservers: string[];
  search: string[];
  options: string[];
  other: string[];
}

function parseResolv(text: string): ParsedResolv {
  const out: ParsedResolv = { nameservers: [], search: [], options: [], other: [] };
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const fields = line.trim().split(/\s+/);
    const [key, ...rest] = fields;
    if (key === undefined || key === '') continue;
    if (key === 'nameserver') {
      const address = rest[0];
      if (address !== undefined && isIP(address.replace(/%.*$/, '')) !== 0) out.nameservers.push(address);
    } else if (key === 'search' || key === 'domain') {
      if (rest.length > 0) out.search = rest; // only the last one counts, as the resolver reads it
    } else if (key === 'options') {
      out.options.push(...rest);
    } else {
      out.other.push(line);
    }
  }
  return out;
}

/**
 * sandboxResolvConf is a RUN's /etc/resolv.conf made from the host's, as BuildKit writes it: nameservers, search,
 * options and unknown lines, comments dropped. On a private network (every mode but host) loopback nameservers are
 * unreachable, so they are left out, and when none is left BuildKit's default public ones take their place; the
 * host network keeps the list, falling back to the defaults only when it is empty.
 */
export function sandboxResolvConf(hostText: string, network: NetworkMode): string {
  const rc = parseResolv(hostText);
  if (network !== 'host') rc.nameservers = rc.nameservers.filter((a) => !isLoopbackAddress(a));
  if (rc.nameservers.length === 0) rc.nameservers = [...DEFAULT_NAMESERVERS];
  const lines = rc.nameservers.map((a) => `nameserver ${a}`);
  if (rc.search.length > 0) lines.push(`search ${rc.search.join(' ')}`);
  if (rc.options.length > 0) lines.push(`options ${rc.options.join(' ')}`);
  return [...lines, ...rc.other].map((l) => `${l}\n`).join('');
}

/**
 * readHostResolvConf reads the host's resolv.conf for a RUN's network: for a private network whose host file names
 * only systemd-resolved's stub, the upstream list resolved keeps (as BuildKit does). Empty when the host has none.
 */
export async function readHostResolvConf(network: NetworkMode): Promise<string> {
  const main = (await readTextIfExists(HOST_RESOLV)) ?? '';
  if (network === 'host') return main;
  const servers = parseResolv(main).nameservers;
  if (servers.length === 1 && servers[0] === RESOLVED_STUB) return (await readTextIfExists(RESOLVED_UPSTREAM)) ?? main;
  return main;
}
