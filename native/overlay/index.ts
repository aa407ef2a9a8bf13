/**
 * overlay is the overlayfs upper-dir form snapshots are stored in (whiteouts, opaque directories, their layer tar
 * names) and the lookup of paths over a stack of such layers, as the kernel's overlayfs shows them.
 */
export {
  classifyUpperEntry,
  FUSE_OVERLAY_XATTR_PREFIX,
  isOpaqueDir,
  isOverlayXattr,
  isWhiteout,
  makeWhiteout,
  markOpaque,
  parseTarMarker,
  whiteoutTarName,
  OPAQUE_MARKER,
  opaqueXattr,
  overlayXattrPrefix,
  WHITEOUT_PREFIX,
  type TarMarker,
  type UpperEntry,
} from './upper-dir.js';
export { normalizeFuseUpper } from './fuse-upper.js';
export { fixedLayerReads, PLAIN_LAYER_READS, type LayerReads } from './fixed-layer-stats.js';
export { LayeredTree, listLayered, lookupChild, lookupLayered, resolveInLayers, rootEntry, type LayeredEntry, type LayerLookup } from './layered-lookup.js';
