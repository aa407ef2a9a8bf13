import type { Platform } from '../base/oci.js';
import type { MetadataProvenance, RootDescriptor } from '../controller/index.js';
import { InternalError } from '../base/errors.js';
import { runSettingsFromWire, type RunSettingsMsg } from './run-settings-msg.js';
import { Fields } from './wire-fields.js';
import { attestationsFromWire, contextSourceFromWire, type AttestationMsg, type ContextSourceMsg } from './attestation-msg.js';

/** PlatformMsg is the wire form of an OCI platform (os '' = the server's own). */
export interface PlatformMsg {
  readonly os: string;
  readonly architecture: string;
  readonly variant: string;
}

/** OutputMsg is the wire form of one output, without its client-side destination. */
export interface OutputMsg {
  readonly type: string;
  readonly names: readonly string[];
  readonly push: boolean;
  readonly compression: string;
  /** -1 when unset. */
  readonly compressionLevel: number;
  readonly forceCompression: boolean;
  readonly manifestAnnotations: Readonly<Record<string, string>>;
  readonly indexAnnotations: Readonly<Record<string, string>>;
  readonly rewriteTimestamp: boolean;
  /** Decimal seconds, or empty when the output names no epoch of its own. */
  readonly sourceDateEpoch: string;
  /** The output's `source-date-epoch` was given empty: no epoch. */
  readonly noSourceDateEpoch: boolean;
  /** `oci-artifact=false`: attestation manifests as images of an unknown platform. */
  readonly noOciArtifact: boolean;
  /** `attestation-referrers=true`. */
  readonly attestationReferrers: boolean;
}

/** CacheImportMsg is one `--cache-from` the server loads itself (type registry). */
export interface CacheImportMsg {
  readonly type: string;
  readonly ref: string;
}

/** CacheExportMsg is one `--cache-to` the server writes itself (type registry or inline). */
export interface CacheExportMsg {
  readonly type: string;
  readonly ref: string;
  readonly mode: string;
  readonly compression: string;
  readonly imageManifest: boolean;
  /** oci-mediatypes=false: Docker media types (false, the default, keeps OCI ones). */
  readonly dockerMediaTypes: boolean;
  readonly ignoreError: boolean;
}

/** SecretResponseMsg answers a secret request: the value, or found false. */
export interface SecretResponseMsg {
  readonly id: string;
  readonly value: Buffer;
  readonly found: boolean;
}

/** SshDataMsg carries bytes of one SSH agent tunnel, in either direction. */
export interface SshDataMsg {
  readonly conn: number;
  readonly data: Buffer;
}

/** BuildStartMsg is the first client message of a Build call. */
export interface BuildStartMsg {
  readonly clientId: string;
  readonly contextKey: string;
  readonly dockerfileName: string;
  readonly dockerfile: Buffer;
  readonly dockerignore: string;
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly target: string;
  readonly platform: PlatformMsg | undefined;
  readonly outputs: readonly OutputMsg[];
  readonly noCache: boolean;
  readonly noCacheFilter: readonly string[];
  readonly pull: boolean;
  readonly network: string;
  readonly allow: readonly string[];
  readonly imageContexts: readonly { readonly name: string; readonly ref: string }[];
  readonly check: boolean;
  readonly print: string;
  readonly cacheFrom: readonly CacheImportMsg[];
  readonly cacheTo: readonly CacheExportMsg[];
  /** Ids of the secrets the client serves on request; the client keeps its half of the call open while any is listed. */
  readonly secretIds: readonly string[];
  /** Ids of the SSH agents the client forwards on request; the client keeps its half of the call open while any is listed. */
  readonly sshIds: readonly string[];
  /** `--label` values set on the image config. */
  readonly labels: Readonly<Record<string, string>>;
  /** The git checkout of the client's context folder (source, revision, localdir:NAME), for the provenance. */
  readonly vcs: Readonly<Record<string, string>>;
  readonly run: RunSettingsMsg;
  /** Decimal seconds since 1970, or empty: when the context fetched from a URL was last changed. */
  readonly contextSourceDate: string;
  readonly urlContexts: readonly { readonly name: string; readonly url: string }[];
  readonly attestations: readonly AttestationMsg[];
  readonly contextSource: ContextSourceMsg | undefined;
  /** Several platforms built together into one image index; empty for one. */
  readonly platforms: readonly PlatformMsg[];
  /** The build's provenance for the client's metadata file: min, max, or empty for none. */
  readonly metadataProvenance: string;
}

