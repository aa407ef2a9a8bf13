import type { Platform } from '../base/oci.js';
import type { RootDescriptor } from '../controller/index.js';
import { ATTESTATION, CONTEXT_SOURCE } from './attestation-msg.js';
import { RUN_SETTINGS } from './run-settings-msg.js';
import { enumType, message, oneofMessage, type MessageOf } from './wire-schema.js';

// The messages of the Build call, each declared once; proto/tbuild.proto documents every field.

/** PLATFORM is an OCI platform (os '' = the server's own). */
export const PLATFORM = message('Platform', {
  os: { no: 1, type: 'string' },
  architecture: { no: 2, type: 'string' },
  variant: { no: 3, type: 'string' },
});

/** OUTPUT is one output, without its client-side destination (compressionLevel -1 when unset). */
export const OUTPUT = message('Output', {
  type: { no: 1, type: 'string' },
  names: { no: 2, type: 'string', repeated: true },
  push: { no: 3, type: 'bool' },
  compression: { no: 4, type: 'string' },
  compressionLevel: { no: 5, type: 'int32' },
  forceCompression: { no: 6, type: 'bool' },
  manifestAnnotations: { no: 7, type: 'map' },
  indexAnnotations: { no: 8, type: 'map' },
  rewriteTimestamp: { no: 9, type: 'bool' },
  sourceDateEpoch: { no: 10, type: 'string' },
  noSourceDateEpoch: { no: 11, type: 'bool' },
  noOciArtifact: { no: 12, type: 'bool' },
  attestationReferrers: { no: 13, type: 'bool' },
  // platform-split of a local or tar output: true, false, or empty when not given.
  platformSplit: { no: 14, type: 'string' },
  dockerMediaTypes: { no: 15, type: 'bool' },
});

/** CACHE_IMPORT is one `--cache-from` the server loads itself (type registry). */
export const CACHE_IMPORT = message('CacheImport', { type: { no: 1, type: 'string' }, ref: { no: 2, type: 'string' } });

/** CACHE_EXPORT is one `--cache-to` the server writes itself (type registry or inline). */
export const CACHE_EXPORT = message('CacheExport', {
  type: { no: 1, type: 'string' },
  ref: { no: 2, type: 'string' },
  mode: { no: 3, type: 'string' },
  compression: { no: 4, type: 'string' },
  imageManifest: { no: 5, type: 'bool' },
  dockerMediaTypes: { no: 6, type: 'bool' },
  ignoreError: { no: 7, type: 'bool' },
});

const NAMED_IMAGE = message('NamedImage', { name: { no: 1, type: 'string' }, ref: { no: 2, type: 'string' } });
const NAMED_URL = message('NamedUrl', { name: { no: 1, type: 'string' }, url: { no: 2, type: 'string' } });
const NAMED_LAYOUT = message('NamedLayout', { name: { no: 1, type: 'string' }, tag: { no: 2, type: 'string' }, digest: { no: 3, type: 'string' } });

/** BUILD_START is the first client message of a Build call. */
export const BUILD_START = message('BuildStart', {
  clientId: { no: 1, type: 'string' },
  contextKey: { no: 2, type: 'string' },
  dockerfileName: { no: 3, type: 'string' },
  dockerfile: { no: 4, type: 'bytes' },
  dockerignore: { no: 5, type: 'string' },
  buildArgs: { no: 6, type: 'map' },
  target: { no: 7, type: 'string' },
  platform: { no: 8, type: PLATFORM },
  outputs: { no: 9, type: OUTPUT, repeated: true },
  noCache: { no: 10, type: 'bool' },
  noCacheFilter: { no: 11, type: 'string', repeated: true },
  pull: { no: 12, type: 'bool' },
  network: { no: 13, type: 'string' },
  allow: { no: 14, type: 'string', repeated: true },
  imageContexts: { no: 15, type: NAMED_IMAGE, repeated: true },
  check: { no: 16, type: 'bool' },
  print: { no: 17, type: 'string' },
  cacheFrom: { no: 18, type: CACHE_IMPORT, repeated: true },
  cacheTo: { no: 19, type: CACHE_EXPORT, repeated: true },
  secretIds: { no: 20, type: 'string', repeated: true },
  sshIds: { no: 21, type: 'string', repeated: true },
  labels: { no: 22, type: 'map' },
  run: { no: 23, type: RUN_SETTINGS },
  contextSourceDate: { no: 24, type: 'string' },
  urlContexts: { no: 25, type: NAMED_URL, repeated: true },
  attestations: { no: 26, type: ATTESTATION, repeated: true },
  contextSource: { no: 27, type: CONTEXT_SOURCE },
  platforms: { no: 28, type: PLATFORM, repeated: true },
  vcs: { no: 29, type: 'map' },
  metadataProvenance: { no: 30, type: 'string' },
  explain: { no: 31, type: 'bool' },
  layoutContexts: { no: 32, type: NAMED_LAYOUT, repeated: true },
  projectKey: { no: 33, type: 'string' },
  credentials: { no: 34, type: 'bool' },
});

