import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ProgressEvent } from '../../../base/progress.js';
import { createPlainProgress } from '../../../cli/progress/plain.js';

function capture(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  return { out, text: () => text };
}

function render(events: readonly ProgressEvent[], env: Record<string, string> = {}): string {
  const { out, text } = capture();
  const progress = createPlainProgress(out, { env, debug: false });
  for (const e of events) progress.emit(e);
  progress.close();
  return text();
}

describe('plain progress', () => {
  it('prints a status under its vertex number, also when it came before the vertex was reported', () => {
    const text = render([
      { type: 'status', vertex: 'ctx', id: 'loading context:', current: 4_100_000, completed: true, time: 1 },
      { type: 'vertex.started', vertex: 'other', name: '[1/2] FROM busybox', time: 1 },
      { type: 'vertex.cached', vertex: 'ctx', name: '[internal] load build context', time: 2 },
      { type: 'status', vertex: 'other', id: 'sha256:abc', current: 0, total: 10, time: 2 },
      { type: 'status', vertex: 'other', id: 'sha256:abc', current: 10, total: 10, completed: true, time: 3 },
    ]);
    expect(text).toBe(
      ['#1 [1/2] FROM busybox', '#2 [internal] load build context', '#2 loading context: 4.10MB done', '#2 CACHED', '#1 sha256:abc 0B / 10B', '#1 sha256:abc 10B / 10B done', ''].join('\n'),
    );
  });

  it("prints a running transfer again only once it moved 5% or 5 s passed, with its time, as BuildKit's plain printer does", () => {
    const mb = 1_000_000;
    const text = render([
      { type: 'vertex.started', vertex: 'v', name: 'FROM x', time: 0 },
      { type: 'status', vertex: 'v', id: 'sha256:l', current: 0, total: 50 * mb, time: 0 },
      { type: 'status', vertex: 'v', id: 'sha256:l', current: 1 * mb, total: 50 * mb, time: 100 },
      { type: 'status', vertex: 'v', id: 'sha256:l', current: 3 * mb, total: 50 * mb, time: 400 },
      { type: 'status', vertex: 'v', id: 'sha256:l', current: 4 * mb, total: 50 * mb, time: 5500 },
      { type: 'status', vertex: 'v', id: 'sha256:l', current: 50 * mb, total: 50 * mb, completed: true, time: 8000 },
    ]);
    expect(text).toBe(
      ['#1 FROM x', '#1 sha256:l 0B / 50.00MB', '#1 sha256:l 3.00MB / 50.00MB 0.4s', '#1 sha256:l 4.00MB / 50.00MB 5.5s', '#1 sha256:l 50.00MB / 50.00MB 8.0s done', ''].join('\n'),
    );
  });

  it('marks a vertex stopped by an interrupt CANCELED, as BuildKit does', () => {
    const text = render([
      { type: 'vertex.started', vertex: 'v', name: 'RUN sleep 9', time: 0 },
      { type: 'vertex.completed', vertex: 'v', name: 'RUN sleep 9', time: 10, durationMs: 10, error: 'cancelled' },
    ]);
    expect(text).toBe('#1 RUN sleep 9\n#1 CANCELED\n');
  });

  it('repeats the warnings at the end with their count, as buildx does, without colour when not a terminal', () => {
    const text = render([
      { type: 'warning', message: 'FromAsCasing: mixed case', location: 'Dockerfile:1', time: 0 },
      { type: 'warning', message: 'Cache record ignored', time: 1 },
    ]);
    expect(text).toBe(
      [
        'WARNING: FromAsCasing: mixed case (Dockerfile:1)',
        'WARNING: Cache record ignored',
        '',
        ' 2 warnings found (use --debug to expand):',
        ' - FromAsCasing: mixed case (Dockerfile:1)',
        ' - Cache record ignored',
        '',
      ].join('\n'),
    );
  });

  describe('a long silent vertex', () => {
    beforeEach(() => vi.useFakeTimers({ now: 0 }));
    afterEach(() => vi.useRealTimers());

    it('gets a line with its elapsed time every 10 s of silence, and none once it writes or ends', () => {
      const { out, text } = capture();
      const progress = createPlainProgress(out, { env: {}, debug: false });
      progress.emit({ type: 'vertex.started', vertex: 'v', name: 'RUN sleep 30', time: 0 });
      vi.advanceTimersByTime(9000);
      expect(text()).toBe('#1 RUN sleep 30\n');
      vi.advanceTimersByTime(1000);
      expect(text()).toBe('#1 RUN sleep 30\n#1 running 10.0s\n');
      vi.advanceTimersByTime(5000);
      progress.emit({ type: 'vertex.log', vertex: 'v', stream: 'stdout', data: 'tick\n', time: 15_000 });
      vi.advanceTimersByTime(9000);
      expect(text()).toBe('#1 RUN sleep 30\n#1 running 10.0s\n#1 15.000 tick\n');
      vi.advanceTimersByTime(1000);
      expect(text()).toBe('#1 RUN sleep 30\n#1 running 10.0s\n#1 15.000 tick\n#1 running 25.0s\n');
      progress.emit({ type: 'vertex.completed', vertex: 'v', name: 'RUN sleep 30', time: 27_000, durationMs: 27_000 });
      vi.advanceTimersByTime(30_000);
      progress.close();
      expect(text()).toBe('#1 RUN sleep 30\n#1 running 10.0s\n#1 15.000 tick\n#1 running 25.0s\n#1 DONE 27.0s\n');
    });
  });
});
