import { Readable, addAbortSignal } from 'node:stream';
import { layerTarChunks } from './tar-thread.js';

/** LayerTarOptions controls createLayerTar. */
export interface LayerTarOptions {
  /** sourceDateEpoch clamps the mtimes later than it (seconds since the epoch): a layer rewritten for an epoch. */
  readonly sourceDateEpoch?: number;
  readonly signal: AbortSignal;
}

/**
 * createLayerTar streams an upper-dir-form snapshot as a deterministic OCI layer tar in sorted path order. The tar of
 * all but a small snapshot is made on the layer tar thread (see tar-thread.ts): walking, reading files and writing
 * records do not hold up the event loop.
 */
export function createLayerTar(dir: string, options: LayerTarOptions): Readable {
  const stream = Readable.from(layerTarChunks(dir, options).chunks, { objectMode: false });
  return addAbortSignal(options.signal, stream);
}
