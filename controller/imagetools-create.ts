import { mapLimit } from '../base/async.js';
import type { Digest } from '../base/digest.js';
import { RegistryError, UsageError } from '../base/errors.js';
import { NULL_PROGRESS, type ProgressSink } from '../base/progress.js';
import { normalizePlatform } from '../base/platform.js';
import { hostPlatform, type Platform } from '../base/oci.js';
import type { Reference } from '../registry/index.js';
import { formatReference } from '../registry/index.js';
import { combineSources, type CombinedIndex, type FetchedSource } from './imagetools-combine.js';
import { copyManifest } from './imagetools-copy.js';
import { filterPlatforms } from './imagetools-filter.js';
import { copyReferrers } from './imagetools-referrers.js';
import { parseDocument } from './imagetools-inspect.js';
import { IMAGE_MEDIA_TYPES, INDEX_MEDIA_TYPES, openImagetoolsRegistry, parseImageName, pinned, pushDocument, type ImagetoolsRegistry } from './imagetools-registry.js';
import { assignRepositories, descriptorFields, parseIndexAnnotations, parseIndexSource, type IndexEntry, type IndexSource } from './imagetools-sources.js';
import { reportStep } from './progress-step.js';
import { pushStatus } from './push-output.js';

/** CreateIndexRequest is one `tbuild imagetools create`. */
export interface CreateIndexRequest {
  /** Where the index goes: every tag gets it. */
  readonly tags: readonly string[];
  /** References, digests or descriptor JSON, in order (buildx puts the contents of `-f` files first). */
  readonly sources: readonly string[];
  /** Add the sources to the index the first tag names now. */
  readonly append?: boolean;
  /** Make the index, push nothing. */
  readonly dryRun?: boolean;
  /** Keep only these platforms' images (and their attestations, and entries without a platform); all when empty. */
  readonly platforms?: readonly Platform[];
  /** With a single image source, push an index of it (true, the default) or the image's manifest itself (false). */
  readonly preferIndex?: boolean;
  /** `index:KEY=VALUE`, `manifest-descriptor[PLATFORM]:KEY=VALUE`. */
  readonly annotations?: readonly string[];
  /** Settings file with registry mirrors, CAs and plain-HTTP hosts (none when undefined). */
  readonly registryConfigPath?: string;
  /** Folder of the caller's Docker config.json, whose credentials the registries get (none when undefined). */
  readonly dockerConfigDir?: string;
}

/** CreatedIndex is the index `imagetools create` made (and pushed unless it was a dry run). */
export interface CreatedIndex {
  readonly bytes: Uint8Array;
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  /** The tags that received it, normalized. */
  readonly pushed: readonly string[];
  /** The repositories of the tags (`registry/repository`), sorted: buildx's `image.name` metadata joins them. */
  readonly repositories: readonly string[];
}

const SOURCE_FETCHES = 4;
const ENTRY_COPIES = 3;
const SCHEMA1 = /^application\/vnd\.docker\.distribution\.manifest\.v1\+(?:prettyjws|json)$/;

/**
 * createImageIndex assembles an index of existing images and indexes as `docker buildx imagetools create` does, copies
 * what each tag's repository lacks (mounting blobs within a registry, so no layer is downloaded) and pushes it.
 */
export async function createImageIndex(request: CreateIndexRequest, io: { signal: AbortSignal; progress?: ProgressSink }): Promise<CreatedIndex> {
  if (request.sources.length === 0) throw new UsageError('Cannot create an index: no sources given');
  if (request.dryRun !== true && request.tags.length === 0) {
    throw new UsageError('Cannot push the index: no tag given', { hint: 'set --tag, or --dry-run to print the index' });
  }
  const tags = request.tags.map(parseImageName);
  const first = request.tags[0];
  const inputs = request.append === true && first !== undefined ? [first, ...request.sources] : request.sources;
  const sources = inputs.map(parseIndexSource);
  const annotations = parseIndexAnnotations(request.annotations ?? []);
  assignRepositories(tags, sources);
  await using registry = await openImagetoolsRegistry(request);
  const fetched = await mapLimit(sources, SOURCE_FETCHES, (s) => fetchSource(registry, s, io.signal));
  const combined = filterPlatforms(combineSources(fetched, annotations, request.preferIndex ?? true), request.platforms ?? []);
  const repositories = [...new Set(tags.map((t) => `${t.registry}/${t.repository}`))].sort();
  const result = { bytes: combined.bytes, mediaType: combined.mediaType, digest: combined.digest, size: combined.bytes.length, repositories };
  if (request.dryRun === true) return { ...result, pushed: [] };
  await pushIndex(registry, combined, tags, { signal: io.signal, progress: io.progress ?? NULL_PROGRESS });
  return { ...result, pushed: tags.map(formatReference) };
}

function sourceRef(s: IndexSource): Reference {
  // assignRepositories gave every source a repository.
  if (s.ref === undefined) throw new UsageError(`Cannot infer the repository of source "${s.input}"`);
  return s.ref;
}

