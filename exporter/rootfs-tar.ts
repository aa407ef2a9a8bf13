import { tarEntries } from './layer/index.js';
import { walkMerged } from './merged-walk.js';
import { writeStreamTo } from './archive-tar.js';

/** RootfsOptions controls the merged-rootfs outputs. */
export interface RootfsOptions {
  /** sourceDateEpoch clamps mtimes (seconds since the epoch). */
  readonly sourceDateEpoch?: number;
  readonly signal: AbortSignal;
}

/** writeRootfsTar writes the snapshots merged bottom→top (whiteouts and opaque dirs applied) as one tar. */
export async function writeRootfsTar(
  layers: readonly { readonly dir: string }[],
  dest: string | NodeJS.WritableStream,
  options: RootfsOptions,
): Promise<void> {
  const entries = walkMerged(layers.map((l) => l.dir), { signal: options.signal });
  await writeStreamTo(tarEntries(entries, options), dest, { signal: options.signal });
}
