import { Readable, addAbortSignal } from 'node:stream';
import { tarEntries } from './tar-entries.js';
import { walkSnapshot } from './walk.js';

/** LayerTarOptions controls createLayerTar. */
export interface LayerTarOptions {
  /** sourceDateEpoch clamps the mtimes later than it (seconds since the epoch): a layer rewritten for an epoch. */
  readonly sourceDateEpoch?: number;
  readonly signal: AbortSignal;
}

/** createLayerTar streams an upper-dir-form snapshot as a deterministic OCI layer tar in sorted path order. */
export function createLayerTar(dir: string, options: LayerTarOptions): Readable {
  const entries = walkSnapshot(dir, { signal: options.signal });
  const stream = Readable.from(tarEntries(entries, options), { objectMode: false });
  return addAbortSignal(options.signal, stream);
}
