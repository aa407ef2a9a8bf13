import { describe, expect, it } from 'vitest';
import type { HistoryRecord, StepRecord } from '../../../base/build-record.js';
import { UsageError } from '../../../base/errors.js';
import { traceFormatOf } from '../../../cli/history-trace-command.js';
import { MAX_STEP_LOG_BYTES, traceHtml } from '../../../cli/history-trace-html.js';
import { buildSpan, chromeTrace, otlpTrace } from '../../../cli/history-trace.js';

const T0 = 1_800_000_000_000;

function step(index: number, name: string, start: number, end: number, extra: Partial<StepRecord> = {}): StepRecord {
  return { index, vertex: `sha256:${String(index).repeat(64).slice(0, 64)}`, name, status: 'completed', startedAt: start === 0 ? 0 : T0 + start, completedAt: T0 + end, durationMs: end - start, cached: false, logBytes: 0, ...extra };
}

// Step 1 a cache hit (one time only); 2 and 3 run at once; 4 after both; 5 failed.
const RECORD: HistoryRecord = {
  version: 1,
  ref: 'abc123def4567890',
  clientId: '',
  pid: 1,
  status: 'failed',
  createdAt: T0,
  completedAt: T0 + 5000,
  request: { target: 'app', platforms: [], buildArgs: {}, outputs: [], noCache: false, noCacheFilter: [], dockerfileName: 'Dockerfile', dockerfileDigest: '', dockerfileText: '', context: '' },
  steps: [
    step(1, '[1/4] FROM busybox', 0, 100, { status: 'cached', cached: true, durationMs: 0 }),
    step(2, '[a 2/2] RUN sleep 1', 200, 1200, { location: { file: 'Dockerfile', startLine: 2, endLine: 2 }, memoryPeakBytes: 4096, cpuTimeMs: 12.5 }),
    step(3, '[b 2/2] RUN sleep 1', 250, 1300),
    step(4, '[3/4] COPY --from=a /a /a', 1300, 1400),
    step(5, '[4/4] RUN false', 1400, 4900, { status: 'failed', error: 'exit code 1' }),
  ],
  warnings: [],
  error: { message: 'RUN failed with exit code 1', step: 5 },
  keys: {},
  logFileBytes: 0,
};

describe('buildSpan', () => {
  it('puts steps that run at once in lanes apart, and reuses a lane once it is free', () => {
    const span = buildSpan(RECORD);
    const lanes = new Map(span.steps.map((s) => [s.step.index, s.lane]));
    expect(lanes.get(2)).not.toBe(lanes.get(3));
    expect(span.lanes).toBe(2);
    expect(lanes.get(4)).toBe(0);
    // The cache hit sits at its one time, with no duration.
    const hit = span.steps.find((s) => s.step.index === 1);
    expect(hit?.start).toBe(T0 + 100);
    expect(hit?.end).toBe(T0 + 100);
    expect(span.start).toBe(T0);
    expect(span.end).toBe(T0 + 5000);
  });

  it('keeps a cache hit or a short step in a lane of its own when a step starts right after it', () => {
    const hits: HistoryRecord = { ...RECORD, steps: [step(1, 'FROM busybox', 0, 100, { status: 'cached', cached: true }), step(2, 'RUN a', 101, 4000), step(3, 'COPY x', 4000, 4001), step(4, 'RUN b', 4002, 5000)] };
    const lanes = buildSpan(hits).steps.map((s) => s.lane);
    expect(lanes[0]).not.toBe(lanes[1]);
    expect(lanes[2]).not.toBe(lanes[3]);
  });

  it('ends an unfinished step with the build and never before its start', () => {
    const interrupted: HistoryRecord = { ...RECORD, status: 'interrupted', completedAt: 0, steps: [step(1, 'RUN sleep 100', 100, 0, { status: 'running', completedAt: 0 }), step(2, 'RUN x', 50, 900)] };
    const span = buildSpan(interrupted);
    expect(span.end).toBe(T0 + 900);
    expect(span.steps[0]?.end).toBe(T0 + 900);
  });
});

