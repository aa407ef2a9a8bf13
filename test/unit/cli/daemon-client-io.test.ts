import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createClientOutputs } from '../../../cli/daemon-client-io.js';
import { parseDaemonRequest } from '../../../cli/daemon-request.js';

describe('client outputs', () => {
  it('follow resize frames on a terminal, as a tty stream would', () => {
    const request = parseDaemonRequest(
      Buffer.from(JSON.stringify({ v: 1, umask: 18, argv: ['build'], cwd: '/', repo: '/r', node: '/n', env: [], stdout: { tty: false, columns: 0, rows: 0 }, stderr: { tty: true, columns: 120, rows: 40 } })),
    );
    const outputs = createClientOutputs(new Socket(), request);
    let resized = 0;
    outputs.stderr.on('resize', () => resized++);
    const payload = Buffer.alloc(8);
    payload.writeUInt16BE(90, 0);
    payload.writeUInt16BE(30, 2);
    payload.writeUInt16BE(70, 4);
    payload.writeUInt16BE(20, 6);
    outputs.resize(payload);
    expect([outputs.stderr.columns, outputs.stderr.rows, resized]).toEqual([70, 20, 1]);
    expect(outputs.stdout.columns).toBe(80);
  });
});
