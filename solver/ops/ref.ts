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

/** Ref is the result of a vertex. */
export type Ref = SnapshotRef | LocalRef;

/** LocalContext is a named folder the client offers, with its .dockerignore already applied. */
export interface LocalContext {
  readonly dir: string;
  readonly isExcluded: (relPath: string) => boolean;
}
