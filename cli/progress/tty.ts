import type { ProgressEvent, ProgressSink } from '../../base/progress.js';
import type { Environment, TerminalStream } from '../command-io.js';
import { ProgressState } from './progress-state.js';
import { paletteFor, textWidth, type Palette, type ViewOptions } from './style.js';
import { finishedLines, headerLine, liveLines, warningLine, type FrameView } from './tty-frame.js';
import { warningSummary, type WarningEvent } from './warning-summary.js';

const REDRAW_MS = 100;
const DEFAULT_LOG_LINES = 6;
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

/** logLinesOf reads BUILDKIT_TTY_LOG_LINES, as BuildKit does: how many output lines a running vertex shows at most. */
function logLinesOf(env: Environment): number {
  const n = Number.parseInt(env['BUILDKIT_TTY_LOG_LINES'] ?? '', 10);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_LOG_LINES;
}

/**
 * createTtyProgress draws a live view like BuildKit's tty mode, redrawn ten times a second: vertices that finished
 * ahead of every running one are printed once and scroll; below them the running vertices show their elapsed time,
 * transfers and last output lines, under a header with the build's time. It follows the terminal's size and leaves
 * the cursor visible at column 0 after every frame, so an interrupt echoing `^C` never shifts the next frame.
 */
export function createTtyProgress(out: TerminalStream, options: ViewOptions): ProgressSink & { close(): void } {

  const palette: Palette = paletteFor(options.env, out.isTTY === true);
  const logLines = logLinesOf(options.env);
  const state = new ProgressState();
  const warnings: WarningEvent[] = [];
  const begin = Date.now();
  // Widths of the lines of the last frame, to know how many rows they take once the terminal is narrower.
  let drawn: number[] = [];
  let printedRows = 0;
  let printedWarnings = 0;
  let closed = false;

  const view = (): FrameView => ({
    now: Date.now(),
    // One column short of the edge: a line filling the last column makes terminals wrap differently.
    width: Math.max(20, (out.columns ?? 80) - 1),
    height: Math.max(3, out.rows ?? 24),
    palette,
    logLines,
  });
  const frame = (final: boolean): void => {
    const v = view();
    const columns = v.width + 1;
    const up = drawn.reduce((n, w) => n + Math.max(1, Math.ceil(w / columns)), 0);
    let buf = `${HIDE_CURSOR}\r${up > 0 ? `\x1b[${up}A` : ''}\x1b[J`;
    const fixed: string[] = [];
    for (; printedWarnings < state.warnings.length; printedWarnings++) fixed.push(warningLine(state.warnings[printedWarnings]?.text ?? '', v));
    for (let r = state.rows[printedRows]; r !== undefined && (final || r.state !== 'running'); r = state.rows[++printedRows]) fixed.push(...finishedLines(r, v));
    const live = final ? [headerLine(state, begin, v, true)] : liveLines(state, printedRows, begin, v);
    buf += fixed.map((l) => `${l}\n`).join('') + live.map((l) => `${l}\n`).join('');
    drawn = final ? [] : live.map((l) => textWidth(stripSgr(l)));
    out.write(`${buf}${SHOW_CURSOR}`);
  };
  const timer = setInterval(() => frame(false), REDRAW_MS);
  // The build, not the view, keeps the process alive.
  timer.unref();
  const onResize = (): void => frame(false);
  out.on('resize', onResize);
  return {
    emit(event: ProgressEvent): void {
      state.apply(event);
      if (event.type === 'warning') warnings.push(event);
    },
    close(): void {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      out.off('resize', onResize);
      frame(true);
      const summary = warningSummary(warnings, { debug: options.debug, palette });
      if (summary !== '') out.write(summary);
    },
  };
}

// oxlint-disable-next-line no-control-regex -- the colours the frame itself added
const SGR = /\x1b\[[0-9;]*m/g;

function stripSgr(line: string): string {
  return line.replace(SGR, '');
}
