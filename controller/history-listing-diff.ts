import type { ChecksumListing } from '../base/build-record.js';

/** MAX_CHANGES bounds the files named; the rest are counted. */
const MAX_CHANGES = 10;

/**
 * diffListings says which files differ between two context checksum listings (`path\0description` lines, see
 * solver/ops/context-checksum.ts): changed contents with their digests, modes, link targets, files added and removed.
 */
export function diffListings(before: ChecksumListing, after: ChecksumListing): string[] {
  const a = entries(before);
  const b = entries(after);
  const out: string[] = [];
  for (const path of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const was = a.get(path);
    const now = b.get(path);
    if (was === now) continue;
    out.push(describe(path, was, now));
  }
  const sources = (l: ChecksumListing): string => l.filter((x) => x.startsWith('source ')).join(',');
  if (sources(before) !== sources(after)) out.unshift(`the files it selects changed (${sources(before).replaceAll('source ', '') || '.'} → ${sources(after).replaceAll('source ', '') || '.'})`);
  return out.length > MAX_CHANGES ? [...out.slice(0, MAX_CHANGES), `and ${out.length - MAX_CHANGES} more changes`] : out;
}

function entries(listing: ChecksumListing): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of listing) {
    const at = line.indexOf('\0');
    if (at >= 0) out.set(line.slice(0, at), line.slice(at + 1));
  }
  return out;
}

function describe(path: string, was: string | undefined, now: string | undefined): string {
  const name = `\`${path}\``;
  if (was === undefined) return `${name} added`;
  if (now === undefined) return `${name} removed`;
  const [wasKind, wasMode, wasDigest] = was.split(' ');
  const [nowKind, nowMode, nowDigest] = now.split(' ');
  if (wasKind !== nowKind) return `${name} is now a ${kindName(nowKind)} (was a ${kindName(wasKind)})`;
  if (wasKind === 'link') return `${name} points elsewhere (${was.slice(5)} → ${now.slice(5)})`;
  if (wasKind === 'file' && wasDigest !== nowDigest) return `${name} changed (${shortDigest(wasDigest)} → ${shortDigest(nowDigest)})${wasMode === nowMode ? '' : `, mode ${wasMode ?? ''} → ${nowMode ?? ''}`}`;
  return `${name} mode changed (${wasMode ?? ''} → ${nowMode ?? ''})`;
}

function kindName(kind: string | undefined): string {
  switch (kind) {
    case 'dir':
      return 'folder';
    case 'link':
      return 'symlink';
    case 'file':
      return 'file';
    default:
      return 'special file';
  }
}

/** shortDigest cuts a sha256 digest to its first 12 hex digits, as the explanations print them. */
export function shortDigest(d: string | undefined): string {
  return (d ?? '').replace(/^(sha256:[0-9a-f]{12})[0-9a-f]+$/, '$1');
}
