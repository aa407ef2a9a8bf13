import type { ProgressEvent, ProgressSink } from '../../base/progress.js';

/** createPlainProgress prints progress like BuildKit's plain mode: one numbered line per event. */
export function createPlainProgress(out: NodeJS.WritableStream): ProgressSink & { close(): void } {
  const numbers = new Map<string, number>();
  const starts = new Map<string, number>();
  // Output arrives in chunks that may end mid-line: print whole lines only.
  const partial = new Map<string, string>();
  const flush = (key: string, vertex: string, at: string, final: boolean): void => {
    const text = partial.get(key) ?? '';
    const lines = text.split('\n');
    const rest = final ? '' : (lines.pop() ?? '');
    const n = numbers.get(vertex) ?? 0;
    for (const line of final && text.endsWith('\n') ? lines.slice(0, -1) : lines) out.write(`#${n} ${at} ${line}\n`);
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
  return {
    emit(event: ProgressEvent): void {
      switch (event.type) {
        case 'vertex.started':
          number(event.vertex, event.name);
          starts.set(event.vertex, event.time);
          break;
        case 'vertex.cached':
          out.write(`#${number(event.vertex, event.name)} CACHED\n`);
          break;
        case 'vertex.completed': {
          for (const stream of ['stdout', 'stderr']) {
            const key = `${event.vertex} ${stream}`;
            if (partial.get(key)) flush(key, event.vertex, ((event.time - (starts.get(event.vertex) ?? begin)) / 1000).toFixed(3), true);
          }
          const n = number(event.vertex, event.name);
          const secs = (event.durationMs / 1000).toFixed(1);
          out.write(event.error === undefined ? `#${n} DONE ${secs}s\n` : `#${n} ERROR: ${event.error}\n`);
          break;
        }
        case 'vertex.log': {
          const key = `${event.vertex} ${event.stream}`;
          partial.set(key, (partial.get(key) ?? '') + event.data);
          flush(key, event.vertex, ((event.time - (starts.get(event.vertex) ?? begin)) / 1000).toFixed(3), false);
          break;
        }
        case 'status': {
          if (event.completed !== true) break;
          const line = `${event.id} ${formatBytes(event.current)} done`;
          const n = numbers.get(event.vertex);
          if (n === undefined) waiting.set(event.vertex, [...(waiting.get(event.vertex) ?? []), line]);
          else out.write(`#${n} ${line}\n`);
          break;
        }
        case 'vertex.usage': {
          const parts = [
            ...(event.memoryPeakBytes === undefined ? [] : [`memory peak ${formatBytes(event.memoryPeakBytes)}`]),
            ...(event.cpuTimeMs === undefined ? [] : [`cpu ${(event.cpuTimeMs / 1000).toFixed(2)}s`]),
          ];
          if (parts.length > 0) out.write(`#${numbers.get(event.vertex) ?? 0} ${parts.join(', ')}\n`);
          break;
        }
        case 'warning':
          out.write(`WARNING: ${event.message}${event.location ? ` (${event.location})` : ''}\n`);
          break;
      }
    },
    close(): void {},
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

/** formatAgo renders how long ago a time was (`3 minutes ago`), as docker's tables do. */
export function formatAgo(time: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - time) / 1000));
  if (s < 60) return `${s} seconds ago`;
  if (s < 3600) return `${Math.round(s / 60)} minutes ago`;
  if (s < 86400) return `${Math.round(s / 3600)} hours ago`;
  return `${Math.round(s / 86400)} days ago`;
}
