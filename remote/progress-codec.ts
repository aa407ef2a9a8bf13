import { digestOf } from '../base/digest.js';
import { InternalError } from '../base/errors.js';
import type { ProgressEvent } from '../base/progress.js';

const TYPES: readonly ProgressEvent['type'][] = ['vertex.planned', 'vertex.started', 'vertex.cached', 'vertex.completed', 'vertex.log', 'vertex.usage', 'vertex.explain', 'status', 'warning'];

function isCheckFinding(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const strings = ['rule' in v && v.rule, 'description' in v && v.description, 'detail' in v && v.detail];
  if (!strings.every((s) => typeof s === 'string')) return false;
  if ('url' in v && typeof v.url !== 'string') return false;
  if (!('location' in v)) return true;
  const l = v.location;
  return typeof l === 'object' && l !== null && 'file' in l && typeof l.file === 'string' && 'startLine' in l && typeof l.startLine === 'number' && 'endLine' in l && typeof l.endLine === 'number';
}

function isProgressEvent(v: unknown): v is ProgressEvent {
  if (typeof v !== 'object' || v === null || !('type' in v) || !('time' in v) || typeof v.time !== 'number') return false;
  const type = v.type;
  if (!TYPES.some((t) => t === type)) return false;
  if (type === 'warning') return 'message' in v && typeof v.message === 'string' && (!('finding' in v) || isCheckFinding(v.finding));
  if (!('vertex' in v) || typeof v.vertex !== 'string') return false;
  if (type === 'vertex.log') return 'data' in v && typeof v.data === 'string' && 'stream' in v && (v.stream === 'stdout' || v.stream === 'stderr');
  if (type === 'vertex.usage') return true;
  if (type === 'vertex.explain') return 'reasons' in v && Array.isArray(v.reasons) && v.reasons.every((r) => typeof r === 'string') && (!('comparedWith' in v) || typeof v.comparedWith === 'string');
  if (type === 'status') return 'id' in v && typeof v.id === 'string' && 'current' in v && typeof v.current === 'number';
  if (type === 'vertex.completed' && !('durationMs' in v && typeof v.durationMs === 'number')) return false;
  return 'name' in v && typeof v.name === 'string';
}

/** parseProgressEvent reads one progress event sent as JSON by a builder. */
export function parseProgressEvent(json: string): ProgressEvent {
  const v: unknown = JSON.parse(json);
  if (!isProgressEvent(v)) throw new InternalError(`Cannot read a progress event from the builder: ${json.slice(0, 200)}`);
  return v;
}

/** TRANSFER_VERTEX is the progress vertex of the context transfer; server and client both report on it. */
export const TRANSFER_VERTEX = { name: '[internal] transfer build context from the client', vertex: digestOf('remote context transfer') } as const;