/** EntryKindName is the type of a context entry on the wire. */
export type EntryKindName = 'FILE' | 'DIR' | 'SYMLINK';

/** ManifestEntryMsg describes one context entry. */
export interface ManifestEntryMsg {
  readonly path: string;
  readonly kind: EntryKindName;
  readonly mode: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly sha256: string;
  readonly linkTarget: string;
}

/** ContextStatsMsg counts what a context transfer moved. */
export interface ContextStatsMsg {
  readonly entries: number;
  readonly filesSent: number;
  readonly bytesSent: number;
  readonly bytesTotal: number;
  readonly removed: number;
}

/** BuildResultMsg is the final server message of a successful build. */
export interface BuildResultMsg {
  readonly imageId: string;
  readonly manifestDigest: string;
  readonly pushedDigest: string;
  readonly names: readonly string[];
  readonly warnings: readonly string[];
  readonly context: ContextStatsMsg | undefined;
  readonly printed: string;
  readonly checkFailed: boolean;
  readonly descriptor: RootDescriptor | undefined;
  readonly provenance: readonly MetadataProvenance[];
}

/** ClientMessage is one message the client sends on a Build call. */
export type ClientMessage =
  | { readonly kind: 'start'; readonly start: BuildStartMsg }
  | { readonly kind: 'manifest'; readonly manifest: { readonly entries: readonly ManifestEntryMsg[]; readonly last: boolean } }
  | { readonly kind: 'file'; readonly file: { readonly index: number; readonly data: Buffer; readonly eof: boolean } }
  | { readonly kind: 'secret'; readonly secret: SecretResponseMsg }
  | { readonly kind: 'sshData'; readonly sshData: SshDataMsg }
  | { readonly kind: 'sshClose'; readonly sshClose: { readonly conn: number } };

/** ServerMessage is one message the server sends on a Build call. */
export type ServerMessage =
  | { readonly kind: 'accepted'; readonly accepted: { readonly buildId: string } }
  | { readonly kind: 'want'; readonly want: { readonly indices: readonly number[]; readonly last: boolean } }
  | { readonly kind: 'progress'; readonly progress: string }
  | { readonly kind: 'output'; readonly output: { readonly output: number; readonly data: Buffer; readonly eof: boolean } }
  | { readonly kind: 'result'; readonly result: BuildResultMsg }
  | { readonly kind: 'secretRequest'; readonly secretRequest: { readonly id: string } }
  | { readonly kind: 'sshOpen'; readonly sshOpen: { readonly conn: number; readonly id: string } }
  | { readonly kind: 'sshData'; readonly sshData: SshDataMsg }
  | { readonly kind: 'sshClose'; readonly sshClose: { readonly conn: number } };

/** toWire turns a tagged message into the object protobuf encodes (the oneof field set). */
export function toWire(m: ClientMessage | ServerMessage): Record<string, unknown> {
  switch (m.kind) {
    case 'start':
      return { start: m.start };
    case 'manifest':
      return { manifest: m.manifest };
    case 'file':
      return { file: m.file };
    case 'secret':
      return { secret: m.secret };
    case 'accepted':
      return { accepted: m.accepted };
    case 'want':
      return { want: m.want };
    case 'progress':
      return { progress: m.progress };
    case 'output':
      return { output: m.output };
    case 'result':
      return { result: m.result };
    case 'secretRequest':
      return { secretRequest: m.secretRequest };
    case 'sshOpen':
      return { sshOpen: m.sshOpen };
    case 'sshData':
      return { sshData: m.sshData };
    case 'sshClose':
      return { sshClose: m.sshClose };
  }
}

/** platformMsg is a platform's wire form. */
export function platformMsg(p: Platform): PlatformMsg {
  return { os: p.os, architecture: p.architecture, variant: p.variant ?? '' };
}

/** platformFromMsg reads a platform's wire form (no variant: '' on the wire). */
export function platformFromMsg(p: PlatformMsg): Platform {
  return p.variant === '' ? { os: p.os, architecture: p.architecture } : { ...p };
}

function platformOf(f: Fields | undefined): PlatformMsg | undefined {
  if (f === undefined || f.str('os') === '') return undefined;
  return { os: f.str('os'), architecture: f.str('architecture'), variant: f.str('variant') };
}

