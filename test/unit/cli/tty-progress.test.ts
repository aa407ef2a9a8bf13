import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ProgressEvent } from '../../../base/progress.js';
import { textWidth } from '../../../cli/progress/style.js';
import { createProgress } from '../../../cli/progress/select.js';
import { createTtyProgress } from '../../../cli/progress/tty.js';

const HIDE = '\x1b[?25l';
const SHOW = '\x1b[?25h';
// oxlint-disable-next-line no-control-regex -- the test reads what the view wrote
const SGR = /\x1b\[[0-9;]*m/g;

/** FakeTerminal is an output stream with a terminal's size, recording what was written. */
class FakeTerminal extends PassThrough {
  readonly isTTY = true;
  written = '';
  constructor(
    public columns: number,
    public rows: number,
  ) {
    super();
    this.on('data', (d: Buffer) => (this.written += d.toString()));
  }

  /** frames are the frames written so far, each the lines it drew (the cursor moves taken off). */
  frames(): { up: number; lines: string[] }[] {
    return this.written
      .split(HIDE)
      .slice(1)
      .map((f) => {
        const m = /^\r(?:\x1b\[(\d+)A)?\x1b\[J([\s\S]*?)\x1b\[\?25h/.exec(f);
        if (m === null) throw new Error(`A frame does not start at column 0 with a cursor move and an erase: ${JSON.stringify(f.slice(0, 40))}`);
        return { up: Number(m[1] ?? 0), lines: (m[2] ?? '').split('\n').slice(0, -1) };
      });
  }

  last(): string[] {
    return this.frames().at(-1)?.lines ?? [];
  }
}

function open(term: FakeTerminal, env: Record<string, string> = {}): ReturnType<typeof createTtyProgress> {
  return createTtyProgress(term, { env, debug: false });
}

const started = (vertex: string, name: string, time: number): ProgressEvent => ({ type: 'vertex.started', vertex, name, time });

describe('tty progress', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  it('redraws ten times a second with the elapsed time of the build and of each running vertex', () => {
    const term = new FakeTerminal(80, 24);
    const p = open(term);
    p.emit(started('a', '[1/2] RUN sleep 4', 0));
    vi.advanceTimersByTime(100);
    expect(term.last()[0]).toBe('[+] Building 0.1s (0/1)');
    expect(term.last()[1]).toMatch(/^ => \[1\/2\] RUN sleep 4 +0\.1s$/);
    vi.advanceTimersByTime(2400);
    expect(term.frames()).toHaveLength(25);
    expect(term.last()[0]).toBe('[+] Building 2.5s (0/1)');
    expect(term.last()[1]).toMatch(/ 2\.5s$/);
    vi.advanceTimersByTime(1500);
    p.emit({ type: 'vertex.completed', vertex: 'a', name: '[1/2] RUN sleep 4', time: 4000, durationMs: 4000 });
    vi.advanceTimersByTime(1500);
    p.close();
    // The finished vertex was printed for good by the frame after it ended; the last frame leaves the header.
    const frames = term.frames();
    const printed = frames.filter((f) => f.lines.some((l) => l.includes('RUN sleep 4')));
    expect(printed.at(-1)?.lines.map((l) => l.replace(SGR, ''))).toEqual([expect.stringMatching(/^ => \[1\/2\] RUN sleep 4 +4\.0s$/), '[+] Building 4.1s (1/1)']);
    // Forty frames while it ran, then the one at 4.1 s that printed it.
    expect(printed).toHaveLength(41);
    expect(frames.at(-1)).toEqual({ up: 1, lines: ['[+] Building 5.5s (1/1) FINISHED'] });
    vi.advanceTimersByTime(1000);
    expect(term.written.endsWith(SHOW)).toBe(true);
  });

  it('shows bytes done of the total and the rate of a running transfer', () => {
    const term = new FakeTerminal(100, 24);
    const p = open(term);
    p.emit(started('f', '[1/1] FROM base', 0));
    p.emit({ type: 'status', vertex: 'f', id: 'sha256:l1', current: 0, total: 50_000_000, time: 0 });
    p.emit({ type: 'status', vertex: 'f', id: 'sha256:l1', current: 12_500_000, total: 50_000_000, time: 1000 });
    vi.advanceTimersByTime(1200);
    expect(term.last()[2]).toMatch(/^ => => sha256:l1 12\.50MB \/ 50\.00MB 12\.50MB\/s +1\.2s$/);
    // A digest too long for the line is cut; its bytes, rate and time stay.
    const digest = `sha256:${'ab'.repeat(32)}`;
    p.emit({ type: 'status', vertex: 'f', id: digest, current: 0, total: 2_000_000, time: 1000 });
    p.emit({ type: 'status', vertex: 'f', id: digest, current: 1_000_000, total: 2_000_000, time: 1500 });
    vi.advanceTimersByTime(300);
    expect(term.last()[3]).toMatch(/^ => => sha256:abab(?:ab)+ 1\.00MB \/ 2\.00MB 2\.00MB\/s +0\.5s$/);
    expect(term.last()[3]).toHaveLength(99);
    p.emit({ type: 'status', vertex: 'f', id: 'sha256:l1', current: 50_000_000, total: 50_000_000, completed: true, time: 4000 });
    p.emit({ type: 'vertex.completed', vertex: 'f', name: '[1/1] FROM base', time: 4100, durationMs: 4100 });
    p.close();
    const text = term.last().map((l) => l.replace(SGR, ''));
    expect(text[1]).toMatch(/^ => => sha256:l1 50\.00MB \/ 50\.00MB +4\.0s$/);
  });

  it('shows the last output lines of running vertices within the terminal height and width', () => {
    const term = new FakeTerminal(40, 10);
    const p = open(term);
    p.emit(started('a', 'RUN make', 0));
    p.emit(started('b', 'RUN make docs', 0));
    const long = `${'x'.repeat(60)}\tend`;
    for (let i = 0; i < 30; i++) p.emit({ type: 'vertex.log', vertex: i % 2 ? 'a' : 'b', stream: 'stdout', data: `line ${i} ${long}\n`, time: i });
    p.emit({ type: 'vertex.log', vertex: 'a', stream: 'stderr', data: 'progress 10%\rprogress 90%', time: 40 });
    vi.advanceTimersByTime(100);
    const lines = term.last().map((l) => l.replace(SGR, ''));
    expect(lines.length).toBeLessThanOrEqual(term.rows - 1);
    for (const l of lines) expect(textWidth(l)).toBeLessThanOrEqual(term.columns - 1);
    // The vertex that wrote last gets its lines first; what a carriage return overwrote is gone.
    expect(lines.slice(0, 3)).toEqual(['[+] Building 0.1s (0/2)', expect.stringMatching(/^ => RUN make +0\.1s$/), expect.stringMatching(/^ => => # line 21 x{22}$/)]);
    expect(lines).toContain(' => => # progress 90%');
    expect(lines.filter((l) => l.startsWith(' => => #'))).toHaveLength(term.rows - 4);
    p.close();
  });

  it('paints cached vertices dim, errors red and warnings yellow on a terminal', () => {
    const term = new FakeTerminal(80, 24);
    const p = open(term);
    p.emit({ type: 'vertex.cached', vertex: 'c', name: '[1/3] FROM busybox', time: 0 });
    p.emit({ type: 'warning', message: 'JSONArgsRecommended: use JSON', location: 'Dockerfile:3', time: 0 });
    p.emit(started('e', '[2/3] RUN false', 0));
    p.emit({ type: 'vertex.completed', vertex: 'e', name: '[2/3] RUN false', time: 300, durationMs: 300, error: 'exit code 1' });
    p.close();
    const out = term.written;
    expect(out).toMatch(/\x1b\[2m => CACHED \[1\/3\] FROM busybox +0\.0s\x1b\[0m/);
    expect(out).toMatch(/\x1b\[31m => ERROR \[2\/3\] RUN false +0\.3s\x1b\[0m/);
    expect(out).toContain('\x1b[33mWARN: JSONArgsRecommended: use JSON (Dockerfile:3)\x1b[0m');
    expect(out).toContain('\n \x1b[33m1 warning found (use --debug to expand):\x1b[0m\n - JSONArgsRecommended: use JSON (Dockerfile:3)\n');
    expect(term.last().at(-1)).toBe('[+] Building 0.0s (2/2) FINISHED');
  });

  it('counts the vertices a solve planned from the start, and ends without FINISHED when one never ran', () => {
    const term = new FakeTerminal(80, 24);
    const p = open(term);
    const plan: [string, string][] = [['f', '[1/3] FROM busybox'], ['r', '[2/3] RUN false'], ['n', '[3/3] RUN never']];
    for (const [vertex, name] of plan) p.emit({ type: 'vertex.planned', vertex, name, time: 0 });
    vi.advanceTimersByTime(100);
    // Planned vertices are counted, not drawn.
    expect(term.last()).toEqual(['[+] Building 0.1s (0/3)']);
    p.emit({ type: 'vertex.cached', vertex: 'f', name: '[1/3] FROM busybox', time: 100 });
    p.emit(started('r', '[2/3] RUN false', 100));
    vi.advanceTimersByTime(100);
    // The cached FROM is printed for good above the header.
    expect(term.last().map((l) => l.replace(SGR, ''))).toEqual([
      expect.stringMatching(/^ => CACHED \[1\/3\] FROM busybox +0\.0s$/),
      '[+] Building 0.2s (1/3)',
      expect.stringMatching(/^ => \[2\/3\] RUN false +0\.1s$/),
    ]);
    p.emit({ type: 'vertex.completed', vertex: 'r', name: '[2/3] RUN false', time: 300, durationMs: 200, error: 'exit code 1' });
    p.close();
    // As BuildKit's view: the step the failure stopped is counted, so the build did not finish.
    expect(term.last().at(-1)).toBe('[+] Building 0.2s (2/3)');
  });

  it('ends without FINISHED when a vertex never finished, printing it with the time it ran', () => {
    const term = new FakeTerminal(80, 24);
    const p = open(term);
    p.emit(started('a', 'RUN sleep 9', 0));
    vi.advanceTimersByTime(1000);
    p.close();
    expect(term.last().map((l) => l.replace(SGR, ''))).toEqual([expect.stringMatching(/^ => RUN sleep 9 +1\.0s$/), '[+] Building 1.0s (0/1)']);
  });

  it('paints nothing with NO_COLOR or when the output is not a terminal', () => {
    for (const [term, env] of [
      [new FakeTerminal(80, 24), { NO_COLOR: '1' }],
      [Object.assign(new FakeTerminal(80, 24), { isTTY: false }), {}],
    ] as const) {
      const p = open(term, env);
      p.emit({ type: 'vertex.cached', vertex: 'c', name: 'FROM busybox', time: 0 });
      p.emit({ type: 'warning', message: 'careful', time: 0 });
      p.close();
      expect(term.written).not.toMatch(SGR);
      expect(term.written).toContain('1 warning found');
    }
  });

  it('paints finished steps and errors in the colours of BUILDKIT_COLORS, after warning of what it could not use', async () => {
    const term = new FakeTerminal(80, 24);
    const p = await createProgress('auto', term, { env: { BUILDKIT_COLORS: 'run=green:error=255,0,0:oops=red' }, debug: false });
    p.emit(started('a', 'RUN true', 0));
    p.emit({ type: 'vertex.completed', vertex: 'a', name: 'RUN true', time: 0, durationMs: 0 });
    p.close();
    expect(term.written.startsWith('WARNING: unknown key "oops" in BUILDKIT_COLORS (expected: run, cancel, error, or warning)\n')).toBe(true);
    expect(term.written).toContain('\x1b[32m');
    expect(term.written).not.toContain('\x1b[34m');
    // The plain view on a terminal warns alike; off a terminal, where no colour shows, nothing is said.
    const plainTerm = new FakeTerminal(80, 24);
    (await createProgress('plain', plainTerm, { env: { BUILDKIT_COLORS: 'oops=red' }, debug: false })).close();
    expect(plainTerm.written.startsWith('WARNING: unknown key "oops"')).toBe(true);
    const pipe = Object.assign(new FakeTerminal(80, 24), { isTTY: false });
    (await createProgress('plain', pipe, { env: { BUILDKIT_COLORS: 'oops=red' }, debug: false })).close();
    expect(pipe.written).not.toContain('WARNING');
  });

  it('prints a warning once above the live lines, never inside them', () => {
    const term = new FakeTerminal(80, 24);
    const p = open(term);
    p.emit(started('a', 'RUN sleep 9', 0));
    vi.advanceTimersByTime(100);
    p.emit({ type: 'warning', message: 'careful', time: 150 });
    vi.advanceTimersByTime(200);
    const [before, withWarning, after] = term.frames();
    expect(before?.lines.length).toBe(2);
    expect(withWarning).toEqual({ up: 2, lines: ['\x1b[33mWARN: careful\x1b[0m', '[+] Building 0.2s (0/1)', expect.stringMatching(/RUN sleep 9 +0\.2s$/)] });
    // The warning stays: the next frame goes up over the two live lines only.
    expect(after?.up).toBe(2);
    expect(after?.lines.join('\n')).not.toContain('careful');
    p.close();
  });

  it('follows a resize: the next frame erases the old lines as the narrower terminal wrapped them', () => {
    const term = new FakeTerminal(100, 24);
    const p = open(term);
    p.emit(started('a', 'RUN sleep 9', 0));
    vi.advanceTimersByTime(100);
    expect(term.last()[1]).toHaveLength(99);
    term.columns = 50;
    term.emit('resize');
    const frames = term.frames();
    // The header (23 columns) takes one row, the vertex line (99 columns) two.
    expect(frames.at(-1)?.up).toBe(3);
    expect(frames.at(-1)?.lines[1]).toHaveLength(49);
    p.close();
    term.emit('resize');
    expect(term.frames()).toHaveLength(frames.length + 1);
  });

  it('starts every frame at column 0, so an echoed ^C does not shift the header', () => {
    const term = new FakeTerminal(80, 24);
    const p = open(term);
    p.emit(started('a', 'RUN sleep 9', 0));
    vi.advanceTimersByTime(100);
    term.write('^C');
    p.emit({ type: 'vertex.completed', vertex: 'a', name: 'RUN sleep 9', time: 150, durationMs: 150, error: 'cancelled' });
    p.close();
    const tail = term.written.slice(term.written.lastIndexOf('^C'));
    expect(tail.startsWith(`^C${HIDE}\r\x1b[2A\x1b[J`)).toBe(true);
    expect(term.last().map((l) => l.replace(SGR, ''))).toEqual([expect.stringMatching(/^ => CANCELED RUN sleep 9 +0\.1s$/), '[+] Building 0.1s (1/1) FINISHED']);
    expect(term.written.endsWith(SHOW)).toBe(true);
  });
});
