import type { ProgressEvent, ProgressSink } from '../../base/progress.js';

interface Row {
  readonly n: number;
  readonly name: string;
  state: 'running' | 'cached' | 'done' | 'error';
  started: number;
  durationMs: number;
  logs: string[];
}

const LOG_LINES = 6;
const REDRAW_MS = 100;

/** createTtyProgress draws a live, compact view like BuildKit's tty mode: finished vertices scroll, running ones redraw. */
export function createTtyProgress(out: NodeJS.WritableStream & { readonly columns?: number }): ProgressSink & { close(): void } {
  const rows = new Map<string, Row>();
  const begin = Date.now();
  let drawnLines = 0;
  let printed = 0;
  let timer: NodeJS.Timeout | undefined;
  const order: Row[] = [];
  const row = (vertex: string, name: string): Row => {
    let r = rows.get(vertex);
    if (r === undefined) {
      r = { n: rows.size + 1, name, state: 'running', started: Date.now(), durationMs: 0, logs: [] };
      rows.set(vertex, r);
      order.push(r);
    }
    return r;
  };
  const line = (r: Row): string => {
    const status = r.state === 'cached' ? 'CACHED' : r.state === 'error' ? 'ERROR' : `${((r.state === 'running' ? Date.now() - r.started : r.durationMs) / 1000).toFixed(1)}s`;
    const width = (out.columns || 100) - status.length - 2;
    const text = `=> ${r.name}`;
    return `${text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width)} ${status}`;
  };
  const draw = (final: boolean): void => {
    let buf = drawnLines > 0 ? `\x1b[${drawnLines}A\x1b[J` : '';
    // Finished rows at the front are printed once and never redrawn.
    for (let r = order[printed]; r !== undefined && r.state !== 'running'; r = order[++printed]) buf += `${line(r)}\n`;
    const live: string[] = [`[+] Building ${((Date.now() - begin) / 1000).toFixed(1)}s (${order.filter((r) => r.state !== 'running').length}/${order.length})${final ? ' FINISHED' : ''}`];
    for (const r of order.slice(printed)) {
      live.push(line(r));
      if (r.state === 'running') for (const l of r.logs.slice(-LOG_LINES)) live.push(`\x1b[2m > ${l.slice(0, (out.columns || 100) - 4)}\x1b[0m`);
    }
    buf += `${live.join('\n')}\n`;
    drawnLines = live.length;
    out.write(buf);
  };
  const schedule = (): void => {
    timer ??= setTimeout(() => {
      timer = undefined;
      draw(false);
    }, REDRAW_MS);
  };
  return {
    emit(event: ProgressEvent): void {
      switch (event.type) {
        case 'vertex.started':
          row(event.vertex, event.name).started = event.time;
          break;
        case 'vertex.cached':
          row(event.vertex, event.name).state = 'cached';
          break;
        case 'vertex.completed': {
          const r = row(event.vertex, event.name);
          r.state = event.error === undefined ? 'done' : 'error';
          r.durationMs = event.durationMs;
          break;
        }
        case 'vertex.log': {
          const r = rows.get(event.vertex);
          if (r !== undefined) r.logs.push(...event.data.split('\n').filter((l) => l.length > 0));
          break;
        }
        case 'status':
        case 'vertex.usage': // resource figures are printed by --progress=plain only
          break;
        case 'warning':
          out.write(`\x1b[33mWARNING: ${event.message}${event.location ? ` (${event.location})` : ''}\x1b[0m\n`);
          drawnLines = 0;
          break;
      }
      schedule();
    },
    close(): void {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      draw(true);
    },
  };
}
