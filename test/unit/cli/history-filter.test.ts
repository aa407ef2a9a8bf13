import { describe, expect, it } from 'vitest';
import type { HistoryRecord } from '../../../base/build-record.js';
import { UsageError } from '../../../base/errors.js';
import { matchRecords } from '../../../cli/history-filter.js';

const HOUR = 3600_000;

function record(ref: string, status: HistoryRecord['status'], agoMs: number, durationMs: number, target?: string): HistoryRecord {
  const createdAt = Date.now() - agoMs;
  return {
    version: 1,
    ref,
    clientId: '',
    pid: 1,
    status,
    createdAt,
    completedAt: status === 'running' ? 0 : createdAt + durationMs,
    request: {
      ...(target === undefined ? {} : { target }),
      platforms: [],
      buildArgs: {},
      outputs: [],
      noCache: false,
      noCacheFilter: [],
      dockerfileName: 'Dockerfile',
      dockerfileDigest: '',
      dockerfileText: '',
      context: '',
    },
    steps: [],
    warnings: [],
    keys: {},
    logFileBytes: 0,
  };
}

const RECORDS = [
  record('aaa111', 'completed', 0.5 * HOUR, 2000, 'app'),
  record('bbb222', 'failed', 3 * HOUR, 60_000),
  record('ccc333', 'cancelled', 30 * HOUR, 500, 'test'),
  record('ddd444', 'running', 0.1 * HOUR, 0),
];

const refs = (...filters: string[]): string[] => RECORDS.filter(matchRecords(filters)).map((r) => r.ref);

describe('history ls --filter', () => {
  it('matches status by the words buildx uses, target whole, ref by part', () => {
    expect(refs('status=error')).toEqual(['bbb222']);
    expect(refs('status=canceled')).toEqual(['ccc333']);
    expect(refs('status!=completed')).toEqual(['bbb222', 'ccc333', 'ddd444']);
    expect(refs('target=app')).toEqual(['aaa111']);
    expect(refs('ref=b22')).toEqual(['bbb222']);
  });

  it('compares start times with a duration ago and durations with a duration; every filter must match', () => {
    expect(refs('startedAt>2h')).toEqual(['aaa111', 'ddd444']);
    // startedAt<2h: started before two hours ago.
    expect(refs('startedAt<2h', 'status!=canceled')).toEqual(['bbb222']);
    expect(refs('duration>=1m')).toEqual(['bbb222']);
    expect(refs(`startedAt>${new Date(Date.now() - 4 * HOUR).toISOString()}`, 'duration<1s')).toEqual(['ddd444']);
  });

  it('refuses unknown keys and operators a key does not take', () => {
    expect(() => refs('name=x')).toThrow(UsageError);
    expect(() => refs('status<x')).toThrow(UsageError);
    expect(() => refs('duration=1s')).toThrow(UsageError);
    expect(() => refs('status')).toThrow(UsageError);
  });
});
