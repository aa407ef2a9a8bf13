import { formatBytes } from './plain.js';
import type { ProgressState, TransferRow, VertexRow } from './progress-state.js';
import { fitWidth, formatSeconds, paint, printable, textWidth, type Palette } from './style.js';

/** FrameView is what a frame is drawn for: the time, the terminal's size, the colours and the output lines per vertex. */
export interface FrameView {
  readonly now: number;
  readonly width: number;
  readonly height: number;
  readonly palette: Palette;
  /** Most output lines shown under one running vertex (BuildKit's BUILDKIT_TTY_LOG_LINES, 6 by default). */
  readonly logLines: number;
}

const LABEL: Record<VertexRow['state'], string> = { running: '', done: '', cached: 'CACHED ', error: 'ERROR ', cancelled: 'CANCELED ' };

/** align puts `left` and `right` on one line of `width` columns, cutting `left` when they do not fit. */
function align(left: string, right: string, width: number): string {
  const room = Math.max(0, width - textWidth(right) - 1);
  const cut = fitWidth(left, room);
  return `${cut}${' '.repeat(Math.max(1, width - textWidth(cut) - textWidth(right)))}${right}`;
}

function rowColour(r: VertexRow, palette: Palette): string {
  switch (r.state) {
    case 'running':
      return '';
    case 'done':
      return palette.done;
    case 'cached':
      return palette.cached;
    case 'error':
      return palette.error;
    case 'cancelled':
      return palette.cancelled;
  }
}

/** vertexLine is a vertex's line: its name and how long it ran, or runs so far. */
export function vertexLine(r: VertexRow, view: FrameView): string {
  const ms = r.state === 'running' ? view.now - r.started : r.state === 'cached' ? 0 : r.ended - r.started;
  return paint(align(` => ${LABEL[r.state]}${r.name}`, formatSeconds(ms), view.width), rowColour(r, view.palette));
}

/** transferLine is a transfer's line: bytes done of the total, the rate while it runs, and its time. */
export function transferLine(t: TransferRow, view: FrameView, finished: boolean): string {
  const bytes = t.total !== undefined && t.total !== 0 ? `${formatBytes(t.current)} / ${formatBytes(t.total)}` : t.current !== 0 ? formatBytes(t.current) : '';
  const end = t.completed ? t.time : view.now;
  // The rate is measured up to the last report, so a stalled transfer does not seem to slow down smoothly.
  const measured = t.time - t.started;
  const rate = !t.completed && measured >= 200 && t.current > 0 ? ` ${formatBytes(Math.round((t.current * 1000) / measured))}/s` : '';
  const time = formatSeconds(end - t.started);
  // As BuildKit does, a long id (a digest) is cut before the bytes are, unless the terminal is too narrow for both.
  const status = `${bytes}${rate}`.trim();
  const room = view.width - ' => => '.length - textWidth(time) - 2 - (status === '' ? 0 : textWidth(status) + 1);
  const id = room >= 12 ? `${fitWidth(t.id, room)}${status === '' ? '' : ` ${status}`}` : t.id;
  const line = align(` => => ${id}`, time, view.width);
  return paint(line, finished ? view.palette.done : '');
}

/** finishedLines are what a finished vertex leaves on the screen for good: its line and its transfers'. */
export function finishedLines(r: VertexRow, view: FrameView): string[] {
  return [vertexLine(r, view), ...r.transfers.map((t) => transferLine(t, view, true)), ...r.explained.map((l) => fitWidth(` => ${l}`, view.width))];
}

/** warningLine is how a warning shows while the build runs. */
export function warningLine(text: string, view: FrameView): string {
  return paint(fitWidth(`WARN: ${text}`, view.width), view.palette.warning);
}

/**
 * headerLine is the view's first line: elapsed time and vertices finished of those known (every vertex of a solve
 * from its start, as BuildKit counts them); FINISHED at the end when every vertex known finished, also in an error or
 * cancelled, as BuildKit's view says.
 */
export function headerLine(state: ProgressState, begin: number, view: FrameView, final: boolean): string {
  const total = state.total();
  const status = final && total > 0 && state.finished() === total ? ' FINISHED' : '';
  return fitWidth(`[+] Building ${formatSeconds(view.now - begin)} (${state.finished()}/${total})${status}`, view.width);
}

interface Block {
  readonly row: VertexRow;
  readonly head: string[];
  logs: string[];
}

/**
 * liveLines draws the part of the view that is redrawn: the header, then the vertices from `from` on (those not yet
 * printed for good) with their open transfers and last output lines. It never takes more than the terminal's height
 * less one line: running vertices come first, then output lines (the busiest vertices first), then finished ones.
 */
export function liveLines(state: ProgressState, from: number, begin: number, view: FrameView): string[] {
  const budget = Math.max(1, view.height - 2);
  const blocks: Block[] = state.rows.slice(from).map((row) => ({
    row,
    head: row.state === 'running' ? [vertexLine(row, view), ...row.transfers.map((t) => transferLine(t, view, false))] : [vertexLine(row, view)],
    logs: [],
  }));
  const running = blocks.filter((b) => b.row.state === 'running');
  let left = budget;
  const shown = new Set<Block>();
  let hidden = 0;
  for (const b of running) {
    if (b.head.length <= left - 1 || (b === running[running.length - 1] && b.head.length <= left)) {
      shown.add(b);
      left -= b.head.length;
    } else hidden++;
  }
  if (hidden > 0) left--;
  for (const b of [...running].filter((x) => shown.has(x)).sort((x, y) => y.row.lastOutput - x.row.lastOutput)) {
    const tail = b.row.partial === '' ? b.row.logs : [...b.row.logs, printable(b.row.partial)];
    const n = Math.min(view.logLines, left, tail.length);
    if (n <= 0) continue;
    b.logs = tail.slice(-n).map((l) => paint(fitWidth(` => => # ${l}`, view.width), view.palette.log));
    left -= n;
  }
  for (const b of blocks) {
    if (b.row.state !== 'running' && b.head.length <= left) {
      shown.add(b);
      left -= b.head.length;
    }
  }
  const lines = [headerLine(state, begin, view, false)];
  for (const b of blocks) if (shown.has(b)) lines.push(...b.head, ...b.logs);
  if (hidden > 0) lines.push(fitWidth(` => … ${hidden} more running`, view.width));
  return lines;
}
