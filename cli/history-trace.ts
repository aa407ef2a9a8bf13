import { createHash } from 'node:crypto';
import type { HistoryRecord, StepRecord } from '../base/build-record.js';

/**
 * The trace of a build record: each step as a span on a time axis, in lanes that show which steps ran at once. The
 * same spans are written as Chrome trace events (chrome://tracing, Perfetto), as OTLP/JSON (OpenTelemetry, as buildx
 * exports a BuildKit history trace) and as an HTML page (history-trace-html.ts).
 */

/** TraceSpan is one step of a record placed on the time axis (ms since 1970) and in a lane (0 = first). */
export interface TraceSpan {
  readonly step: StepRecord;
  readonly start: number;
  readonly end: number;
  readonly lane: number;
}

/** BuildSpan is the whole build: its start and end (ms since 1970) and its steps' spans, in step order. */
export interface BuildSpan {
  readonly start: number;
  readonly end: number;
  readonly lanes: number;
  readonly steps: readonly TraceSpan[];
}

/**
 * stepTimes places a step on the time axis. A cache hit reports one time only (it takes no time); a step that never
 * reported a time sits at the build's start; one that never ended (an interrupted build) ends with the build.
 */
function stepTimes(s: StepRecord, buildStart: number, buildEnd: number): { start: number; end: number } {
  const start = s.startedAt || s.completedAt || buildStart;
  const end = s.completedAt || Math.max(start, buildEnd);
  return { start, end: Math.max(start, end) };
}

/** MIN_LANE_SHARE is the part of the build's duration a step holds its lane for at least, so a short one stays visible. */
const MIN_LANE_SHARE = 0.01;

/**
 * buildSpan lays a record's steps out: each in the lowest lane free when it starts, so steps that overlap get lanes
 * apart. A step holds its lane for at least MIN_LANE_SHARE of the build, so a cache hit (no duration) or a short step
 * is not hidden under the step that starts right after it.
 */
export function buildSpan(record: HistoryRecord): BuildSpan {
  const lastStepEnd = Math.max(record.createdAt, ...record.steps.map((s) => Math.max(s.startedAt, s.completedAt)));
  const end = Math.max(record.completedAt || lastStepEnd, lastStepEnd);
  const held = Math.max((end - record.createdAt) * MIN_LANE_SHARE, 1e-3);
  const timed = record.steps.map((step) => ({ step, ...stepTimes(step, record.createdAt, end) }));
  const order = [...timed].sort((a, b) => a.start - b.start || a.step.index - b.step.index);
  // laneEnds[i] is when lane i is free again.
  const laneEnds: number[] = [];
  const laneOf = new Map<number, number>();
  for (const t of order) {
    const freeAt = Math.max(t.end, t.start + held);
    let lane = laneEnds.findIndex((free) => free <= t.start);
    if (lane < 0) lane = laneEnds.push(freeAt) - 1;
    else laneEnds[lane] = freeAt;
    laneOf.set(t.step.index, lane);
  }
  const steps = timed.map((t) => ({ ...t, lane: laneOf.get(t.step.index) ?? 0 }));
  return { start: record.createdAt, end, lanes: laneEnds.length, steps };
}

/** ChromeTraceEvent is one event of the Chrome trace-event format: "X" a complete event, "M" metadata. */
export interface ChromeTraceEvent {
  readonly name: string;
  readonly ph: 'X' | 'M';
  readonly pid: number;
  readonly tid: number;
  readonly ts?: number;
  readonly dur?: number;
  readonly cat?: string;
  readonly args?: Readonly<Record<string, unknown>>;
}

/** ChromeTrace is a Chrome trace-event file (JSON object form). */
export interface ChromeTrace {
  readonly traceEvents: readonly ChromeTraceEvent[];
  readonly displayTimeUnit: 'ms';
  readonly otherData: Readonly<Record<string, string>>;
}

/** The build's own span is thread 0; lane N of the steps is thread N + 1. */
const BUILD_TID = 0;

function stepArgs(s: StepRecord): Record<string, unknown> {
  return {
    step: s.index,
    vertex: s.vertex,
    status: s.status,
    cached: s.cached,
    ...(s.location === undefined ? {} : { location: `${s.location.file}:${s.location.startLine}` }),
    ...(s.platform === undefined ? {} : { platform: s.platform }),
    ...(s.cacheKey === undefined ? {} : { cacheKey: s.cacheKey }),
    ...(s.memoryPeakBytes === undefined ? {} : { memoryPeakBytes: s.memoryPeakBytes }),
    ...(s.cpuTimeMs === undefined ? {} : { cpuTimeMs: s.cpuTimeMs }),
    ...(s.error === undefined ? {} : { error: s.error }),
  };
}

