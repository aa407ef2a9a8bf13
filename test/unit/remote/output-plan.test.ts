import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { OutputSpec } from '../../../controller/index.js';
import type { ServerMessage } from '../../../remote/messages.js';
import { outputMsgOf, planOutputs } from '../../../remote/output-plan.js';

/** sent collects the messages a plan's output streams send back to the client. */
function sender(): { readonly send: (m: ServerMessage) => Promise<void>; readonly messages: ServerMessage[] } {
  const messages: ServerMessage[] = [];
  return { send: async (m) => void messages.push(m), messages };
}

describe('remote output plan', () => {
  it('carries the source-date-epoch of local and tar outputs to the server, which writes both as a tar streamed back', () => {
    const outputs: OutputSpec[] = [
      { type: 'local', dest: 'out', sourceDateEpoch: 5 },
      { type: 'tar', dest: 'o.tar', sourceDateEpoch: null },
      { type: 'tar', dest: 'plain.tar' },
    ];
    const specs = planOutputs(outputs.map(outputMsgOf), sender().send);
    expect(specs.map((s) => ({ ...s, dest: s.type === 'tar' && s.dest instanceof Writable ? 'stream' : 'other' }))).toEqual([
      { type: 'tar', dest: 'stream', sourceDateEpoch: 5 },
      { type: 'tar', dest: 'stream', sourceDateEpoch: null },
      { type: 'tar', dest: 'stream' },
    ]);
  });

  it('keeps the epoch attributes of image outputs', () => {
    const image = { compression: 'gzip', forceCompression: false, rewriteTimestamp: true, sourceDateEpoch: 7 } as const;
    const [spec] = planOutputs([outputMsgOf({ type: 'oci', dest: 'o.tar', names: [], image })], sender().send);
    expect(spec).toMatchObject({ type: 'oci', names: [], image });
  });

  it('sends what an output stream is given as output messages of its index, in bounded chunks, then its end', async () => {
    const { send, messages } = sender();
    const [, spec] = planOutputs([outputMsgOf({ type: 'image', names: [], push: false, image: { compression: 'gzip', forceCompression: false } }), outputMsgOf({ type: 'tar', dest: 'x' })], send);
    if (spec?.type !== 'tar' || typeof spec.dest === 'string') throw new Error('expected a tar output streamed back');
    await pipeline(Readable.from([Buffer.alloc(300 * 1024, 1), Buffer.from('tail')]), spec.dest);
    const outputs = messages.flatMap((m) => (m.kind === 'output' ? [m.output] : []));
    expect(outputs.map((o) => [o.output, o.data.length, o.eof])).toEqual([[1, 256 * 1024, false], [1, 44 * 1024, false], [1, 4, false], [1, 0, true]]);
  });
});
