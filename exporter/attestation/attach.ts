import { digestOf } from '../../base/digest.js';
import { MEDIA_TYPES, type Descriptor, type Platform } from '../../base/oci.js';
import type { ContentIngester } from '../../cache/index.js';
import type { BuiltImage } from '../image.js';
import { IN_TOTO_MEDIA_TYPE, PREDICATE_TYPE_ANNOTATION, type Statement } from './statement.js';

/** ATTESTATION_ARTIFACT_TYPE is the artifactType of an attestation manifest in OCI artifact form. */
export const ATTESTATION_ARTIFACT_TYPE = 'application/vnd.docker.attestation.manifest.v1+json';
/** REFERENCE_TYPE_ANNOTATION marks an index entry as an attestation manifest (its value is ATTESTATION_REFERENCE_TYPE). */
export const REFERENCE_TYPE_ANNOTATION = 'vnd.docker.reference.type';
/** REFERENCE_DIGEST_ANNOTATION names the image manifest an attestation manifest is about. */
export const REFERENCE_DIGEST_ANNOTATION = 'vnd.docker.reference.digest';
/** ATTESTATION_REFERENCE_TYPE is the value of REFERENCE_TYPE_ANNOTATION for attestation manifests. */
export const ATTESTATION_REFERENCE_TYPE = 'attestation-manifest';
/** UNKNOWN_PLATFORM keeps runtimes from picking an attestation manifest as an image. */
export const UNKNOWN_PLATFORM: Platform = { architecture: 'unknown', os: 'unknown' };
/** EMPTY_JSON_MEDIA_TYPE is the OCI empty descriptor's media type, the config of an OCI artifact without one. */
export const EMPTY_JSON_MEDIA_TYPE = 'application/vnd.oci.empty.v1+json';

/** StoredBlob is a blob written to the content store, with its descriptor. */
export interface StoredBlob {
  readonly descriptor: Descriptor;
  readonly bytes: Uint8Array;
}

/**
 * AttestationManifest is the stored attestation manifest of one image: its descriptor carries the reference
 * annotations and the unknown platform, as an image index lists it.
 */
export interface AttestationManifest extends StoredBlob {
  readonly config: StoredBlob;
  readonly layers: readonly StoredBlob[];
  /** The manifest names its image as subject (OCI artifact form), so it can be listed as a referrer. */
  readonly subject: boolean;
  /** A push also lists the manifest as a referrer of its image (`attestation-referrers=true`). */
  readonly referrers: boolean;
}

/** AttestedImage is an image with its attestation manifest, both listed by an image index; every blob is stored. */
export interface AttestedImage {
  readonly image: BuiltImage;
  readonly attestation: AttestationManifest;
  /** The image index listing the image manifest (with its platform) and then the attestation manifest. */
  readonly index: StoredBlob;
}

/** AttachOptions control the attestation manifest's form and where its blobs go. */
export interface AttachOptions {
  /**
   * OCI artifact form (BuildKit's default, `oci-artifact=true`): the empty config, an artifactType and a subject naming
   * the image manifest, so registries with the referrers API list it. false: an image config of platform unknown/unknown.
   */
  readonly ociArtifact: boolean;
  /** Annotations of the image index (`annotation-index.KEY`). */
  readonly indexAnnotations?: Readonly<Record<string, string>>;
  /** A push also lists the attestation manifest as a referrer of the image (needs the OCI artifact form). */
  readonly referrers?: boolean;
  readonly store: ContentIngester;
  readonly signal: AbortSignal;
}

/** BuildKit writes manifests and indexes with Go's json.MarshalIndent; members go in its struct order. */
function indented(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value, null, 2));
}

/** goPlatform orders a platform's members as Go's ocispec Platform does. */
function goPlatform(p: Platform): Platform {
  const { architecture, os, ...rest } = p;
  return { architecture, os, ...rest };
}

async function store(bytes: Uint8Array, mediaType: string, o: Pick<AttachOptions, 'store' | 'signal'>): Promise<StoredBlob> {
  const digest = digestOf(bytes);
  await o.store.writeBlob(bytes, { digest, size: bytes.length }, { signal: o.signal });
  return { bytes, descriptor: { mediaType, digest, size: bytes.length } };
}

