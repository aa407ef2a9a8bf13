import { InternalError } from '../base/errors.js';
import type { PruneOptions, UsageRecord } from '../controller/index.js';
import { Fields } from './wire-fields.js';
import type { PlatformMsg } from './messages.js';

/** BuildInfoMsg is the state of one build on the server. */
export interface BuildInfoMsg {
  readonly buildId: string;
  readonly clientId: string;
  readonly state: string;
  readonly createdMs: number;
  readonly finishedMs: number;
  readonly error: string;
}

/** InfoMsg describes a server. */
export interface InfoMsg {
  readonly version: string;
  readonly root: string;
  readonly platform: PlatformMsg;
  readonly maxParallelBuilds: number;
  readonly running: number;
  readonly queued: number;
  readonly addresses: readonly string[];
  readonly uptimeMs: number;
  /** The platforms the server builds (`linux/amd64`, `linux/arm64`, …). */
  readonly platforms: readonly string[];
}

/** PruneMsg carries the `tbuild prune` options; negative numbers are unset. */
export interface PruneMsg {
  readonly all: boolean;
  readonly keepDurationMs: number;
  readonly keepBytes: number;
}

/** PruneReportMsg says what a prune removed. */
export interface PruneReportMsg {
  readonly records: number;
  readonly snapshots: number;
  readonly blobs: number;
  readonly bytes: number;
}

/** UsageRecordMsg is one cache record of `tbuild du` (snapshotId empty when the record has none). */
export interface UsageRecordMsg {
  readonly type: string;
  readonly key: string;
  readonly snapshotId: string;
  readonly size: number;
  readonly shared: boolean;
  readonly lastUsedMs: number;
  readonly createdMs: number;
  readonly description: string;
  readonly inUse: boolean;
}

/** decodeBuildInfo reads a decoded BuildInfo. */
export function decodeBuildInfo(v: unknown): BuildInfoMsg {
  const f = new Fields(v, 'BuildInfo');
  return { buildId: f.str('buildId'), clientId: f.str('clientId'), state: f.str('state'), createdMs: f.num('createdMs'), finishedMs: f.num('finishedMs'), error: f.str('error') };
}

/** decodeInfo reads a decoded InfoResponse. */
export function decodeInfo(v: unknown): InfoMsg {
  const f = new Fields(v, 'InfoResponse');
  const p = f.sub('platform');
  return {
    version: f.str('version'),
    root: f.str('root'),
    platform: { os: p?.str('os') ?? '', architecture: p?.str('architecture') ?? '', variant: p?.str('variant') ?? '' },
    maxParallelBuilds: f.num('maxParallelBuilds'),
    running: f.num('running'),
    queued: f.num('queued'),
    addresses: f.strings('addresses'),
    uptimeMs: f.num('uptimeMs'),
    platforms: f.strings('platforms'),
  };
}

/** decodePrune reads a decoded PruneRequest. */
export function decodePrune(v: unknown): PruneMsg {
  const f = new Fields(v, 'PruneRequest');
  return { all: f.bool('all'), keepDurationMs: f.num('keepDurationMs'), keepBytes: f.num('keepBytes') };
}

/** decodePruneReport reads a decoded PruneResponse. */
export function decodePruneReport(v: unknown): PruneReportMsg {
  const f = new Fields(v, 'PruneResponse');
  return { records: f.num('records'), snapshots: f.num('snapshots'), blobs: f.num('blobs'), bytes: f.num('bytes') };
}

/** decodeUsage reads a decoded DiskUsageResponse. */
export function decodeUsage(v: unknown): { readonly records: UsageRecordMsg[] } {
  return {
    records: new Fields(v, 'DiskUsageResponse').list('records').map((r) => {
      const f = new Fields(r, 'UsageRecord');
      return {
        type: f.str('type'), key: f.str('key'), snapshotId: f.str('snapshotId'), size: f.num('size'), shared: f.bool('shared'),
        lastUsedMs: f.num('lastUsedMs'), createdMs: f.num('createdMs'), description: f.str('description'), inUse: f.bool('inUse'),
      };
    }),
  };
}

/** decodeEmpty reads a message without fields. */
export function decodeEmpty(v: unknown): Record<string, never> {
  new Fields(v, 'request');
  return {};
}

/** usageRecordMsg is the wire form of a cache record. */
export function usageRecordMsg(r: UsageRecord): UsageRecordMsg {
  return {
    type: r.type, key: r.key, snapshotId: r.snapshotId ?? '', size: r.size, shared: r.shared,
    lastUsedMs: r.lastUsedAt, createdMs: r.createdAt, description: r.description, inUse: r.inUse,
  };
}

/** usageRecordOf reads a cache record back from the wire. */
export function usageRecordOf(m: UsageRecordMsg): UsageRecord {
  if (m.type !== 'regular' && m.type !== 'exec.cachemount') throw new InternalError(`Cannot read cache record type "${m.type}"`);
  return {
    type: m.type, key: m.key, snapshotId: m.snapshotId === '' ? null : m.snapshotId, size: m.size, shared: m.shared,
    lastUsedAt: m.lastUsedMs, createdAt: m.createdMs, description: m.description, inUse: m.inUse,
  };
}

/** pruneMsg is the wire form of prune options. */
export function pruneMsg(o: PruneOptions): PruneMsg {
  return { all: o.all, keepDurationMs: o.keepDurationMs ?? -1, keepBytes: o.keepBytes ?? -1 };
}

/** pruneOptionsOf reads prune options back from the wire. */
export function pruneOptionsOf(m: PruneMsg): PruneOptions {
  return { all: m.all, ...(m.keepDurationMs < 0 ? {} : { keepDurationMs: m.keepDurationMs }), ...(m.keepBytes < 0 ? {} : { keepBytes: m.keepBytes }) };
}
