import type { Descriptor, Platform } from '../base/oci.js';

const DEFAULT_VARIANTS: Readonly<Record<string, string>> = { arm64: 'v8', arm: 'v7', amd64: 'v1' };

function variantOf(p: Platform): string | undefined {
  return p.variant ?? DEFAULT_VARIANTS[p.architecture];
}

/** selectPlatformManifest picks the index entry for a platform: exact variant first, then any variant of the architecture. */
export function selectPlatformManifest(manifests: readonly Descriptor[], wanted: Platform): Descriptor | undefined {
  const candidates = manifests.filter(
    (d) => d.platform !== undefined && d.platform.os === wanted.os && d.platform.architecture === wanted.architecture,
  );
  const wantedVariant = variantOf(wanted);
  const exact = candidates.find((d) => d.platform !== undefined && variantOf(d.platform) === wantedVariant);
  if (exact !== undefined || wanted.variant !== undefined) return exact;
  return candidates[0];
}
