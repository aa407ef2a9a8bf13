import { formatPlatform, type Platform } from '../../base/oci.js';
import { RegistryError } from '../../base/errors.js';
import type { ProgressSink } from '../../base/progress.js';
import type { MetadataStore } from '../../cache/metadata.js';
import { formatReference, parseReference, type RegistryClient, type ResolvedImage } from '../../registry/index.js';

/** ImageResolver pins image references to manifests, once per reference and platform in a build. */
export interface ImageResolver {
  resolve(ref: string, options: { platform: Platform; signal: AbortSignal }): Promise<ResolvedImage>;
}

/** createImageResolver asks the registry and remembers the answer, falling back to it when the registry is unreachable. */
export function createImageResolver(options: {
  client: () => RegistryClient;
  meta: MetadataStore;
  progress: ProgressSink;
}): ImageResolver {
  const memo = new Map<string, Promise<ResolvedImage>>();
  const resolveOnce = async (ref: string, platform: Platform, signal: AbortSignal): Promise<ResolvedImage> => {
    const parsed = parseReference(ref);
    const pinKey = `${formatReference(parsed)}|${formatPlatform(platform)}`;
    try {
      const resolved = await options.client().resolveImage(parsed, { platform, signal });
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
