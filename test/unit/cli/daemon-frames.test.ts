import { describe, expect, it } from 'vitest';
import { encodeExitFrame, encodeFrame, FRAME, FrameDecoder } from '../../../cli/daemon-frames.js';

describe('launcher frames', () => {
  it('decodes frames split anywhere across chunks', () => {
    const bytes = Buffer.concat([encodeFrame(FRAME.stdout, Buffer.from('hello')), encodeFrame(FRAME.cancel), encodeExitFrame(130)]);
    const decoder = new FrameDecoder();
    const frames = [...bytes].flatMap((b) => decoder.push(Buffer.from([b])));
    expect(frames.map((f) => f.type)).toEqual(['O', 'C', 'X']);
    expect(frames[0]?.payload.toString()).toBe('hello');
    expect(frames[2]?.payload.readUInt32BE(0)).toBe(130);
  });

  it('refuses an unknown frame type instead of reading garbage', () => {
    expect(() => new FrameDecoder().push(Buffer.from('Z\0\0\0\0'))).toThrow(/Cannot read a launcher frame/);
  });
});
