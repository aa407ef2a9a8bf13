import { digestOf, type Digest } from '../../base/digest.js';
import { RegistryError } from '../../base/errors.js';
import { formatPlatform, type Platform } from '../../base/oci.js';
import type { ProgressSink } from '../../base/progress.js';
import type { MetadataStore } from '../../cache/index.js';
import type { RegistryClient, ResolvedImage } from '../../registry/index.js';
import { formatReference, type Reference } from '../../registry/index.js';
import { markUnreachable, storePin, touchPin, type StoredResolution } from './image-pins.js';

/** TagPolicy says how long a stored tag resolution is used without asking the registry, and how long asking may take. */
export interface TagPolicy {
  /** A resolution confirmed longer ago than this is checked again (0: on every build). */
  readonly ttlMs: number;
  /** The check gives up after this long and the build goes on with the stored resolution. */
  readonly checkTimeoutMs: number;
}

/** DEFAULT_TAG_POLICY re-checks tags hourly and waits at most 3 s for the registry. */
export const DEFAULT_TAG_POLICY: TagPolicy = { ttlMs: 60 * 60 * 1000, checkTimeoutMs: 3000 };

/** TagCheck is what re-checking a stored tag resolution found. */
export type TagCheck =
  | { readonly kind: 'unchanged' }
  /** The registry could not be reached: the stored resolution stands, with a warning. */
  | { readonly kind: 'offline' }
  | { readonly kind: 'moved'; readonly resolved: ResolvedImage }
  | { readonly kind: 'failed'; readonly error: unknown };

/** TagCheckContext is what a check needs from its build. */
export interface TagCheckContext {
  readonly client: () => Promise<RegistryClient>;
  readonly meta: MetadataStore;
  readonly progress: ProgressSink;
  readonly policy: TagPolicy;
  /** `--pull`: an unreachable registry fails the build instead of leaving the stored resolution in use. */
  readonly pull: boolean;
  readonly now: () => number;
  /** The build's signal, or one that also stops when the resolver is disposed. */
  readonly signal: AbortSignal;
}

/**
 * checkTag asks the registry whether a tag still names what the store resolved it to: one HEAD request, and a full
 * resolution only when it moved. It never rejects: a failure is an outcome, for whoever uses the tag to throw.
 */
export async function checkTag(ref: Reference, platform: Platform, stored: StoredResolution, ctx: TagCheckContext): Promise<TagCheck> {
  const name = `[internal] load metadata for ${formatReference(ref)}`;
  const vertex = digestOf(`check ${formatReference(ref)} ${formatPlatform(platform)}`);
  const started = Date.now();
  ctx.progress.emit({ type: 'vertex.started', vertex, name, time: started });
  let outcome: TagCheck;
  try {
    outcome = await compare(ref, platform, stored, ctx);
  } catch (error) {
    outcome = { kind: 'failed', error };
  }
  if (outcome.kind === 'moved') {
    const data = `${formatReference(ref)} moved: ${stored.image.digest} -> ${outcome.resolved.digest}\n`;
    ctx.progress.emit({ type: 'vertex.log', vertex, stream: 'stderr', data, time: Date.now() });
  }
  const error = outcome.kind === 'failed' ? { error: ctx.signal.aborted ? 'cancelled' : messageOf(outcome.error) } : {};
  ctx.progress.emit({ type: 'vertex.completed', vertex, name, time: Date.now(), durationMs: Date.now() - started, ...error });
  return outcome;
}

async function compare(ref: Reference, platform: Platform, stored: StoredResolution, ctx: TagCheckContext): Promise<TagCheck> {
  const client = await ctx.client();
  const bounded = AbortSignal.any([ctx.signal, AbortSignal.timeout(ctx.policy.checkTimeoutMs)]);
  // `bounded` only where the request was bounded by it: a slow GET after the tag moved is not a timeout.
  const offline = (err: unknown, used: AbortSignal): Promise<TagCheck> => keepStored(err, { ref, platform, stored, bounded: used }, ctx);
  if (stored.namedDigest !== undefined) {
    let named: Digest;
    try {
      named = await client.manifestDigest(ref, { signal: bounded });
    } catch (err) {
      return offline(err, bounded);
    }
    if (named === stored.namedDigest) {
      await touchPin(ctx.meta, ref, platform, ctx.now());
      return { kind: 'unchanged' };
    }
  }
  // The tag names another document (or the record predates named digests): resolve it as a first pull does.
  let resolved: ResolvedImage;
  const signal = stored.namedDigest === undefined ? bounded : ctx.signal;
  try {
    resolved = await client.resolveImage(ref, { platform, signal });
  } catch (err) {
    return offline(err, signal);
  }
  await storePin(ctx.meta, ref, platform, resolved, ctx.now());
  // A multi-platform index can change without this platform's manifest changing.
  return resolved.digest === stored.image.digest ? { kind: 'unchanged' } : { kind: 'moved', resolved };
}