/** The Chrome trace-event format's fields: name, ph, ts and dur (µs), pid, tid, cat, args. */
const CHROME_KEYS = new Set(['name', 'ph', 'ts', 'dur', 'pid', 'tid', 'cat', 'args']);

describe('chromeTrace', () => {
  const trace = chromeTrace(RECORD);
  const complete = trace.traceEvents.filter((e) => e.ph === 'X');

  it('is the JSON object form: traceEvents of known fields, the build and one complete event per step', () => {
    const parsed: unknown = JSON.parse(JSON.stringify(trace));
    expect(parsed).toMatchObject({ displayTimeUnit: 'ms', traceEvents: expect.any(Array) });
    for (const e of trace.traceEvents) {
      expect(Object.keys(e).every((k) => CHROME_KEYS.has(k)), JSON.stringify(e)).toBe(true);
      expect(typeof e.name).toBe('string');
      expect(Number.isInteger(e.pid) && Number.isInteger(e.tid)).toBe(true);
      if (e.ph === 'X') expect(Number.isInteger(e.ts) && Number.isInteger(e.dur) && (e.dur ?? -1) >= 0 && (e.ts ?? -1) >= 0).toBe(true);
    }
    expect(complete).toHaveLength(RECORD.steps.length + 1);
    expect(complete.slice(1).map((e) => e.name)).toEqual(RECORD.steps.map((s) => s.name));
  });

  it('makes the build the outer span and gives each lane a thread, named by metadata events', () => {
    const [build, ...steps] = complete;
    expect(build).toMatchObject({ name: 'build', tid: 0, ts: 0, dur: 5_000_000, args: { ref: RECORD.ref, status: 'failed', target: 'app' } });
    for (const s of steps) expect((s.ts ?? 0) + (s.dur ?? 0)).toBeLessThanOrEqual(build?.dur ?? 0);
    const byStep = new Map(steps.map((s) => [s.args?.['step'], s]));
    expect(byStep.get(2)?.tid).not.toBe(byStep.get(3)?.tid);
    expect(byStep.get(2)).toMatchObject({ ts: 200_000, dur: 1_000_000, args: { location: 'Dockerfile:2', memoryPeakBytes: 4096, cpuTimeMs: 12.5 } });
    const threads = trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => e.tid);
    expect(new Set(threads)).toEqual(new Set([0, ...steps.map((s) => s.tid)]));
  });

  it('marks cache hits in args and category, and a failed step with its error', () => {
    const hit = complete.find((e) => e.args?.['step'] === 1);
    expect(hit).toMatchObject({ cat: 'step,cached', dur: 0, args: { cached: true, status: 'cached' } });
    expect(complete.find((e) => e.args?.['step'] === 2)).toMatchObject({ cat: 'step', args: { cached: false } });
    expect(complete.find((e) => e.args?.['step'] === 5)?.args).toMatchObject({ status: 'failed', error: 'exit code 1' });
  });
});

/** OTLP/JSON field names (opentelemetry-proto trace.proto in lowerCamelCase, as the JSON encoding writes them). */
const SPAN_KEYS = new Set(['traceId', 'spanId', 'traceState', 'parentSpanId', 'flags', 'name', 'kind', 'startTimeUnixNano', 'endTimeUnixNano', 'attributes', 'droppedAttributesCount', 'events', 'droppedEventsCount', 'links', 'droppedLinksCount', 'status']);
const VALUE_KEYS = new Set(['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue']);

