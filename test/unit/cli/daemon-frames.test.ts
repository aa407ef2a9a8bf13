import { describe, expect, it } from 'vitest';
import { encodeExitFrame, encodeFrame, FRAME, FrameDecoder } from '../../../cli/daemon-frames.js';
import { parseDaemonRequest } from '../../../cli/daemon-request.js';

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

describe('launcher request', () => {
  const request = {
    v: 1,
    umask: 18,
    argv: ['build', '.'],
    cwd: '/src',
    repo: '/opt/tbuild',
    node: '/usr/bin/node',
    stdout: { tty: false, columns: 0, rows: 0 },
    stderr: { tty: true, columns: 120, rows: 40 },
    env: ['PATH=/bin', 'EMPTY=', 'WITH_EQ=a=b', 'PATH=/shadowed', 'no-equals'],
  };

  it('reads the environment as getenv sees it', () => {
    const parsed = parseDaemonRequest(Buffer.from(JSON.stringify(request)));
    expect(parsed.env).toEqual({ PATH: '/bin', EMPTY: '', WITH_EQ: 'a=b' });
    expect(parsed.stderr).toEqual({ tty: true, columns: 120, rows: 40 });
    expect(parsed.umask).toBe(18);
  });

  it('refuses a request of another version', () => {
    expect(() => parseDaemonRequest(Buffer.from(JSON.stringify({ ...request, v: 2 })))).toThrow(/unknown version/);
  });
});
