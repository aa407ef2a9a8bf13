import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../../base/progress.js';
import { createPlainProgress } from '../../../cli/progress/plain.js';

function render(events: readonly ProgressEvent[]): string {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const progress = createPlainProgress(out);
  for (const e of events) progress.emit(e);
  progress.close();
  return text;
}

describe('plain progress', () => {
  it('prints a status under its vertex number, also when it came before the vertex was reported', () => {
    const text = render([
      { type: 'status', vertex: 'ctx', id: 'loading context:', current: 4_100_000, total: 4_100_000, completed: true, time: 1 },
      { type: 'vertex.started', vertex: 'other', name: '[1/2] FROM busybox', time: 1 },
      { type: 'vertex.cached', vertex: 'ctx', name: '[internal] load build context', time: 2 },
      { type: 'status', vertex: 'other', id: 'sha256:abc', current: 0, total: 10, time: 2 },
      { type: 'status', vertex: 'other', id: 'sha256:abc', current: 10, total: 10, completed: true, time: 3 },
    ]);
    expect(text).toBe(['#1 [1/2] FROM busybox', '#2 [internal] load build context', '#2 loading context: 4.10MB done', '#2 CACHED', '#1 sha256:abc 10B done', ''].join('\n'));
  });
});
