import type { Stats } from 'node:fs';

/** TreeEntry is one path of a snapshot (or merged snapshots) met during a sorted walk. */
export interface TreeEntry {
  /** rel is the slash-separated path below the root, without a leading "./". */
  readonly rel: string;
  /** source is the absolute path the entry's content and metadata come from. */
  readonly source: string;
  readonly stat: Stats;
  /** whiteout is true for an overlayfs whiteout (see native/overlay). */
  readonly whiteout: boolean;
  /** opaque is true for an opaque directory (see native/overlay). */
  readonly opaque: boolean;
}
