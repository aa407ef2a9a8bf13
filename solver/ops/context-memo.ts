import { readdirSync, type Stats } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { ChecksumMemo, MetadataStore } from '../../cache/index.js';

/**
 * A path changed this recently (by its ctime) is not memoised: timestamps are only as fine as the
 * kernel's clock tick, so a change made right after it was read could leave its stat as it was.
 */
const RACY_MS = 1000;

/** Bytes of one stat identity: dev, ino, size, mtimeMs and ctimeMs as little-endian float64s. */
const IDENTITY_BYTES = 40;

/** Identity is what must stay the same for a path's memoised content (or listing) to stand. */
type Identity = readonly [dev: number, ino: number, size: number, mtimeMs: number, ctimeMs: number];

function identityOf(st: Stats): Identity {
  return [st.dev, st.ino, st.size, st.mtimeMs, st.ctimeMs];
}

/** isIdentityAt compares the identity stored at `index` with a stat, without allocating. */
function isIdentityAt(view: DataView, index: number, st: Stats): boolean {
  const at = index * IDENTITY_BYTES;
  return (
    view.getFloat64(at + 32, true) === st.ctimeMs &&
    view.getFloat64(at + 24, true) === st.mtimeMs &&
    view.getFloat64(at + 16, true) === st.size &&
    view.getFloat64(at + 8, true) === st.ino &&
    view.getFloat64(at, true) === st.dev
  );
}

function isIdentityOf(identity: Identity, st: Stats): boolean {
  const [dev, ino, size, mtimeMs, ctimeMs] = identity;
  return ctimeMs === st.ctimeMs && mtimeMs === st.mtimeMs && size === st.size && ino === st.ino && dev === st.dev;
}

function identityAt(view: DataView, index: number): Identity {
  const at = index * IDENTITY_BYTES;
  const n = (field: number): number => view.getFloat64(at + field * 8, true);
  return [n(0), n(1), n(2), n(3), n(4)];
}

function encodeIdentities(identities: readonly Identity[]): Uint8Array {
  const out = Buffer.alloc(identities.length * IDENTITY_BYTES);
  identities.forEach((identity, i) => identity.forEach((n, j) => out.writeDoubleLE(n, i * IDENTITY_BYTES + j * 8)));
  return out;
}