/** chromeTrace writes a record as Chrome trace events: times in µs from the build's start, one thread per lane. */
export function chromeTrace(record: HistoryRecord): ChromeTrace {
  const span = buildSpan(record);
  const us = (ms: number): number => Math.round((ms - span.start) * 1000);
  const meta = (tid: number, name: string): ChromeTraceEvent => ({ name: 'thread_name', ph: 'M', pid: 1, tid, args: { name } });
  const events: ChromeTraceEvent[] = [
    { name: 'process_name', ph: 'M', pid: 1, tid: BUILD_TID, args: { name: `tbuild build ${record.ref}` } },
    meta(BUILD_TID, 'build'),
    ...Array.from({ length: span.lanes }, (_, i) => meta(i + 1, `lane ${i + 1}`)),
    {
      name: 'build',
      cat: 'build',
      ph: 'X',
      pid: 1,
      tid: BUILD_TID,
      ts: 0,
      dur: us(span.end),
      args: { ref: record.ref, status: record.status, ...(record.request.target === undefined ? {} : { target: record.request.target }), ...(record.error === undefined ? {} : { error: record.error.message }) },
    },
    ...span.steps.map((t): ChromeTraceEvent => ({
      name: t.step.name,
      cat: t.step.cached ? 'step,cached' : 'step',
      ph: 'X',
      pid: 1,
      tid: t.lane + 1,
      ts: us(t.start),
      dur: us(t.end) - us(t.start),
      args: stepArgs(t.step),
    })),
  ];
  return { traceEvents: events, displayTimeUnit: 'ms', otherData: { buildRef: record.ref, startedAt: new Date(span.start).toISOString() } };
}

/** OtlpAttribute is an OTLP/JSON KeyValue. */
export interface OtlpAttribute {
  readonly key: string;
  readonly value: { readonly stringValue: string } | { readonly boolValue: boolean } | { readonly intValue: string };
}

/** OtlpSpan is an OTLP/JSON span: ids in hex, times as decimal strings of unix nanoseconds, enums as numbers. */
export interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  /** SPAN_KIND_INTERNAL. */
  readonly kind: 1;
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  readonly attributes: readonly OtlpAttribute[];
  /** STATUS_CODE_UNSET 0, OK 1, ERROR 2. */
  readonly status: { readonly code: 0 | 1 | 2; readonly message?: string };
}

/** OtlpTraces is an OTLP/JSON ExportTraceServiceRequest (the body OTLP/HTTP takes, and what collectors' file exporters write). */
export interface OtlpTraces {
  readonly resourceSpans: readonly {
    readonly resource: { readonly attributes: readonly OtlpAttribute[] };
    readonly scopeSpans: readonly { readonly scope: { readonly name: string; readonly version: string }; readonly spans: readonly OtlpSpan[] }[];
  }[];
}

function attribute(key: string, v: string | boolean | number): OtlpAttribute {
  if (typeof v === 'boolean') return { key, value: { boolValue: v } };
  if (typeof v === 'number') return { key, value: { intValue: String(Math.round(v)) } };
  return { key, value: { stringValue: v } };
}

/** Ids are derived from the record's ref, so the same record always gives the same trace. */
function hexId(bytes: number, ...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, bytes * 2);
}

function nanos(ms: number): string {
  // Milliseconds may carry a fraction (µs): BigInt keeps the nanoseconds exact beyond 2^53.
  return (BigInt(Math.round(ms * 1000)) * 1000n).toString();
}

function otlpStatus(status: string, error: string | undefined): OtlpSpan['status'] {
  if (error !== undefined) return { code: 2, message: error };
  return status === 'completed' || status === 'cached' ? { code: 1 } : { code: 0 };
}

/** otlpTrace writes a record as OTLP/JSON: the build's span, and one span per step as its child. */
export function otlpTrace(record: HistoryRecord): OtlpTraces {
  const span = buildSpan(record);
  const traceId = hexId(16, 'trace', record.ref);
  const rootId = hexId(8, 'build', record.ref);
  const root: OtlpSpan = {
    traceId,
    spanId: rootId,
    parentSpanId: '',
    name: 'build',
    kind: 1,
    startTimeUnixNano: nanos(span.start),
    endTimeUnixNano: nanos(span.end),
    attributes: [attribute('build.ref', record.ref), attribute('build.status', record.status), ...(record.request.target === undefined ? [] : [attribute('build.target', record.request.target)])],
    status: otlpStatus(record.status, record.error?.message),
  };
  const steps = span.steps.map((t): OtlpSpan => {
    const s = t.step;
    const attrs = Object.entries(stepArgs(s)).filter((e): e is [string, string | number | boolean] => ['string', 'number', 'boolean'].includes(typeof e[1]));
    return {
      traceId,
      spanId: hexId(8, 'step', record.ref, String(s.index)),
      parentSpanId: rootId,
      name: s.name,
      kind: 1,
      startTimeUnixNano: nanos(t.start),
      endTimeUnixNano: nanos(t.end),
      attributes: [...attrs.map(([k, v]) => attribute(k, v)), attribute('lane', t.lane + 1)],
      status: otlpStatus(s.status, s.status === 'failed' ? (s.error ?? 'failed') : undefined),
    };
  });
  return {
    resourceSpans: [
      {
        resource: { attributes: [attribute('service.name', 'tbuild')] },
        scopeSpans: [{ scope: { name: 'tbuild/history', version: '' }, spans: [root, ...steps] }],
      },
    ],
  };
}