function outputOf(v: unknown): OutputMsg {
  const f = new Fields(v, 'Output');
  return {
    type: f.str('type'),
    names: f.strings('names'),
    push: f.bool('push'),
    compression: f.str('compression'),
    compressionLevel: f.num('compressionLevel'),
    forceCompression: f.bool('forceCompression'),
    manifestAnnotations: Object.fromEntries(f.strMap('manifestAnnotations')),
    indexAnnotations: Object.fromEntries(f.strMap('indexAnnotations')),
    rewriteTimestamp: f.bool('rewriteTimestamp'),
    sourceDateEpoch: f.str('sourceDateEpoch'),
    noSourceDateEpoch: f.bool('noSourceDateEpoch'),
    noOciArtifact: f.bool('noOciArtifact'),
    attestationReferrers: f.bool('attestationReferrers'),
  };
}

function entryOf(v: unknown): ManifestEntryMsg {
  const f = new Fields(v, 'ManifestEntry');
  const kind = f.str('kind');
  if (kind !== 'FILE' && kind !== 'DIR' && kind !== 'SYMLINK') throw new InternalError(`Cannot decode ManifestEntry.kind "${kind}"`);
  return { path: f.str('path'), kind, mode: f.num('mode'), size: f.num('size'), mtimeMs: f.num('mtimeMs'), sha256: f.str('sha256'), linkTarget: f.str('linkTarget') };
}

function startOf(f: Fields): BuildStartMsg {
  return {
    clientId: f.str('clientId'),
    contextKey: f.str('contextKey'),
    dockerfileName: f.str('dockerfileName'),
    dockerfile: f.bytes('dockerfile'),
    dockerignore: f.str('dockerignore'),
    buildArgs: Object.fromEntries(f.strMap('buildArgs')),
    target: f.str('target'),
    platform: platformOf(f.sub('platform')),
    outputs: f.list('outputs').map(outputOf),
    noCache: f.bool('noCache'),
    noCacheFilter: f.strings('noCacheFilter'),
    pull: f.bool('pull'),
    network: f.str('network'),
    allow: f.strings('allow'),
    imageContexts: f.list('imageContexts').map((v) => {
      const n = new Fields(v, 'NamedImage');
      return { name: n.str('name'), ref: n.str('ref') };
    }),
    check: f.bool('check'),
    print: f.str('print'),
    cacheFrom: f.list('cacheFrom').map((v) => {
      const c = new Fields(v, 'CacheImport');
      return { type: c.str('type'), ref: c.str('ref') };
    }),
    cacheTo: f.list('cacheTo').map((v) => {
      const c = new Fields(v, 'CacheExport');
      return {
        type: c.str('type'),
        ref: c.str('ref'),
        mode: c.str('mode'),
        compression: c.str('compression'),
        imageManifest: c.bool('imageManifest'),
        dockerMediaTypes: c.bool('dockerMediaTypes'),
        ignoreError: c.bool('ignoreError'),
      };
    }),
    secretIds: f.strings('secretIds'),
    sshIds: f.strings('sshIds'),
    labels: Object.fromEntries(f.strMap('labels')),
    vcs: Object.fromEntries(f.strMap('vcs')),
    run: runSettingsFromWire(f.sub('run')),
    contextSourceDate: f.str('contextSourceDate'),
    urlContexts: f.list('urlContexts').map((v) => {
      const n = new Fields(v, 'NamedUrl');
      return { name: n.str('name'), url: n.str('url') };
    }),
    attestations: attestationsFromWire(f),
    platforms: f.list('platforms').flatMap((v) => platformOf(new Fields(v, 'Platform')) ?? []),
    contextSource: contextSourceFromWire(f.sub('contextSource')),
    metadataProvenance: f.str('metadataProvenance'),
  };
}

/** decodeClientMessage reads a decoded BuildClientMessage. */
export function decodeClientMessage(value: unknown): ClientMessage {
  const f = new Fields(value, 'BuildClientMessage');
  const sub = (name: string): Fields => f.sub(name) ?? new Fields({}, name);
  switch (f.str('msg')) {
    case 'start':
      return { kind: 'start', start: startOf(sub('start')) };
    case 'manifest': {
      const m = sub('manifest');
      return { kind: 'manifest', manifest: { entries: m.list('entries').map(entryOf), last: m.bool('last') } };
    }
    case 'file': {
      const m = sub('file');
      return { kind: 'file', file: { index: m.num('index'), data: m.bytes('data'), eof: m.bool('eof') } };
    }
    case 'secret': {
      const m = sub('secret');
      return { kind: 'secret', secret: { id: m.str('id'), value: m.bytes('value'), found: m.bool('found') } };
    }
    case 'sshData':
      return { kind: 'sshData', sshData: sshDataOf(sub('sshData')) };
    case 'sshClose':
      return { kind: 'sshClose', sshClose: { conn: sub('sshClose').num('conn') } };
    default:
      throw new InternalError('Cannot decode BuildClientMessage: no message set');
  }
}

