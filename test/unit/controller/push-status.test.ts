import { describe, expect, it } from 'vitest';
import { digestOf } from '../../../base/digest.js';
import type { ProgressEvent } from '../../../base/progress.js';
import { pushStatus } from '../../../controller/push-output.js';

describe('pushStatus', () => {
  it('reports an upload as bytes sent of the blob size, then done', () => {
    const events: ProgressEvent[] = [];
    const report = pushStatus({ sink: { emit: (e) => events.push(e) }, vertex: 'push' });
    const digest = digestOf('a layer');
    report({ digest, size: 2000, status: 'uploading' });
    report({ digest, size: 2000, status: 'uploading', current: 1200 });
    report({ digest, size: 2000, status: 'uploaded' });
    report({ digest, size: 10, status: 'manifest-pushed' });
    expect(events.map((e) => (e.type === 'status' ? [e.id, e.current, e.total, e.completed === true] : e.type))).toEqual([
      [`pushing ${digest}`, 0, 2000, false],
      [`pushing ${digest}`, 1200, 2000, false],
      [`pushing ${digest}`, 2000, 2000, true],
    ]);
  });
});