const MANIFEST_ENTRY = message('ManifestEntry', {
  path: { no: 1, type: 'string' },
  kind: { no: 2, type: enumType('EntryKind', ['FILE', 'DIR', 'SYMLINK']) },
  mode: { no: 3, type: 'uint32' },
  size: { no: 4, type: 'uint64' },
  mtimeMs: { no: 5, type: 'double' },
  sha256: { no: 6, type: 'string' },
  linkTarget: { no: 7, type: 'string' },
});

const SECRET_RESPONSE = message('SecretResponse', { id: { no: 1, type: 'string' }, value: { no: 2, type: 'bytes' }, found: { no: 3, type: 'bool' } });
const CREDENTIALS_RESPONSE = message('CredentialsResponse', {
  host: { no: 1, type: 'string' },
  found: { no: 2, type: 'bool' },
  username: { no: 3, type: 'string' },
  password: { no: 4, type: 'string' },
  identityToken: { no: 5, type: 'string' },
  error: { no: 6, type: 'string' },
});
const SSH_DATA = message('SshData', { conn: { no: 1, type: 'uint32' }, data: { no: 2, type: 'bytes' } });
const SSH_CLOSE = message('SshClose', { conn: { no: 1, type: 'uint32' } });
const BLOB_CHUNK = message('BlobChunk', { id: { no: 1, type: 'uint32' }, data: { no: 2, type: 'bytes' }, eof: { no: 3, type: 'bool' }, error: { no: 4, type: 'string' } });
const BLOB_REQUEST = message('BlobRequest', { id: { no: 1, type: 'uint32' }, layout: { no: 2, type: 'string' }, digest: { no: 3, type: 'string' } });

/** BUILD_CLIENT_MESSAGE is one message the client sends on a Build call. */
export const BUILD_CLIENT_MESSAGE = oneofMessage('BuildClientMessage', {
  start: { no: 1, type: BUILD_START },
  manifest: { no: 2, type: message('ManifestBatch', { entries: { no: 1, type: MANIFEST_ENTRY, repeated: true }, last: { no: 2, type: 'bool' } }) },
  file: { no: 3, type: message('FileChunk', { index: { no: 1, type: 'uint32' }, data: { no: 2, type: 'bytes' }, eof: { no: 3, type: 'bool' } }) },
  secret: { no: 4, type: SECRET_RESPONSE },
  sshData: { no: 5, type: SSH_DATA },
  sshClose: { no: 6, type: SSH_CLOSE },
  blob: { no: 7, type: BLOB_CHUNK },
  credentials: { no: 8, type: CREDENTIALS_RESPONSE },
});

const CONTEXT_STATS = message('ContextStats', {
  entries: { no: 1, type: 'uint64' },
  filesSent: { no: 2, type: 'uint64' },
  bytesSent: { no: 3, type: 'uint64' },
  bytesTotal: { no: 4, type: 'uint64' },
  removed: { no: 5, type: 'uint64' },
});

/** ROOT_DESCRIPTOR is the media type, digest and size of an image index or manifest, and a manifest's platform. */
const ROOT_DESCRIPTOR = message('RootDescriptor', {
  mediaType: { no: 1, type: 'string' },
  digest: { no: 2, type: 'string' },
  size: { no: 3, type: 'int64' },
  platform: { no: 4, type: PLATFORM },
});

const BUILD_RESULT = message('BuildResult', {
  imageId: { no: 1, type: 'string' },
  manifestDigest: { no: 2, type: 'string' },
  pushedDigest: { no: 3, type: 'string' },
  names: { no: 4, type: 'string', repeated: true },
  warnings: { no: 5, type: 'string', repeated: true },
  context: { no: 6, type: CONTEXT_STATS },
  printed: { no: 7, type: 'string' },
  checkFailed: { no: 8, type: 'bool' },
  descriptor: { no: 9, type: ROOT_DESCRIPTOR },
  provenance: { no: 10, type: message('MetadataProvenance', { platform: { no: 1, type: 'string' }, json: { no: 2, type: 'string' } }), repeated: true },
});

/** BUILD_SERVER_MESSAGE is one message the server sends on a Build call. */
export const BUILD_SERVER_MESSAGE = oneofMessage('BuildServerMessage', {
  accepted: { no: 1, type: message('BuildAccepted', { buildId: { no: 1, type: 'string' } }) },
  want: { no: 2, type: message('FileWants', { indices: { no: 1, type: 'uint32', repeated: true }, last: { no: 2, type: 'bool' } }) },
  progress: { no: 3, type: 'string' },
  output: { no: 4, type: message('OutputChunk', { output: { no: 1, type: 'uint32' }, data: { no: 2, type: 'bytes' }, eof: { no: 3, type: 'bool' } }) },
  result: { no: 5, type: BUILD_RESULT },
  secretRequest: { no: 6, type: message('SecretRequest', { id: { no: 1, type: 'string' } }) },
  sshOpen: { no: 7, type: message('SshOpen', { conn: { no: 1, type: 'uint32' }, id: { no: 2, type: 'string' } }) },
  sshData: { no: 8, type: SSH_DATA },
  sshClose: { no: 9, type: SSH_CLOSE },
  blobRequest: { no: 10, type: BLOB_REQUEST },
  credentialsRequest: { no: 11, type: message('CredentialsRequest', { host: { no: 1, type: 'string' } }) },
});