/** fetchSource reads a source's document and completes its descriptor (an image's platform from its config when unsaid). */
async function fetchSource(registry: ImagetoolsRegistry, s: IndexSource, signal: AbortSignal): Promise<FetchedSource> {
  const ref = sourceRef(s);
  const doc = await registry.client.fetchManifest(s.given.digest === undefined ? ref : { ...ref, digest: s.given.digest }, { signal });
  if (s.given.size !== undefined && s.given.size !== doc.bytes.length) {
    throw new UsageError(`Cannot use source "${s.input}": its size ${s.given.size} differs from the registry's ${doc.bytes.length} for ${doc.digest}`);
  }
  const entry: IndexEntry = { mediaType: s.given.mediaType ?? doc.mediaType, digest: doc.digest, size: doc.bytes.length };
  if (s.given.annotations !== undefined && Object.keys(s.given.annotations).length > 0) entry.annotations = s.given.annotations;
  if (s.given.platform !== undefined) entry.platform = s.given.platform;
  if (SCHEMA1.test(entry.mediaType)) throw new UsageError(`Cannot use source "${s.input}": schema1 manifests are not allowed in manifest lists`);
  if (IMAGE_MEDIA_TYPES.has(entry.mediaType) && (entry.platform === undefined || entry.platform.os === '' || entry.platform.architecture === '')) {
    entry.platform = await platformFromConfig(registry, pinned(ref, doc.digest), entry, signal);
  }
  const children = INDEX_MEDIA_TYPES.has(entry.mediaType) ? childrenOf(ref, doc.bytes) : [];
  return { source: s, entry, bytes: doc.bytes, children };
}

/** platformFromConfig fills what a descriptor leaves out of its platform from the image config, as buildx does. */
async function platformFromConfig(registry: ImagetoolsRegistry, ref: Reference, entry: IndexEntry, signal: AbortSignal): Promise<NonNullable<IndexEntry['platform']>> {
  const { config } = await registry.client.resolveImage(ref, { platform: hostPlatform(), signal });
  const fromConfig = normalizePlatform({ os: config.os, architecture: config.architecture, ...(config.variant === undefined ? {} : { variant: config.variant }) });
  const given = entry.platform ?? { os: '', architecture: '' };
  const architecture = given.architecture === '' ? fromConfig.architecture : given.architecture;
  const variant = given.architecture === '' && (given.variant ?? '') === '' ? fromConfig.variant : given.variant;
  const { variant: _given, ...rest } = given;
  return { ...rest, os: given.os === '' ? fromConfig.os : given.os, architecture, ...(variant === undefined || variant === '' ? {} : { variant }) };
}

function childrenOf(ref: Reference, bytes: Uint8Array): IndexEntry[] {
  const doc = parseDocument(ref, bytes);
  const manifests: unknown[] = Array.isArray(doc['manifests']) ? doc['manifests'] : [];
  const invalid = (detail: string): RegistryError => new RegistryError(`Cannot read index "${formatReference(ref)}": ${detail}`, { ref: formatReference(ref) });
  return manifests.map((m) => {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) throw invalid('an entry is not a descriptor');
    const fields = descriptorFields(m, invalid);
    return { ...fields, mediaType: fields.mediaType ?? '', size: fields.size ?? 0 };
  });
}

/** pushIndex copies every entry into each tag's repository, then puts the index under the tags, one repository at a time. */
async function pushIndex(registry: ImagetoolsRegistry, combined: CombinedIndex, tags: readonly Reference[], o: { signal: AbortSignal; progress: ProgressSink }): Promise<void> {
  const byRepo = new Map<string, Reference[]>();
  for (const t of tags) {
    const repo = `${t.registry}/${t.repository}`;
    byRepo.set(repo, [...(byRepo.get(repo) ?? []), t]);
  }
  for (const [repo, repoTags] of byRepo) {
    const seed = repoTags[0];
    if (seed === undefined) continue;
    await reportStep(o.progress, `pushing ${repo}`, async (vertex) => {
      const log = (line: string): void => o.progress.emit({ type: 'vertex.log', vertex, stream: 'stderr', data: `${line}\n`, time: Date.now() });
      const onProgress = pushStatus({ sink: o.progress, vertex });
      await mapLimit(combined.entries, ENTRY_COPIES, async ({ entry, from }) => {
        log(`copying ${entry.digest} from ${formatReference(sourceRef(from.source))} to ${repo}`);
        await copyManifest(registry, sourceRef(from.source), entry.digest, seed, { signal: o.signal, onProgress });
        // Its attestations and signatures kept as referrers come along, as buildx copies them.
        const referrers = await copyReferrers(registry, sourceRef(from.source), entry.digest, seed, { signal: o.signal, onProgress });
        if (referrers > 0) log(`copied ${referrers} referrer${referrers === 1 ? '' : 's'} of ${entry.digest}`);
      });
      for (const t of repoTags) {
        log(`pushing ${combined.digest} to ${formatReference(t)}`);
        await pushDocument(registry, t, combined, { signal: o.signal });
      }
    });
  }
}
