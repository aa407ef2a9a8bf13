import { isIP } from 'node:net';
import { UsageError } from '../base/errors.js';
import { parseRamBytes } from './resource-flags.js';

/** HostFlag is one `--add-host` entry. */
export interface HostFlag {
  readonly host: string;
  readonly ip: string;
}

/** UlimitFlag is one `--ulimit` entry. */
export interface UlimitFlag {
  readonly name: string;
  readonly soft: number;
  readonly hard: number;
}

/** The limits docker's --ulimit knows, by their ulimit names. */
const ULIMIT_NAMES = new Set(['as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

/** parseAddHost reads `--add-host HOST:IP` (or `HOST=IP`), as docker does; IPv6 addresses may follow the first colon. */
export function parseAddHost(text: string): HostFlag {
  const at = /[:=]/.exec(text)?.index ?? -1;
  const host = at < 0 ? '' : text.slice(0, at);
  let ip = at < 0 ? '' : text.slice(at + 1);
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (host === '' || /\s/.test(host) || isIP(ip) === 0) throw new UsageError(`Cannot use --add-host "${text}": expected HOST:IP with a valid IP address`);
  return { host, ip };
}

/** parseShmSize reads `--shm-size` as docker does: a byte count with an optional b, k, m or g suffix (powers of 1024). */
export function parseShmSize(text: string): number {
  const bytes = parseRamBytes(text.trim());
  if (bytes === undefined || bytes <= 0) throw new UsageError(`Cannot use --shm-size "${text}": expected a size such as 64m or 1g`);
  return bytes;
}

/** parseUlimit reads `--ulimit NAME=SOFT[:HARD]` as docker does (unlimited, -1, is refused: give a number). */
export function parseUlimit(text: string): UlimitFlag {
  if (/=-1\b|:-1$/.test(text)) throw new UsageError(`Cannot use --ulimit "${text}": unlimited (-1) is not supported, give the limit as a number`);
  const m = /^([a-z]+)=(\d+)(?::(\d+))?$/.exec(text);
  const name = m?.[1] ?? '';
  if (m === null || !ULIMIT_NAMES.has(name)) {
    throw new UsageError(`Cannot use --ulimit "${text}": expected NAME=SOFT[:HARD] with NAME one of ${[...ULIMIT_NAMES].join(', ')}`);
  }
  const soft = Number(m[2]);
  const hard = Number(m[3] ?? m[2]);
  if (!Number.isSafeInteger(soft) || !Number.isSafeInteger(hard) || soft > hard) {
    throw new UsageError(`Cannot use --ulimit "${text}": the soft limit must not exceed the hard limit`);
  }
  return { name, soft, hard };
}