/** keepStored leaves the stored resolution in use, with a warning, when the registry cannot be reached; else throws. */
async function keepStored(
  err: unknown,
  check: { ref: Reference; platform: Platform; stored: StoredResolution; bounded: AbortSignal },
  ctx: TagCheckContext,
): Promise<TagCheck> {
  const { ref, stored, bounded } = check;
  if (ctx.signal.aborted) throw ctx.signal.reason;
  const timedOut = bounded.aborted;
  if (err instanceof RegistryError && err.code === 'REGISTRY_NOT_FOUND') {
    // As BuildKit fails on a deleted tag; the stored image can still be named by its digest.
    const name = formatReference(ref);
    throw new RegistryError(`Cannot check image "${name}": the registry no longer has this tag`, {
      code: 'REGISTRY_NOT_FOUND',
      ref: name,
      cause: err,
      hint: `to build on the image it named ${ageSince(stored.resolvedAt, ctx)} ago, use ${name}@${stored.image.digest}`,
    });
  }
  if (!timedOut && !isUnreachable(err)) throw err;
  const problem = timedOut
    ? new RegistryError(`Cannot check image "${formatReference(ref)}": no answer within ${formatAge(ctx.policy.checkTimeoutMs)}`, { ref: formatReference(ref), cause: err })
    : err;
  if (ctx.pull) throw problem;
  warnStale(messageOf(problem), stored, ctx);
  await markUnreachable(ctx.meta, ref, check.platform, ctx.now());
  return { kind: 'offline' };
}

/** RECHECK_UNREACHABLE_MS is how long after a check found the registry unreachable builds use the store without asking. */
const RECHECK_UNREACHABLE_MS = 60_000;

/**
 * isRecentlyUnreachable tells whether a check found the registry unreachable so recently (within a minute, and
 * within the time to live) that a build uses the stored resolution without asking again: a network that drops
 * requests then costs one check timeout a minute, not one per build.
 */
export function isRecentlyUnreachable(stored: StoredResolution, policy: TagPolicy, now: number): boolean {
  if (stored.unreachableAt === undefined) return false;
  const since = now - stored.unreachableAt;
  return since >= 0 && since < Math.min(policy.ttlMs, RECHECK_UNREACHABLE_MS);
}

/** warnRecentlyUnreachable reports a stored resolution used without a check because its registry was just unreachable. */
export function warnRecentlyUnreachable(ref: Reference, stored: StoredResolution, ctx: Pick<TagCheckContext, 'progress' | 'now'>): void {
  const ago = ageSince(stored.unreachableAt ?? ctx.now(), ctx);
  warnStale(`Cannot check image "${formatReference(ref)}": its registry could not be reached ${ago} ago`, stored, ctx);
}

function warnStale(problem: string, stored: StoredResolution, ctx: Pick<TagCheckContext, 'progress' | 'now'>): void {
  const age = ageSince(stored.resolvedAt, ctx);
  ctx.progress.emit({ type: 'warning', message: `${problem}; using its resolution from ${age} ago (${stored.image.digest})`, time: Date.now() });
}

/** ageSince renders how long ago `at` was on the check's clock (never negative). */
function ageSince(at: number, ctx: Pick<TagCheckContext, 'now'>): string {
  return formatAge(Math.max(0, ctx.now() - at));
}

/** isUnreachable tells a registry that could not answer (connection, DNS, 5xx, 429) from one that refused (auth, 404). */
export function isUnreachable(err: unknown): boolean {
  if (!(err instanceof RegistryError) || err.code !== 'REGISTRY') return false;
  return err.status === undefined || err.status >= 500 || err.status === 429;
}

/** formatAge renders a duration in its two largest units: `45s`, `3m20s`, `5h12m`, `2d3h`. */
export function formatAge(ms: number): string {
  const units: readonly (readonly [string, number])[] = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]];
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 || parts.length > 0) parts.push(`${n}${unit}`);
    if (parts.length === 2) break;
  }
  if (parts.length === 0) return ms < 1000 && ms > 0 ? `${ms}ms` : '0s';
  return parts[1]?.startsWith('0') === true ? (parts[0] ?? '') : parts.join('');
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