const viewOf = (bytes: Uint8Array): DataView => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * ContextMemo reads and writes one record per directory, so a large context costs few database
 * operations: the digests of its files, each under its stat identity, and its sorted names under
 * its own stat identity (creating, removing or renaming an entry changes a directory's times).
 */
export class ContextMemo {
  readonly #meta: MetadataStore;
  readonly #now: number;
  readonly #dirs = new Map<string, DirectoryMemo>();

  /** `now` is when the context is read: paths changed within RACY_MS of it are not memoised. */
  constructor(meta: MetadataStore, now: number) {
    this.#meta = meta;
    this.#now = now;
  }

  #dir(path: string): DirectoryMemo {
    let memo = this.#dirs.get(path);
    if (memo === undefined) {
      const stored: unknown = this.#meta.checksums.get(path);
      // A record of an older shape counts as none; it is replaced when the directory's memo changes.
      memo = new DirectoryMemo(isChecksumMemo(stored) ? stored : undefined);
      this.#dirs.set(path, memo);
    }
    return memo;
  }

  #settled(st: Stats): boolean {
    return this.#now - st.ctimeMs > RACY_MS;
  }

  /** get returns the memoised content digest of a file, if its stat identity is the one it was memoised under. */
  get(path: string, st: Stats): string | undefined {
    return this.#dir(dirname(path)).get(basename(path), st);
  }

  set(path: string, st: Stats, digest: string): void {
    if (this.#settled(st)) this.#dir(dirname(path)).set(basename(path), identityOf(st), digest);
  }

  /** listNames lists a directory in code unit order, from the memo while the directory's stat is what it was. */
  readonly listNames = (path: string, st: Stats, fresh: boolean): readonly string[] => {
    const memo = this.#dir(path);
    const known = fresh ? undefined : memo.listing(st);
    if (known !== undefined) return known;
    const names = readdirSync(path).sort();
    if (this.#settled(st)) memo.relist(identityOf(st), names);
    return names;
  };

  /** save writes the records changed since the last save. */
  async save(): Promise<void> {
    const changed = [...this.#dirs].filter(([, memo]) => memo.changed);
    for (const [, memo] of changed) memo.changed = false;
    await Promise.all(changed.map(([path, memo]) => this.#meta.checksums.put(path, memo.record())));
  }
}

/** DirectoryMemo is one directory's record: looked up in place, copied into a map only when it changes. */
class DirectoryMemo {
  readonly #stored: ChecksumMemo | undefined;
  readonly #identities: DataView | undefined;
  #files: Map<string, { readonly identity: Identity; readonly digest: string }> | undefined;
  #listing: { readonly identity: DataView; readonly names: readonly string[] } | undefined;
  changed = false;

  constructor(stored: ChecksumMemo | undefined) {
    this.#stored = stored;
    this.#identities = stored === undefined ? undefined : viewOf(stored[2]);
    const [, , , , listingIdentity, listingNames] = stored ?? [];
    if (listingIdentity != null && listingNames != null) this.#listing = { identity: viewOf(listingIdentity), names: listingNames };
  }

  get(name: string, st: Stats): string | undefined {
    if (this.#files !== undefined) {
      const known = this.#files.get(name);
      return known !== undefined && isIdentityOf(known.identity, st) ? known.digest : undefined;
    }
    if (this.#stored === undefined || this.#identities === undefined) return undefined;
    const i = sortedIndexOf(this.#stored[1], name);
    return i >= 0 && isIdentityAt(this.#identities, i, st) ? this.#stored[3][i] : undefined;
  }

  set(name: string, identity: Identity, digest: string): void {
    this.#map().set(name, { identity, digest });
    this.changed = true;
  }

  /** listing returns the memoised names if the directory's stat is the one they were listed under. */
  listing(st: Stats): readonly string[] | undefined {
    return this.#listing !== undefined && isIdentityAt(this.#listing.identity, 0, st) ? this.#listing.names : undefined;
  }

  /** relist records a fresh listing and forgets the files that are gone, so a record does not grow without end. */
  relist(identity: Identity, names: readonly string[]): void {
    this.#listing = { identity: viewOf(encodeIdentities([identity])), names };
    const files = this.#map();
    const kept = new Set(names);
    for (const name of [...files.keys()]) if (!kept.has(name)) files.delete(name);
    this.changed = true;
  }

  record(): ChecksumMemo {
    const files = [...this.#map()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const listing = this.#listing;
    return [
      3,
      files.map(([name]) => name),
      encodeIdentities(files.map(([, f]) => f.identity)),
      files.map(([, f]) => f.digest),
      listing === undefined ? null : new Uint8Array(listing.identity.buffer, listing.identity.byteOffset, listing.identity.byteLength),
      listing === undefined ? null : listing.names,
    ];
  }

  #map(): Map<string, { readonly identity: Identity; readonly digest: string }> {
    if (this.#files === undefined) {
      const stored = this.#stored;
      const view = this.#identities;
      this.#files = new Map();
      if (stored !== undefined && view !== undefined) {
        stored[1].forEach((name, i) => this.#files?.set(name, { identity: identityAt(view, i), digest: stored[3][i] ?? '' }));
      }
    }
    return this.#files;
  }
}

/** sortedIndexOf finds a name in names sorted by code unit, or returns -1. */
function sortedIndexOf(names: readonly string[], name: string): number {
  let lo = 0;
  let hi = names.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = names[mid] ?? '';
    if (at === name) return mid;
    if (at < name) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

function isChecksumMemo(value: unknown): value is ChecksumMemo {
  if (!Array.isArray(value) || value[0] !== 3 || value.length !== 6) return false;
  const [, names, identities, digests, listingIdentity, listingNames] = value as unknown[];
  if (!Array.isArray(names) || !Array.isArray(digests) || !(identities instanceof Uint8Array)) return false;
  if (digests.length !== names.length || identities.byteLength !== names.length * IDENTITY_BYTES) return false;
  return listingIdentity === null ? listingNames === null : listingIdentity instanceof Uint8Array && listingIdentity.byteLength === IDENTITY_BYTES && Array.isArray(listingNames);
}
