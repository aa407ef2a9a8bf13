/** Layer codec: apply layer tars to snapshots and the tar format shared with the exporters. */
export { applyLayer, cleanEntryPath, type ApplyResult } from './apply.js';
export { decompress, detectCompression, type DetectedCompression } from './decompress.js';
export { filterThroughProcess } from './process-filter.js';
export { encodeTarHeader, tarPadding, TAR_BLOCK, TAR_END, type TarHeader, type TarType } from './tar-format.js';
export { readTar, type TarEntry } from './tar-reader.js';
