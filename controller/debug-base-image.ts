import { isRecord } from '../base/is-record.js';
import type { ImageConfig } from '../base/oci.js';
import { decodeImageConfig } from '../base/oci-decode.js';
import type { MetadataStore } from '../cache/index.js';
import { chainIds, layerRecordKey } from '../solver/ops/index.js';

/** BaseImageResult is the unpacked base image a FROM step gave its stage: its top snapshot and its config. */
export interface BaseImageResult {
  /** null for an image without layers. */
  readonly snapshotId: string | null;
  readonly config: ImageConfig;
}

/** imageOfPreimage reads the manifest digest and platform (`os/arch[/variant]`) a FROM step's key preimage names. */
function imageOfPreimage(preimage: unknown): { digest: string; platform: string } | undefined {
  if (!isRecord(preimage) || preimage['kind'] !== 'source.image' || !isRecord(preimage['fields'])) return undefined;
  const { digest, platform } = preimage['fields'];
  if (typeof digest !== 'string' || !isRecord(platform) || typeof platform['os'] !== 'string' || typeof platform['architecture'] !== 'string') return undefined;
  const variant = typeof platform['variant'] === 'string' && platform['variant'] !== '' ? `/${platform['variant']}` : '';
  return { digest, platform: `${platform['os']}/${platform['architecture']}${variant}` };
}

/** configOfPin reads the image config of a stored resolution (a ResolvedImage as the image resolver stored it). */
function configOfPin(pinned: unknown): ImageConfig | undefined {
  return isRecord(pinned) && pinned['config'] !== undefined ? decodeImageConfig(pinned['config'], { ref: 'a stored base image' }) : undefined;
}

/**
 * findBaseImage finds the base image of a FROM step in the store: the image pin of its manifest digest and platform
 * (what the build resolved), and the snapshot its layers were unpacked to. A FROM step has no cache record of its
 * own (an image's layers are kept by layer chain), so this is how its result is found again.
 */
export function findBaseImage(meta: MetadataStore, preimage: unknown): BaseImageResult | undefined {
  const wanted = imageOfPreimage(preimage);
  if (wanted === undefined) return undefined;
  for (const { key, value } of meta.imagePins.getRange()) {
    if (value.digest !== wanted.digest || !key.endsWith(`|${wanted.platform}`)) continue;
    const config = configOfPin(value.config);
    if (config === undefined) continue;
    const top = chainIds(config).at(-1);
    if (top === undefined) return { snapshotId: null, config };
    const layers = meta.cacheRecords.get(layerRecordKey(top));
    if (layers !== undefined) return { snapshotId: layers.snapshotId, config };
  }
  return undefined;
}
