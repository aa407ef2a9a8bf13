import { tarEntries } from './layer/index.js';
import { walkMerged } from './merged-walk.js';
import { writeStreamTo } from './archive-tar.js';

/** RootfsOptions controls the merged-rootfs outputs. */
export interface RootfsOptions {
  /** sourceDateEpoch is every entry's mtime (seconds since 1970), as BuildKit's tar exporter stamps files with the epoch. */
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
  const mtime = options.sourceDateEpoch === undefined ? {} : { mtime: options.sourceDateEpoch };
  await writeStreamTo(tarEntries(entries, { ...mtime, signal: options.signal }), dest, { signal: options.signal });
}
