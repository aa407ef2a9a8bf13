import type { Digest } from '../../base/digest.js';
import type { Descriptor } from '../../base/oci.js';

/** SnapshotRef is a result held in a chain of snapshots; null is the empty (scratch) filesystem. */
export interface SnapshotRef {
  readonly kind: 'snapshot';
  readonly snapshotId: string | null;
}

/** LocalRef is a folder on the client, read in place with its exclusions. */
export interface LocalRef {
  readonly kind: 'local';
  readonly name: string;
  readonly dir: string;
  readonly isExcluded: (relPath: string) => boolean;
}

/** Ref is the result of a vertex, usable by the op runners. */
export type Ref = SnapshotRef | LocalRef;

/** ImportedLayer is one layer blob of an imported cache record and the digest of its uncompressed tar. */
export interface ImportedLayer {
  readonly descriptor: Descriptor;
  readonly diffId: Digest;
  /** When the layer was made where it was built (ms since the epoch), if the cache says. */
  readonly createdAt?: number;
}

/**
 * ImportedRef is a result found in an imported cache and not fetched yet: only its layer chain (bottom first, never
 * empty) is known. Op runners never see one: the solver loads it (downloads and unpacks it) before a vertex uses it,
 * and exporters fetch only what their output needs.
 */
export interface ImportedRef {
  readonly kind: 'imported';
  /** The cache key the result was found under. */
  readonly key: Digest;
  /** The digest of the vertex that hit, which download progress is reported under. */
  readonly vertex: string;
  /** The name of that vertex, for records and messages. */
  readonly name: string;
  readonly chain: readonly ImportedLayer[];
}

/** SolvedRef is the result of a vertex in a solve with imported caches: a usable Ref or an imported one. */
export type SolvedRef = Ref | ImportedRef;

/** LocalContext is a named folder the client offers, with its .dockerignore already applied. */
export interface LocalContext {
  readonly dir: string;
  readonly isExcluded: (relPath: string) => boolean;
  /**
   * What decides isExcluded (the ignore patterns, the source's excludes), as text: a scan of the folder made under
   * the same key may be reused while a watch tells nothing changed; none means a walk every time.
   */
  readonly scanKey?: string;
  /**
   * Tells paths the ignore patterns leave out whatever the folder holds (no exception brings back anything below
   * them), so that a change there needs no walk; none means every change counts.
   */
  readonly isSurelyExcluded?: (relPath: string) => boolean;
}
