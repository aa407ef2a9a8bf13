import { MEDIA_TYPES, type Descriptor, type Platform } from '../base/oci.js';
import { platformRank } from '../base/platform.js';

/**
 * selectPlatformManifest picks the index entry for a platform as containerd does for BuildKit: the entry whose
 * platform ranks best in what the wanted platform accepts (its own variant, then older variants, then 32-bit
 * fallbacks), the first of equals in index order; an image manifest without a platform only when none matches.
 */
export function selectPlatformManifest(manifests: readonly Descriptor[], wanted: Platform): Descriptor | undefined {
  let best: Descriptor | undefined;
  let bestRank = Number.POSITIVE_INFINITY;
  for (const d of manifests) {
    const rank = d.platform === undefined ? unplatformed(d) : platformRank(wanted, d.platform);
    if (rank !== undefined && rank < bestRank) {
      best = d;
      bestRank = rank;
    }
  }
  return best;
}

function unplatformed(d: Descriptor): number | undefined {
  return d.mediaType === MEDIA_TYPES.ociManifest || d.mediaType === MEDIA_TYPES.dockerManifest ? Number.MAX_SAFE_INTEGER : undefined;
}