function sshDataOf(f: Fields): SshDataMsg {
  return { conn: f.num('conn'), data: f.bytes('data') };
}

function descriptorOf(f: Fields | undefined): RootDescriptor | undefined {
  if (f === undefined) return undefined;
  const platform = platformOf(f.sub('platform'));
  return { mediaType: f.str('mediaType'), digest: f.str('digest'), size: f.num('size'), ...(platform === undefined ? {} : { platform: platformFromMsg(platform) }) };
}

function statsOf(f: Fields | undefined): ContextStatsMsg | undefined {
  if (f === undefined) return undefined;
  return { entries: f.num('entries'), filesSent: f.num('filesSent'), bytesSent: f.num('bytesSent'), bytesTotal: f.num('bytesTotal'), removed: f.num('removed') };
}

/** decodeServerMessage reads a decoded BuildServerMessage. */
export function decodeServerMessage(value: unknown): ServerMessage {
  const f = new Fields(value, 'BuildServerMessage');
  const sub = (name: string): Fields => f.sub(name) ?? new Fields({}, name);
  switch (f.str('msg')) {
    case 'accepted':
      return { kind: 'accepted', accepted: { buildId: sub('accepted').str('buildId') } };
    case 'want': {
      const m = sub('want');
      return { kind: 'want', want: { indices: m.list('indices').map((i) => new Fields({ i }, 'FileWants').num('i')), last: m.bool('last') } };
    }
    case 'progress':
      return { kind: 'progress', progress: f.str('progress') };
    case 'output': {
      const m = sub('output');
      return { kind: 'output', output: { output: m.num('output'), data: m.bytes('data'), eof: m.bool('eof') } };
    }
    case 'result': {
      const m = sub('result');
      const result = {
        imageId: m.str('imageId'),
        manifestDigest: m.str('manifestDigest'),
        pushedDigest: m.str('pushedDigest'),
        names: m.strings('names'),
        warnings: m.strings('warnings'),
        context: statsOf(m.sub('context')),
        printed: m.str('printed'),
        checkFailed: m.bool('checkFailed'),
        descriptor: descriptorOf(m.sub('descriptor')),
        provenance: m.list('provenance').map((v) => {
          const p = new Fields(v, 'MetadataProvenance');
          return { ...(p.str('platform') === '' ? {} : { platform: p.str('platform') }), json: p.str('json') };
        }),
      };
      return { kind: 'result', result };
    }
    case 'secretRequest':
      return { kind: 'secretRequest', secretRequest: { id: sub('secretRequest').str('id') } };
    case 'sshOpen': {
      const m = sub('sshOpen');
      return { kind: 'sshOpen', sshOpen: { conn: m.num('conn'), id: m.str('id') } };
    }
    case 'sshData':
      return { kind: 'sshData', sshData: sshDataOf(sub('sshData')) };
    case 'sshClose':
      return { kind: 'sshClose', sshClose: { conn: sub('sshClose').num('conn') } };
    default:
      throw new InternalError('Cannot decode BuildServerMessage: no message set');
  }
}

/** isClientMessage tells whether a value is an already decoded ClientMessage. */
export function isClientMessage(v: unknown): v is ClientMessage {
  if (typeof v !== 'object' || v === null || !('kind' in v)) return false;
  return ['start', 'manifest', 'file', 'secret', 'sshData', 'sshClose'].some((k) => k === v.kind);
}

/** isServerMessage tells whether a value is an already decoded ServerMessage. */
export function isServerMessage(v: unknown): v is ServerMessage {
  if (typeof v !== 'object' || v === null || !('kind' in v)) return false;
  return ['accepted', 'want', 'progress', 'output', 'result', 'secretRequest', 'sshOpen', 'sshData', 'sshClose'].some((k) => k === v.kind);
}
