import type { ProgressEvent, ProgressSink } from '../../base/progress.js';
import type { TerminalStream } from '../command-io.js';
import { paletteFor, formatSeconds, type ViewOptions } from './style.js';
import { warningSummary, type WarningEvent } from './warning-summary.js';
import { explainedLines } from './explain-lines.js';

// As BuildKit's plain printer: a running transfer is printed again once it moved 5% or 5 s passed.
const MIN_PROGRESS_DELTA = 0.05;
const MIN_TIME_DELTA_MS = 5000;
// A running vertex silent this long gets a line with its time, and again after as long (BuildKit's maxDelay).
const SILENT_MS = 10_000;
const TICK_MS = 1000;

interface Printed {
  readonly current: number;
  readonly time: number;
}

/** transferText is a status line's text after the vertex number, as BuildKit's plain printer writes it. */
function transferText(event: Extract<ProgressEvent, { type: 'status' }>, started: number): string {
  const bytes = event.total !== undefined && event.total !== 0 ? ` ${formatBytes(event.current)} / ${formatBytes(event.total)}` : event.current !== 0 ? ` ${formatBytes(event.current)}` : '';
  const took = event.time - started;
  return `${event.id}${bytes}${took > 10 ? ` ${formatSeconds(took)}` : ''}${event.completed === true ? ' done' : ''}`;
}

/**
 * createPlainProgress prints progress like BuildKit's plain mode: one numbered line per event, running transfers at
 * a bounded rate, and the time of a vertex that has been silent for a while; warnings are repeated at the end.
 */
export function createPlainProgress(out: TerminalStream, options: ViewOptions): ProgressSink & { close(): void } {

  const numbers = new Map<string, number>();
  const starts = new Map<string, number>();
  // When each running vertex last had a line printed, for the lines of silent ones.
  const lastLine = new Map<string, number>();
  const transfers = new Map<string, { started: number; printed?: Printed }>();
  const warnings: WarningEvent[] = [];
  const write = (vertex: string, text: string): void => {
    out.write(`#${numbers.get(vertex) ?? 0} ${text}\n`);
    if (lastLine.has(vertex)) lastLine.set(vertex, Date.now());
  };
  // Output arrives in chunks that may end mid-line: print whole lines only.
  const partial = new Map<string, string>();
  const flush = (key: string, vertex: string, at: string, final: boolean): void => {
    const text = partial.get(key) ?? '';
    const lines = text.split('\n');
    const rest = final ? '' : (lines.pop() ?? '');
    for (const line of final && text.endsWith('\n') ? lines.slice(0, -1) : lines) write(vertex, `${at} ${line}`);
    partial.set(key, rest);
  };
  const begin = Date.now();
  // A status may come before its vertex is reported (a local source's size is known from its key): it waits for it.
  const waiting = new Map<string, string[]>();
  const number = (vertex: string, name: string): number => {
    let n = numbers.get(vertex);
    if (n === undefined) {
      n = numbers.size + 1;
      numbers.set(vertex, n);
      out.write(`#${n} ${name}\n`);
      for (const line of waiting.get(vertex) ?? []) out.write(`#${n} ${line}\n`);
      waiting.delete(vertex);
    }
    return n;
  };
  const status = (event: Extract<ProgressEvent, { type: 'status' }>): void => {
    const key = `${event.vertex} ${event.id}`;
    const t = transfers.get(key) ?? { started: event.time };
    transfers.set(key, t);
    const last = t.printed;
    if (event.completed !== true && last !== undefined) {
      const moved = event.total ? (event.current - last.current) / event.total : 0;
      if (moved < MIN_PROGRESS_DELTA && event.time - last.time < MIN_TIME_DELTA_MS) return;
    }
    t.printed = { current: event.current, time: event.time };
    const line = transferText(event, t.started);
    if (numbers.has(event.vertex)) write(event.vertex, line);
    else waiting.set(event.vertex, [...(waiting.get(event.vertex) ?? []), line]);
  };
  const tick = setInterval(() => {
    const at = Date.now();
    for (const [vertex, last] of lastLine) {
      if (at - last < SILENT_MS) continue;
      write(vertex, `running ${formatSeconds(at - (starts.get(vertex) ?? begin))}`);
    }
  }, TICK_MS);
  // The build, not the view, keeps the process alive.
  tick.unref();
  let closed = false;
  return {
    emit(event: ProgressEvent): void {
      switch (event.type) {
        case 'vertex.planned': // BuildKit's plain printer prints a vertex once it starts
          break;
        case 'vertex.started':
          number(event.vertex, event.name);
          starts.set(event.vertex, event.time);
          lastLine.set(event.vertex, Date.now());
          break;
        case 'vertex.cached':
          out.write(`#${number(event.vertex, event.name)} CACHED\n`);
          break;
        case 'vertex.completed': {
          lastLine.delete(event.vertex);
          for (const stream of ['stdout', 'stderr']) {
            const key = `${event.vertex} ${stream}`;
            if (partial.get(key)) flush(key, event.vertex, ((event.time - (starts.get(event.vertex) ?? begin)) / 1000).toFixed(3), true);
          }
          const n = number(event.vertex, event.name);
          const secs = (event.durationMs / 1000).toFixed(1);
          out.write(event.error === undefined ? `#${n} DONE ${secs}s\n` : event.error === 'cancelled' ? `#${n} CANCELED\n` : `#${n} ERROR: ${event.error}\n`);
          break;
        }
        case 'vertex.log': {
          const key = `${event.vertex} ${event.stream}`;
          partial.set(key, (partial.get(key) ?? '') + event.data);
          flush(key, event.vertex, ((event.time - (starts.get(event.vertex) ?? begin)) / 1000).toFixed(3), false);
          break;
        }
        case 'status':
          status(event);
          break;
        case 'vertex.usage': {
          const parts = [
            ...(event.memoryPeakBytes === undefined ? [] : [`memory peak ${formatBytes(event.memoryPeakBytes)}`]),
            ...(event.cpuTimeMs === undefined ? [] : [`cpu ${(event.cpuTimeMs / 1000).toFixed(2)}s`]),
          ];
          if (parts.length > 0) out.write(`#${numbers.get(event.vertex) ?? 0} ${parts.join(', ')}\n`);
          break;
        }
        case 'vertex.explain': {
          const n = numbers.get(event.vertex) ?? 0;
          out.write(explainedLines(event).map((l) => `#${n} ${l}\n`).join(''));
          break;
        }
        case 'warning':
          warnings.push(event);
          out.write(`WARNING: ${event.message}${event.location ? ` (${event.location})` : ''}\n`);
          break;
      }
    },
    close(): void {
      if (closed) return;
      closed = true;
      clearInterval(tick);
      out.write(warningSummary(warnings, { debug: options.debug, palette: paletteFor(options.env, out.isTTY === true) }));
    },
  };
}

/** formatBytes renders a byte count as BuildKit does (B, kB, MB, GB). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n}B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(2)}${units[u] ?? ''}`;
}