describe('otlpTrace', () => {
  const trace = otlpTrace(RECORD);
  const spans = trace.resourceSpans[0]?.scopeSpans[0]?.spans ?? [];

  it('has resourceSpans → scopeSpans → spans with the OTLP/JSON field names and encodings', () => {
    const parsed: unknown = JSON.parse(JSON.stringify(trace));
    expect(parsed).toMatchObject({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'tbuild' } }] }, scopeSpans: [{ scope: { name: expect.any(String) }, spans: expect.any(Array) }] }] });
    expect(spans).toHaveLength(RECORD.steps.length + 1);
    for (const s of spans) {
      expect(Object.keys(s).every((k) => SPAN_KEYS.has(k)), Object.keys(s).join()).toBe(true);
      // Ids are hex (not base64), of 16 and 8 bytes; times are unix nanoseconds as decimal strings; enums are numbers.
      expect(s.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(s.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(s.startTimeUnixNano).toMatch(/^\d+$/);
      expect(BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano)).toBe(true);
      expect(s.kind).toBe(1);
      for (const a of s.attributes) expect(Object.keys(a.value).every((k) => VALUE_KEYS.has(k))).toBe(true);
    }
  });

  it('makes each step a child span of the build span, in one trace, with the recorded times and attributes', () => {
    const [root, ...children] = spans;
    expect(root).toMatchObject({ name: 'build', parentSpanId: '', startTimeUnixNano: `${T0}000000`, endTimeUnixNano: `${T0 + 5000}000000`, status: { code: 2 } });
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
    expect(new Set(spans.map((s) => s.spanId)).size).toBe(spans.length);
    for (const c of children) expect(c.parentSpanId).toBe(root?.spanId);
    const run = children.find((c) => c.name === '[a 2/2] RUN sleep 1');
    expect(run).toMatchObject({ startTimeUnixNano: `${T0 + 200}000000`, endTimeUnixNano: `${T0 + 1200}000000`, status: { code: 1 } });
    expect(run?.attributes).toEqual(expect.arrayContaining([{ key: 'vertex', value: { stringValue: RECORD.steps[1]?.vertex } }, { key: 'cached', value: { boolValue: false } }, { key: 'memoryPeakBytes', value: { intValue: '4096' } }]));
    expect(children[0]?.attributes).toContainEqual({ key: 'cached', value: { boolValue: true } });
    expect(children[4]?.status).toEqual({ code: 2, message: 'exit code 1' });
  });

  it('gives the same record the same ids', () => {
    expect(otlpTrace(RECORD)).toEqual(trace);
    expect(otlpTrace({ ...RECORD, ref: 'other' }).resourceSpans[0]?.scopeSpans[0]?.spans[0]?.traceId).not.toBe(spans[0]?.traceId);
  });
});

describe('traceHtml', () => {
  it('is one page with its style, script and data inline, fetching nothing', () => {
    const html = traceHtml(RECORD, new Map([[2, Buffer.from('hello </script><b>x</b>\n')]]));
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).not.toMatch(/\b(src|href)=/);
    expect(html).not.toMatch(/https?:\/\//);
    const data = /<script type="application\/json" id="trace-data">(.*?)<\/script>/s.exec(html)?.[1] ?? '';
    const parsed: unknown = JSON.parse(data);
    expect(parsed).toMatchObject({ ref: RECORD.ref, lanes: 2, steps: expect.arrayContaining([expect.objectContaining({ index: 2, log: 'hello </script><b>x</b>\n' })]) });
    expect(data).not.toContain('</');
  });

  it('keeps the last bytes of a long step log and names the command that prints it all', () => {
    const long = Buffer.concat([Buffer.from('first line\n'), Buffer.alloc(MAX_STEP_LOG_BYTES, 'a')]);
    const html = traceHtml(RECORD, new Map([[5, long]]));
    expect(html).toContain(`[11 earlier bytes left out: tbuild history logs ${RECORD.ref} --step 5 prints them all]`);
    expect(html).not.toContain('first line');
  });
});

describe('traceFormatOf', () => {
  it('takes html for an .html file, chrome otherwise, and refuses other formats', () => {
    expect(traceFormatOf(undefined, 'out.html')).toBe('html');
    expect(traceFormatOf(undefined, 'out.json')).toBe('chrome');
    expect(traceFormatOf(undefined, undefined)).toBe('chrome');
    expect(traceFormatOf('otlp', 'out.html')).toBe('otlp');
    expect(() => traceFormatOf('jaeger', undefined)).toThrow(UsageError);
  });
});
