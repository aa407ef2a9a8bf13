import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { clientIO, createClientOutputs } from '../../../cli/daemon-client-io.js';
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

describe('client IO', () => {
  it("gives a command the client's folder, environment and umask as values, and the client's cancel as its interrupt", () => {
    const request = parseDaemonRequest(
      Buffer.from(JSON.stringify({ v: 1, umask: 63, argv: ['build'], cwd: '/client/work', repo: '/r', node: '/n', env: ['WHO=client'], stdout: { tty: false, columns: 0, rows: 0 }, stderr: { tty: false, columns: 0, rows: 0 } })),
    );
    const cancel = new AbortController();
    const answered = Promise.resolve();
    const io = clientIO(request, createClientOutputs(new Socket(), request), {
      signal: cancel.signal,
      openController: () => Promise.reject(new Error('no controller in this test')),
      answered,
    });
    expect([io.cwd, io.env, io.umask]).toEqual(['/client/work', { WHO: 'client' }, 63]);
    expect(io.answered).toBe(answered);
    let interrupted = 0;
    {
      using _interrupt = io.onInterrupt(() => interrupted++);
      cancel.abort();
    }
    expect(interrupted).toBe(1);
    // Nothing of this process was changed for the client.
    expect(process.cwd()).not.toBe('/client/work');
    expect(process.env['WHO']).toBeUndefined();
  });
});
