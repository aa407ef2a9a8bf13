import { InternalError } from '../base/errors.js';
import type { PruneOptions, UsageRecord } from '../controller/index.js';
import { PLATFORM } from './messages.js';
import { message, type MessageOf } from './wire-schema.js';

// The messages of the calls besides Build, each declared once; proto/tbuild.proto documents every field.

/** BUILD_INFO is the state of one build on the server. */
export const BUILD_INFO = message('BuildInfo', {
  buildId: { no: 1, type: 'string' },
  clientId: { no: 2, type: 'string' },
  state: { no: 3, type: 'string' },
  createdMs: { no: 4, type: 'double' },
  finishedMs: { no: 5, type: 'double' },
  error: { no: 6, type: 'string' },
  /** The tenant the build came from. */
  tenant: { no: 7, type: 'string' },
});

/** INFO_RESPONSE describes a server. */
export const INFO_RESPONSE = message('InfoResponse', {
  version: { no: 1, type: 'string' },
  root: { no: 2, type: 'string' },
  platform: { no: 3, type: PLATFORM },
  maxParallelBuilds: { no: 4, type: 'uint32' },
  running: { no: 5, type: 'uint32' },
  queued: { no: 6, type: 'uint32' },
  addresses: { no: 7, type: 'string', repeated: true },
  uptimeMs: { no: 8, type: 'double' },
  /** The platforms the server builds (`linux/amd64`, `linux/arm64`, …). */
  platforms: { no: 9, type: 'string', repeated: true },
  /** The calling tenant, its builds admitted and waiting, and its limits (max-builds 0 and max-queued -1: none). */
  tenant: { no: 20, type: 'string' },
  tenantRunning: { no: 21, type: 'uint32' },
  tenantQueued: { no: 22, type: 'uint32' },
  tenantMaxBuilds: { no: 23, type: 'uint32' },
  tenantMaxQueued: { no: 24, type: 'int32' },
});

/** PRUNE_REQUEST carries the `tbuild prune` options; negative numbers are unset. */
export const PRUNE_REQUEST = message('PruneRequest', { all: { no: 1, type: 'bool' }, keepDurationMs: { no: 4, type: 'double' }, keepBytes: { no: 5, type: 'double' } });

/** PRUNE_RESPONSE says what a prune removed. */
export const PRUNE_RESPONSE = message('PruneResponse', {
  records: { no: 2, type: 'uint32' },
  snapshots: { no: 3, type: 'uint32' },
  blobs: { no: 4, type: 'uint32' },
  bytes: { no: 5, type: 'double' },
});

/** USAGE_RECORD is one cache record of `tbuild du` (snapshotId empty when the record has none). */
export const USAGE_RECORD = message('UsageRecord', {
  type: { no: 1, type: 'string' },
  key: { no: 2, type: 'string' },
  snapshotId: { no: 3, type: 'string' },
  size: { no: 4, type: 'double' },
  shared: { no: 5, type: 'bool' },
  lastUsedMs: { no: 6, type: 'double' },
  createdMs: { no: 7, type: 'double' },
  description: { no: 8, type: 'string' },
  inUse: { no: 9, type: 'bool' },
});

/** ADMIN_MESSAGES are the requests and responses of the calls besides Build. */
export const ADMIN_MESSAGES = {
  statusRequest: message('StatusRequest', { buildId: { no: 1, type: 'string' } }),
  listBuildsRequest: message('ListBuildsRequest', {}),
  listBuildsResponse: message('ListBuildsResponse', { builds: { no: 1, type: BUILD_INFO, repeated: true } }),
  cancelRequest: message('CancelRequest', { buildId: { no: 1, type: 'string' } }),
  cancelResponse: message('CancelResponse', { cancelled: { no: 1, type: 'bool' } }),
  diskUsageRequest: message('DiskUsageRequest', { verbose: { no: 1, type: 'bool' } }),
  diskUsageResponse: message('DiskUsageResponse', { records: { no: 2, type: USAGE_RECORD, repeated: true } }),
  infoRequest: message('InfoRequest', {}),
  healthRequest: message('HealthRequest', {}),
  healthResponse: message('HealthResponse', { status: { no: 1, type: 'string' } }),
} as const;

/** BuildInfoMsg is the state of one build on the server. */
export type BuildInfoMsg = MessageOf<typeof BUILD_INFO>;
/** InfoMsg describes a server. */
export type InfoMsg = MessageOf<typeof INFO_RESPONSE>;
/** PruneMsg carries the `tbuild prune` options; negative numbers are unset. */
export type PruneMsg = MessageOf<typeof PRUNE_REQUEST>;
/** PruneReportMsg says what a prune removed. */
export type PruneReportMsg = MessageOf<typeof PRUNE_RESPONSE>;
/** UsageRecordMsg is one cache record of `tbuild du`. */
export type UsageRecordMsg = MessageOf<typeof USAGE_RECORD>;

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