function attestationConfig(layers: readonly StoredBlob[]): Buffer {
  const config = { architecture: UNKNOWN_PLATFORM.architecture, os: UNKNOWN_PLATFORM.os, config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.descriptor.digest) } };
  return Buffer.from(JSON.stringify(config));
}

/**
 * writeAttestationManifest stores the statements as the layers of an attestation manifest about `image`, each
 * annotated with its predicate type, as BuildKit's image exporter writes them.
 */
export async function writeAttestationManifest(image: BuiltImage, statements: readonly Statement[], o: Omit<AttachOptions, 'indexAnnotations'>): Promise<AttestationManifest> {
  const layers: StoredBlob[] = [];
  for (const statement of statements) {
    const blob = await store(Buffer.from(JSON.stringify(statement)), IN_TOTO_MEDIA_TYPE, o);
    layers.push({ ...blob, descriptor: { ...blob.descriptor, annotations: { [PREDICATE_TYPE_ANNOTATION]: statement.predicateType } } });
  }
  const config = o.ociArtifact ? await store(Buffer.from('{}'), EMPTY_JSON_MEDIA_TYPE, o) : await store(attestationConfig(layers), MEDIA_TYPES.ociConfig, o);
  const { mediaType: subjectType, digest: subjectDigest, size: subjectSize } = image.manifestDescriptor;
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    ...(o.ociArtifact ? { artifactType: ATTESTATION_ARTIFACT_TYPE } : {}),
    config: o.ociArtifact ? { ...config.descriptor, data: Buffer.from(config.bytes).toString('base64') } : config.descriptor,
    layers: layers.map((l) => l.descriptor),
    ...(o.ociArtifact ? { subject: { mediaType: subjectType, digest: subjectDigest, size: subjectSize } } : {}),
  };
  const stored = await store(indented(manifest), MEDIA_TYPES.ociManifest, o);
  return {
    ...stored,
    descriptor: {
      ...stored.descriptor,
      annotations: { [REFERENCE_DIGEST_ANNOTATION]: subjectDigest, [REFERENCE_TYPE_ANNOTATION]: ATTESTATION_REFERENCE_TYPE },
      platform: UNKNOWN_PLATFORM,
    },
    config,
    layers,
    subject: o.ociArtifact,
    referrers: o.referrers === true,
  };
}

/**
 * indexEntries lists images and their attestation manifests as BuildKit's image index does: every image manifest with
 * its platform, then the attestation manifests.
 */
export function indexEntries(images: readonly BuiltImage[], attestations: readonly (AttestationManifest | undefined)[]): Descriptor[] {
  const entries: Descriptor[] = images.map((image) => {
    const { mediaType, digest, size, platform } = image.manifestDescriptor;
    return { mediaType, digest, size, ...(platform === undefined ? {} : { platform: goPlatform(platform) }) };
  });
  for (const a of attestations) if (a !== undefined) entries.push(a.descriptor);
  return entries;
}

/** attestedIndex stores the image index of one image and its attestation manifest. */
export async function attestedIndex(image: BuiltImage, attestation: AttestationManifest, o: Pick<AttachOptions, 'indexAnnotations' | 'store' | 'signal'>): Promise<AttestedImage> {
  const annotations = o.indexAnnotations === undefined || Object.keys(o.indexAnnotations).length === 0 ? {} : { annotations: { ...o.indexAnnotations } };
  const index = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: indexEntries([image], [attestation]), ...annotations };
  return { image, attestation, index: await store(indented(index), MEDIA_TYPES.ociIndex, o) };
}

/**
 * attachAttestations stores the attestation manifest of `image` and an image index listing the image and then the
 * attestation manifest.
 */
export async function attachAttestations(image: BuiltImage, statements: readonly Statement[], o: AttachOptions): Promise<AttestedImage> {
  return attestedIndex(image, await writeAttestationManifest(image, statements, o), o);
}
