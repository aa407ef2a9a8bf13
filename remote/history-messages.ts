import type { HistoryRecord } from '../base/build-record.js';
import { InternalError, UsageError } from '../base/errors.js';
import type { HistoryAccess, HistoryScope, LogFrame, StepExplanation } from '../controller/index.js';
import { message, type MessageOf } from './wire-schema.js';

// The build history calls: History answers ls, inspect, explain, rm and prune; HistoryLogs pages a record's logs.
// Records and explanations travel as JSON of base/build-record.ts and controller StepExplanation, as progress events do.

/** HISTORY_COMMANDS are what a History call asks for. */
export const HISTORY_COMMANDS = ['list', 'get', 'explain', 'remove', 'prune'] as const;
/** HistoryCommand is one of HISTORY_COMMANDS. */
export type HistoryCommand = (typeof HISTORY_COMMANDS)[number];

/** HISTORY_REQUEST asks for the records of the client that sends it; numbers below zero (keep) or zero (step) are unset. */
export const HISTORY_REQUEST = message('HistoryRequest', {
  clientId: { no: 1, type: 'string' },
  command: { no: 2, type: 'string' },
  ref: { no: 3, type: 'string' },
  step: { no: 4, type: 'uint32' },
  refs: { no: 5, type: 'string', repeated: true },
  keep: { no: 6, type: 'double' },
  keepDurationMs: { no: 7, type: 'double' },
});

/** HISTORY_RESPONSE carries records (list: without their key preimages and Dockerfile text), explanations, or removed refs. */
export const HISTORY_RESPONSE = message('HistoryResponse', {
  recordsJson: { no: 1, type: 'string' },
  explanationsJson: { no: 2, type: 'string' },
  removed: { no: 3, type: 'string', repeated: true },
});

const LOG_FRAME = message('LogFrame', { step: { no: 1, type: 'uint32' }, stream: { no: 2, type: 'uint32' }, time: { no: 3, type: 'double' }, data: { no: 4, type: 'bytes' } });

/** HISTORY_LOGS_REQUEST asks for a record's log frames from frame `from` on (of one step when step > 0). */
export const HISTORY_LOGS_REQUEST = message('HistoryLogsRequest', {
  clientId: { no: 1, type: 'string' },
  ref: { no: 2, type: 'string' },
  step: { no: 3, type: 'uint32' },
  from: { no: 4, type: 'uint32' },
});

/** HISTORY_LOGS_RESPONSE is one page of frames; `next` is the frame the following page starts at, unless done. */
export const HISTORY_LOGS_RESPONSE = message('HistoryLogsResponse', {
  frames: { no: 1, type: LOG_FRAME, repeated: true },
  next: { no: 2, type: 'uint32' },
  done: { no: 3, type: 'bool' },
});

/** HistoryRequestMsg asks a History call. */
export type HistoryRequestMsg = MessageOf<typeof HISTORY_REQUEST>;
/** HistoryResponseMsg answers a History call. */
export type HistoryResponseMsg = MessageOf<typeof HISTORY_RESPONSE>;
/** HistoryLogsRequestMsg asks for a page of logs. */
export type HistoryLogsRequestMsg = MessageOf<typeof HISTORY_LOGS_REQUEST>;
/** HistoryLogsResponseMsg is a page of logs. */
export type HistoryLogsResponseMsg = MessageOf<typeof HISTORY_LOGS_RESPONSE>;

/** LOG_PAGE_BYTES bounds the output one page of logs carries (a frame is never split: pipes give at most 1 MiB). */
export const LOG_PAGE_BYTES = 4 * 1024 * 1024;

const EMPTY: HistoryResponseMsg = { recordsJson: '', explanationsJson: '', removed: [] };

/** serveHistory answers a History call from the controller's records, as the client that asks sees them. */
export async function serveHistory(records: HistoryAccess, r: HistoryRequestMsg, tenant?: string): Promise<HistoryResponseMsg> {
  const scope: HistoryScope = { clientId: r.clientId, ...(tenant === undefined ? {} : { tenant }) };
  const ref = r.ref === '' ? undefined : r.ref;
  const command = HISTORY_COMMANDS.find((c) => c === r.command);
  switch (command) {
    case 'list':
      // The list is a summary: the key preimages and Dockerfile of each record are fetched by `get`.
      return { ...EMPTY, recordsJson: JSON.stringify(records.list(scope).map((x) => ({ ...x, keys: {}, request: { ...x.request, dockerfileText: '' } }))) };
    case 'get':
      return { ...EMPTY, recordsJson: JSON.stringify([records.get(ref, scope)]) };
    case 'explain':
      return { ...EMPTY, explanationsJson: JSON.stringify(records.explain(records.get(ref, scope), { ...(r.step > 0 ? { step: r.step } : {}), scope })) };
    case 'remove':
      return { ...EMPTY, removed: await records.remove(r.refs, scope) };
    case 'prune':
      return { ...EMPTY, removed: await records.prune({ ...scope, ...(r.keep >= 0 ? { keep: r.keep } : {}), ...(r.keepDurationMs >= 0 ? { keepDurationMs: r.keepDurationMs } : {}) }) };
    case undefined:
      throw new UsageError(`Cannot answer history command "${r.command}": expected ${HISTORY_COMMANDS.join(', ')}`);
  }
}

/** serveHistoryLogs answers one page of a record's logs. */
export async function serveHistoryLogs(records: HistoryAccess, r: HistoryLogsRequestMsg, signal: AbortSignal, tenant?: string): Promise<HistoryLogsResponseMsg> {
  const record = records.get(r.ref === '' ? undefined : r.ref, { clientId: r.clientId, ...(tenant === undefined ? {} : { tenant }) });
  const frames = await records.logs(record, { signal, ...(r.step > 0 ? { step: r.step } : {}) });
  const page: HistoryLogsResponseMsg['frames'][number][] = [];
  let bytes = 0;
  let at = r.from;
  for (; at < frames.length && (page.length === 0 || bytes < LOG_PAGE_BYTES); at++) {
    const f = frames[at];
    if (f === undefined) break;
    page.push({ step: f.step, stream: f.stream, time: f.time, data: f.data });
    bytes += f.data.length;
  }
  return { frames: page, next: at, done: at >= frames.length };
}

/** recordsOf reads the records of a History answer. */
export function recordsOf(res: HistoryResponseMsg): HistoryRecord[] {
  return jsonList(res.recordsJson, isRecord);
}

/** explanationsOf reads the explanations of a History answer. */
export function explanationsOf(res: HistoryResponseMsg): StepExplanation[] {
  return jsonList(res.explanationsJson, (v): v is StepExplanation => isObject(v) && typeof v['step'] === 'number' && Array.isArray(v['reasons']));
}

/** frameOf reads one frame of a HistoryLogs page. */
export function frameOf(f: HistoryLogsResponseMsg['frames'][number]): LogFrame {
  return { step: f.step, stream: f.stream === 2 ? 2 : 1, time: f.time, data: f.data };
}

function jsonList<T>(text: string, is: (v: unknown) => v is T): T[] {
  const v: unknown = text === '' ? [] : JSON.parse(text);
  if (!Array.isArray(v) || !v.every(is)) throw new InternalError('Cannot read the build history the builder sent');
  return v;
}

function isRecord(v: unknown): v is HistoryRecord {
  return isObject(v) && typeof v['ref'] === 'string' && typeof v['status'] === 'string' && Array.isArray(v['steps']) && isObject(v['request']);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
