import { readdirSync, type Stats } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { ChecksumMemo, MetadataStore } from '../../cache/metadata.js';

/**
 * A path changed this recently (by its ctime) is not memoised: timestamps are only as fine as the
 * kernel's clock tick, so a change made right after it was read could leave its stat as it was.
 */
const RACY_MS = 1000;

type Listing = NonNullable<ChecksumMemo['listing']>;


/** identityOf is what must stay the same for a path's memoised content (or listing) to stand. */
export function identityOf(st: Stats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

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
    return this.#dir(dirname(path)).get(basename(path), identityOf(st));
  }

  set(path: string, st: Stats, digest: string): void {
    if (this.#settled(st)) this.#dir(dirname(path)).set(basename(path), identityOf(st), digest);
  }

  /** listNames lists a directory in code unit order, from the memo while the directory's stat is what it was. */
  readonly listNames = (path: string, st: Stats, fresh: boolean): readonly string[] => {
    const memo = this.#dir(path);
    const identity = identityOf(st);
    if (!fresh && memo.listing?.identity === identity) return memo.listing.names;
    const names = readdirSync(path).sort();
    if (this.#settled(st)) memo.relist({ identity, names });
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
  #files: Map<string, readonly [string, string]> | undefined;
  listing: Listing | undefined;
  changed = false;

  constructor(stored: ChecksumMemo | undefined) {
    this.#stored = stored;
    this.listing = stored?.listing;
  }

  get(name: string, identity: string): string | undefined {
    if (this.#files !== undefined) {
      const known = this.#files.get(name);
      return known?.[0] === identity ? known[1] : undefined;
    }
    const stored = this.#stored;
    if (stored === undefined) return undefined;
    const i = sortedIndexOf(stored.names, name);
    return i >= 0 && stored.identities[i] === identity ? stored.digests[i] : undefined;
  }

  set(name: string, identity: string, digest: string): void {
    this.#map().set(name, [identity, digest]);
    this.changed = true;
  }

  /** relist records a fresh listing and forgets the files that are gone, so a record does not grow without end. */
  relist(listing: Listing): void {
    this.listing = listing;
    const files = this.#map();
    const kept = new Set(listing.names);
    for (const name of [...files.keys()]) if (!kept.has(name)) files.delete(name);
    this.changed = true;
  }

  record(): ChecksumMemo {
    const files = [...this.#map()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return {
      v: 2,
      names: files.map(([name]) => name),
      identities: files.map(([, [identity]]) => identity),
      digests: files.map(([, [, digest]]) => digest),
      ...(this.listing === undefined ? {} : { listing: this.listing }),
    };
  }

  #map(): Map<string, readonly [string, string]> {
    if (this.#files === undefined) {
      const stored = this.#stored;
      this.#files = new Map(stored?.names.map((name, i) => [name, [stored.identities[i] ?? '', stored.digests[i] ?? '']] as const));
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
  return typeof value === 'object' && value !== null && 'v' in value && value.v === 2;
}