/** PlatformMsg is the wire form of an OCI platform (os '' = the server's own). */
export type PlatformMsg = MessageOf<typeof PLATFORM>;
/** OutputMsg is the wire form of one output, without its client-side destination. */
export type OutputMsg = MessageOf<typeof OUTPUT>;
/** CacheImportMsg is one `--cache-from` the server loads itself. */
export type CacheImportMsg = MessageOf<typeof CACHE_IMPORT>;
/** CacheExportMsg is one `--cache-to` the server writes itself. */
export type CacheExportMsg = MessageOf<typeof CACHE_EXPORT>;
/** SecretResponseMsg answers a secret request: the value, or found false. */
export type SecretResponseMsg = MessageOf<typeof SECRET_RESPONSE>;
/** CredentialsResponseMsg answers a credentials request: the client's credentials for the host, none, or why it cannot tell. */
export type CredentialsResponseMsg = MessageOf<typeof CREDENTIALS_RESPONSE>;
/** SshDataMsg carries bytes of one SSH agent tunnel, in either direction. */
export type SshDataMsg = MessageOf<typeof SSH_DATA>;
/** BlobChunkMsg carries bytes of a blob of the client's OCI layout the server asked for, or why it cannot be read. */
export type BlobChunkMsg = MessageOf<typeof BLOB_CHUNK>;
/** BlobRequestMsg asks the client for one blob of one of its OCI layout contexts. */
export type BlobRequestMsg = MessageOf<typeof BLOB_REQUEST>;
/** BuildStartMsg is the first client message of a Build call. */
export type BuildStartMsg = MessageOf<typeof BUILD_START>;
/** ManifestEntryMsg describes one context entry. */
export type ManifestEntryMsg = MessageOf<typeof MANIFEST_ENTRY>;
/** EntryKindName is the type of a context entry on the wire. */
export type EntryKindName = ManifestEntryMsg['kind'];
/** ContextStatsMsg counts what a context transfer moved. */
export type ContextStatsMsg = MessageOf<typeof CONTEXT_STATS>;
/** BuildResultMsg is the final server message of a successful build. */
export type BuildResultMsg = MessageOf<typeof BUILD_RESULT>;
/** ClientMessage is one message the client sends on a Build call. */
export type ClientMessage = MessageOf<typeof BUILD_CLIENT_MESSAGE>;
/** ServerMessage is one message the server sends on a Build call. */
export type ServerMessage = MessageOf<typeof BUILD_SERVER_MESSAGE>;

/** platformMsg is a platform's wire form. */
export function platformMsg(p: Platform): PlatformMsg {
  return { os: p.os, architecture: p.architecture, variant: p.variant ?? '' };
}

/** platformFromMsg reads a platform's wire form (no variant: '' on the wire). */
export function platformFromMsg(p: PlatformMsg): Platform {
  return p.variant === '' ? { os: p.os, architecture: p.architecture } : { ...p };
}

/** RootDescriptorMsg is the wire form of the descriptor of an image's top object. */
export type RootDescriptorMsg = MessageOf<typeof ROOT_DESCRIPTOR>;

/** rootDescriptorMsg puts the descriptor of an image's top object on the wire. */
export function rootDescriptorMsg(d: RootDescriptor | undefined): RootDescriptorMsg | undefined {
  return d === undefined ? undefined : { mediaType: d.mediaType, digest: d.digest, size: d.size, platform: d.platform === undefined ? undefined : platformMsg(d.platform) };
}

/** rootDescriptorOf reads the descriptor of an image's top object back from the wire, if the result has one. */
export function rootDescriptorOf(m: RootDescriptorMsg | undefined): { readonly descriptor?: RootDescriptor } {
  if (m === undefined) return {};
  const platform = m.platform === undefined || m.platform.os === '' ? undefined : platformFromMsg(m.platform);
  return { descriptor: { mediaType: m.mediaType, digest: m.digest, size: m.size, ...(platform === undefined ? {} : { platform }) } };
}

/** isClientMessage tells whether a value is an already decoded ClientMessage. */
export function isClientMessage(v: unknown): v is ClientMessage {
  if (typeof v !== 'object' || v === null || !('kind' in v)) return false;
  return Object.keys(BUILD_CLIENT_MESSAGE.oneof).some((k) => k === v.kind);
}

/** isServerMessage tells whether a value is an already decoded ServerMessage. */
export function isServerMessage(v: unknown): v is ServerMessage {
  if (typeof v !== 'object' || v === null || !('kind' in v)) return false;
  return Object.keys(BUILD_SERVER_MESSAGE.oneof).some((k) => k === v.kind);
}
