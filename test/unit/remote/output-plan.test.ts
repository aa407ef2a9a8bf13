import { describe, expect, it } from 'vitest';
import type { OutputSpec } from '../../../controller/index.js';
import { outputMsgOf, planOutputs } from '../../../remote/output-plan.js';

describe('remote output plan', () => {
  it('carries the source-date-epoch of local and tar outputs to the server, which writes both as a tar', () => {
    const outputs: OutputSpec[] = [
      { type: 'local', dest: 'out', sourceDateEpoch: 5 },
      { type: 'tar', dest: 'o.tar', sourceDateEpoch: null },
      { type: 'tar', dest: 'plain.tar' },
    ];
    const plan = planOutputs(outputs.map(outputMsgOf), '/tmp/x');
    expect(plan.specs).toEqual([
      { type: 'tar', dest: '/tmp/x/output-0', sourceDateEpoch: 5 },
      { type: 'tar', dest: '/tmp/x/output-1', sourceDateEpoch: null },
      { type: 'tar', dest: '/tmp/x/output-2' },
    ]);
  });

  it('keeps the epoch attributes of image outputs', () => {
    const image = { compression: 'gzip', forceCompression: false, rewriteTimestamp: true, sourceDateEpoch: 7 } as const;
    const plan = planOutputs([outputMsgOf({ type: 'oci', dest: 'o.tar', names: [], image })], '/tmp/x');
    expect(plan.specs[0]).toEqual({ type: 'oci', dest: '/tmp/x/output-0', names: [], image });
  });
});
