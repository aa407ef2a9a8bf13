import type { HistoryRecord } from '../base/build-record.js';
import { UsageError } from '../base/errors.js';
import { parseDuration } from '../base/units.js';

type Match = (r: HistoryRecord) => boolean;

const SEPARATORS = ['!=', '<=', '>=', '=', '<', '>'] as const;
type Separator = (typeof SEPARATORS)[number];

/**
 * matchRecords reads `history ls --filter` values as buildx does: `status`, `ref` (and tbuild's `target`) with = or
 * != ; `startedAt`, `completedAt` (a duration ago, or an RFC 3339 time) and `duration` with <, <=, >, >=. A record
 * is listed when it matches every filter.
 */
export function matchRecords(filters: readonly string[]): Match {
  const matches = filters.map(parseFilter);
  return (r) => matches.every((m) => m(r));
}

function parseFilter(filter: string): Match {
  const cut = cut3(filter);
  if (cut === undefined) throw new UsageError(`Cannot use filter "${filter}": expected KEY=VALUE, KEY!=VALUE or KEY<VALUE`);
  const [key, sep, value] = cut;
  switch (key) {
    case 'status':
    case 'ref':
    case 'target': {
      if (sep !== '=' && sep !== '!=') throw new UsageError(`Cannot use filter "${filter}": ${key} takes = or !=`);
      const of = (r: HistoryRecord): string => (key === 'status' ? statusWord(r) : key === 'ref' ? r.ref : (r.request.target ?? ''));
      // As buildx: status and target match whole, ref by substring; != never matches the value.
      const equal = (r: HistoryRecord): boolean => (key === 'ref' ? of(r).includes(value) : of(r) === value);
      return sep === '=' ? equal : (r) => of(r) !== value;
    }
    case 'startedAt':
    case 'completedAt':
    case 'duration': {
      if (sep === '=' || sep === '!=') throw new UsageError(`Cannot use filter "${filter}": ${key} takes <, <=, > or >=`);
      const limit = key === 'duration' ? parseDuration(value) : timeOf(value, filter);
      const of = (r: HistoryRecord): number => (key === 'startedAt' ? r.createdAt : key === 'completedAt' ? r.completedAt : r.completedAt === 0 ? 0 : r.completedAt - r.createdAt);
      return (r) => compare(of(r), sep, limit);
    }
    default:
      throw new UsageError(`Cannot use filter "${filter}": unsupported filter "${key}"`, { hint: 'filters: status, ref, target, startedAt, completedAt, duration' });
  }
}

/** statusWord is a record's status as filters name it (buildx: completed, error, canceled, running). */
function statusWord(r: HistoryRecord): string {
  switch (r.status) {
    case 'failed':
      return 'error';
    case 'cancelled':
      return 'canceled';
    default:
      return r.status;
  }
}

function cut3(filter: string): [string, Separator, string] | undefined {
  let best: [string, Separator, string] | undefined;
  let at = Number.POSITIVE_INFINITY;
  for (const sep of SEPARATORS) {
    const i = filter.indexOf(sep);
    if (i > 0 && i < at) {
      at = i;
      best = [filter.slice(0, i), sep, filter.slice(i + sep.length)];
    }
  }
  return best;
}

function timeOf(value: string, filter: string): number {
  if (/^\d/.test(value) && !value.includes('T')) return Date.now() - parseDuration(value);
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new UsageError(`Cannot use filter "${filter}": expected a duration (1h) or an RFC 3339 time`);
  return t;
}

function compare(a: number, sep: Separator, b: number): boolean {
  switch (sep) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    default:
      return false;
  }
}
