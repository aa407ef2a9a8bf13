import { formatPlatform, type Platform } from '../../base/oci.js';
import { RegistryError } from '../../base/errors.js';
import type { ProgressSink } from '../../base/progress.js';
import type { MetadataStore } from '../../cache/metadata.js';
import type { RegistryClient, ResolvedImage } from '../../registry/index.js';
// The reference module alone: the registry index would load the HTTP client on every build.
import { formatReference, parseReference } from '../../registry/reference.js';

/** ImageResolver pins image references to manifests, once per reference and platform in a build. */
export interface ImageResolver {
  resolve(ref: string, options: { platform: Platform; signal: AbortSignal }): Promise<ResolvedImage>;
}

/** createImageResolver pins references through the registry once and remembers the answer; with `pull` it asks again, falling back to the last answer when the registry is unreachable. */
export function createImageResolver(options: {
  client: () => Promise<RegistryClient>;
  meta: MetadataStore;
  progress: ProgressSink;
  /** Ask the registry even when the store already knows what the reference points at (`--pull`). */
  pull: boolean;
}): ImageResolver {
  const memo = new Map<string, Promise<ResolvedImage>>();
  const resolveOnce = async (ref: string, platform: Platform, signal: AbortSignal): Promise<ResolvedImage> => {
    const parsed = parseReference(ref);
    const pinKey = `${formatReference(parsed)}|${formatPlatform(platform)}`;
    const known = options.pull ? undefined : options.meta.imagePins.get(pinKey);
    // As docker build does with a local image: a reference already resolved is used as it is until --pull.
    if (known !== undefined) return known.config as ResolvedImage;
    try {
      const resolved = await (await options.client()).resolveImage(parsed, { platform, signal });
      await options.meta.imagePins.put(pinKey, { digest: resolved.digest, config: resolved, resolvedAt: Date.now() });
      return resolved;
    } catch (err) {
      const pin = options.meta.imagePins.get(pinKey);
      if (pin === undefined || !isUnreachable(err)) throw err;
      options.progress.emit({
        type: 'warning',
        message: `Using the last known ${formatReference(parsed)} (${pin.digest}): the registry cannot be reached`,
        time: Date.now(),
      });
      return pin.config as ResolvedImage;
    }
  };
  return {
    resolve(ref, { platform, signal }) {
      const key = `${ref}|${formatPlatform(platform)}`;
      let p = memo.get(key);
      if (p === undefined) {
        p = resolveOnce(ref, platform, signal);
        memo.set(key, p);
      }
      return p;
    },
  };
}

function isUnreachable(err: unknown): boolean {
  return err instanceof RegistryError && err.code === 'REGISTRY' && err.status === undefined;
}
