import { RegistryError } from '../../base/errors.js';
import type { Platform } from '../../base/oci.js';
import type { ProgressSink } from '../../base/progress.js';
import type { MetadataStore } from '../../cache/index.js';
import type { RegistryClient, ResolvedImage } from '../../registry/index.js';
// The reference module alone: the registry index would load the HTTP client on every build.
import { formatReference, parseReference, withDigest, type Reference } from '../../registry/index.js';
import { pinKey, readPin, storePin } from './image-pins.js';
import { checkTag, DEFAULT_TAG_POLICY, isRecentlyUnreachable, warnRecentlyUnreachable, type TagCheck, type TagCheckContext, type TagPolicy } from './tag-check.js';

/** ImageResolver pins image references to manifests, once per reference and platform in a build. */
export interface ImageResolver extends AsyncDisposable {
  resolve(ref: string, options: { platform: Platform; signal: AbortSignal }): Promise<ResolvedImage>;
  /**
   * checked waits for the tag checks started while stored resolutions were in use, throwing the first that failed.
   * true means a tag moved: what was built on its stored resolution must be built again.
   */
  checked(): Promise<boolean>;
  /** moved waits for the same checks and tells whether a tag moved, leaving failures to whoever used the image. */
  moved(): Promise<boolean>;
}

/** ImageResolverOptions configure an image resolver. */
export interface ImageResolverOptions {
  readonly client: () => Promise<RegistryClient>;
  readonly meta: MetadataStore;
  readonly progress: ProgressSink;
  /** Check every tag with the registry, failing when it cannot be reached (`--pull`). */
  readonly pull: boolean;
  /** When stored tag resolutions are checked again (default DEFAULT_TAG_POLICY). */
  readonly policy?: TagPolicy;
  /**
   * true: an expired resolution is used at once while its tag is checked, so the build goes ahead; whatever uses the
   * image by digest waits for the check, and `checked` tells whether the tag moved. false: the check comes first.
   */
  readonly speculative?: boolean;
  /** Resolutions confirmed at or after this time are not checked again (a build made again after a tag moved). */
  readonly confirmedSince?: number;
  /** The clock that ages stored resolutions (default Date.now). */
  readonly now?: () => number;
}

/**
 * createImageResolver pins references through the registry and remembers the answers in the store. A tag resolved
 * within the policy's time to live is used without a request; an older one is checked with a HEAD request (see
 * checkTag); an image pinned by digest never changes and is never checked.
 */
export function createImageResolver(options: ImageResolverOptions): ImageResolver {
  const policy = options.policy ?? DEFAULT_TAG_POLICY;
  const now = options.now ?? Date.now;
  const stop = new AbortController();
  const memo = new Map<string, Promise<ResolvedImage>>();
  /** Checks of tags whose stored resolution is in use, by the `tag@digest` key the build graph pins it as. */
  const checks = new Map<string, Promise<TagCheck>>();
  const context = (signal: AbortSignal): TagCheckContext => ({
    client: options.client,
    meta: options.meta,
    progress: options.progress,
    policy,
    pull: options.pull,
    now,
    signal: AbortSignal.any([signal, stop.signal]),
  });

  const fetchAndStore = async (ref: Reference, platform: Platform, signal: AbortSignal): Promise<ResolvedImage> => {
    const resolved = await (await options.client()).resolveImage(ref, { platform, signal });
    await storePin(options.meta, ref, platform, resolved, now());
    return resolved;
  };

  const resolveTag = async (ref: Reference, platform: Platform, signal: AbortSignal): Promise<ResolvedImage> => {
    const stored = readPin(options.meta, ref, platform);
    if (stored === undefined) return fetchAndStore(ref, platform, signal);
    const age = now() - stored.resolvedAt;
    const fresh = age >= 0 && age < policy.ttlMs && !options.pull;
    // A build made again after a tag moved uses what its first attempt confirmed, --pull or not.
    const confirmed = stored.resolvedAt >= (options.confirmedSince ?? Number.POSITIVE_INFINITY);
    if (fresh || confirmed) return stored.image;
    if (!options.pull && isRecentlyUnreachable(stored, policy, now())) {
      warnRecentlyUnreachable(ref, stored, { progress: options.progress, now });
      return stored.image;
    }
    const check = checkTag(ref, platform, stored, context(signal));
    if (options.speculative === true) {
      checks.set(pinKey(withDigest(ref, stored.image.digest), platform), check);
      return stored.image;
    }
    const outcome = await check;
    switch (outcome.kind) {
      case 'unchanged':
      case 'offline':
        return stored.image;
      case 'moved':
        return outcome.resolved;
      case 'failed':
        throw outcome.error;
    }
  };

  const resolvePinned = async (ref: Reference, platform: Platform, signal: AbortSignal): Promise<ResolvedImage> => {
    const check = checks.get(pinKey(ref, platform));
    if (check !== undefined) {
      // Nothing may be built on a tag's stored image before the registry has confirmed it (or cannot be asked).
      const outcome = await check;
      if (outcome.kind === 'failed') throw outcome.error;
      if (outcome.kind === 'moved') {
        throw new RegistryError(`Cannot use "${formatReference(ref)}": its tag moved to ${outcome.resolved.digest}`, { ref: formatReference(ref) });
      }
    }
    return readPin(options.meta, ref, platform)?.image ?? fetchAndStore(ref, platform, signal);
  };

  return {
    async resolve(ref, { platform, signal }) {
      const parsed = parseReference(ref);
      // By the normalised reference: `busybox` and `docker.io/library/busybox:latest` share one resolution and check.
      const key = pinKey(parsed, platform);
      let p = memo.get(key);
      if (p === undefined) {
        p = parsed.digest === undefined ? resolveTag(parsed, platform, signal) : resolvePinned(parsed, platform, signal);
        memo.set(key, p);
      }
      return p;
    },
    async checked() {
      const outcomes = await Promise.all(checks.values());
      const failed = outcomes.find((outcome) => outcome.kind === 'failed');
      if (failed !== undefined) throw failed.error;
      return outcomes.some((outcome) => outcome.kind === 'moved');
    },
    async moved() {
      return (await Promise.all(checks.values())).some((outcome) => outcome.kind === 'moved');
    },
    async [Symbol.asyncDispose]() {
      stop.abort(new RegistryError('Tag checks stopped: the build ended'));
      await Promise.all(checks.values());
    },
  };
}
