import { allowedFields } from './allowed-differences.js';
import type { Fingerprint, PathChange } from './fingerprint.js';

/** canonical is JSON with object keys sorted at every level, so key order never counts as a difference. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v);
}

const show = (value: unknown): string => (value === undefined ? '(none)' : canonical(value));

function describe(change: PathChange): string {
  if (change.change === 'removed') return 'removed';
  const parts: string[] = [change.change, change.type, change.mode, `${change.uid}:${change.gid}`];
  if (change.size !== undefined) parts.push(`${change.size} bytes`, `sha256 ${change.sha256?.slice(0, 12) ?? ''}`);
  if (change.link !== undefined) parts.push(`-> ${change.link}`);
  if (change.device !== undefined) parts.push(`device ${change.device}`);
  if (change.xattrs !== undefined) parts.push(`xattrs ${Object.keys(change.xattrs).join(',')}`);
  if (change.hardlinks !== undefined) parts.push(`linked with ${change.hardlinks.join(',')}`);
  return parts.join(' ');
}

function comparePath(path: string, expected: PathChange | undefined, actual: PathChange | undefined): string[] {
  const allowed = allowedFields(path);
  if (expected === undefined && actual === undefined) return [];
  if (expected === undefined || actual === undefined) {
    if (allowed.has('presence')) return [];
    return expected === undefined
      ? [`${path}: tbuild ${actual === undefined ? '' : describe(actual)}, BuildKit left it as in the base`]
      : [`${path}: BuildKit ${describe(expected)}, tbuild left it as in the base`];
  }
  const expectedFields = new Map<string, unknown>(Object.entries(expected));
  const actualFields = new Map<string, unknown>(Object.entries(actual));
  const keys = new Set([...expectedFields.keys(), ...actualFields.keys()]);
  const lines: string[] = [];
  for (const key of [...keys].sort()) {
    if (allowed.has(key)) continue;
    const e = expectedFields.get(key);
    const a = actualFields.get(key);
    if (canonical(e) !== canonical(a)) lines.push(`${path}: ${key} BuildKit ${show(e)}, tbuild ${show(a)}`);
  }
  return lines;
}

/** compareFingerprints lists every difference between BuildKit's fingerprint and tbuild's, one readable line each. */
export function compareFingerprints(expected: Fingerprint, actual: Fingerprint): string[] {
  const lines: string[] = [];
  if (expected.base !== actual.base) lines.push(`base: BuildKit ${expected.base}, tbuild ${actual.base}`);
  if (expected.layers !== actual.layers) lines.push(`layers added: BuildKit ${expected.layers}, tbuild ${actual.layers}`);
  const historyLength = Math.max(expected.history.length, actual.history.length);
  for (let i = 0; i < historyLength; i++) {
    const e = expected.history[i];
    const a = actual.history[i];
    if (canonical(e) !== canonical(a)) lines.push(`history[${i}]: BuildKit ${show(e)}, tbuild ${show(a)}`);
  }
  const configKeys = new Set([...Object.keys(expected.config), ...Object.keys(actual.config)]);
  for (const key of [...configKeys].sort()) {
    const e = expected.config[key];
    const a = actual.config[key];
    if (canonical(e) !== canonical(a)) lines.push(`config.${key}: BuildKit ${show(e)}, tbuild ${show(a)}`);
  }
  const paths = new Set([...Object.keys(expected.paths), ...Object.keys(actual.paths)]);
  for (const path of [...paths].sort()) lines.push(...comparePath(path, expected.paths[path], actual.paths[path]));
  return lines;
}
