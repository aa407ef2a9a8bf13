import { describe, expect, it } from 'vitest';
import { ExecError, SolveError } from '../../../base/errors.js';
import { DEFAULT_SHELL, type DebugShell } from '../../../controller/index.js';
import { FailedStepKeeper } from '../../../controller/debug-shell.js';
import type { ExecRequest, ExecResult, Executor } from '../../../executor/index.js';
import type { FailedExec } from '../../../solver/ops/index.js';

const REQUEST: Omit<ExecRequest, 'onOutput'> = {
  rootfs: { lowerdirs: ['/l'], upperdir: '/u', workdir: '/w' },
  process: { args: ['/bin/sh', '-c', 'exit 3'], env: ['A=1'], cwd: '/src', user: '1000' },
  network: 'none',
  security: 'sandbox',
  mounts: [{ kind: 'bind', source: '/cache', target: '/cache', readonly: false }],
};

function failed(vertex: string, released: string[]): FailedExec {
  return {
    vertex,
    request: REQUEST,
    [Symbol.asyncDispose]: async () => void released.push(vertex),
  };
}

function stepError(vertex: string): Error {
  return new Error('build failed', { cause: new SolveError('[2/2] RUN exit 3: exit code: 3', { vertexName: '[2/2] RUN exit 3', vertexDigest: vertex }) });
}

function recordingShell(events: string[], args?: readonly string[]): DebugShell {
  return {
    ...(args === undefined ? {} : { args }),
    terminal: { input: process.stdin, output: process.stdout, size: () => ({ columns: 80, rows: 24 }), onResize: () => () => undefined },
    starting: (s) => void events.push(`starting ${s.stepName}`),
    ended: (o) => void events.push(o === undefined ? 'ended interrupted' : o instanceof Error ? `ended error ${o.message}` : `ended exit ${o.exitCode}`),
  };
}

function executorRecording(runs: ExecRequest[], result: ExecResult | Error): () => Promise<Executor> {
  return async () => ({
    run: async (request) => {
      runs.push(request);
      if (result instanceof Error) throw result;
      return result;
    },
  });
}

describe('FailedStepKeeper', () => {
  it('keeps the first failed RUN only, runs the shell in it with the step request and releases it once', async () => {
    const released: string[] = [];
    const events: string[] = [];
    const runs: ExecRequest[] = [];
    {
      await using keeper = new FailedStepKeeper();
      expect(keeper.offer(failed('sha256:a', released))).toBe(true);
      expect(keeper.offer(failed('sha256:b', released))).toBe(false);
      await keeper.openShell(stepError('sha256:a'), recordingShell(events), executorRecording(runs, { exitCode: 0, signal: null, durationMs: 1 }), { signal: new AbortController().signal });
      expect(released).toEqual([]);
    }
    expect(released).toEqual(['sha256:a']);
    expect(events).toEqual(['starting [2/2] RUN exit 3', 'ended exit 0']);
    expect(runs).toHaveLength(1);
    const run = runs[0];
    expect(run?.process).toEqual({ ...REQUEST.process, args: DEFAULT_SHELL });
    expect(run?.rootfs).toEqual(REQUEST.rootfs);
    expect(run?.mounts).toEqual(REQUEST.mounts);
    expect(run?.terminal).toBeDefined();
  });

  it('opens no shell when the build failed for another reason than the kept step, or was interrupted', async () => {
    const released: string[] = [];
    const events: string[] = [];
    const runs: ExecRequest[] = [];
    const exec = executorRecording(runs, { exitCode: 0, signal: null, durationMs: 1 });
    {
      await using keeper = new FailedStepKeeper();
      keeper.offer(failed('sha256:a', released));
      await keeper.openShell(stepError('sha256:other'), recordingShell(events), exec, { signal: new AbortController().signal });
      await keeper.openShell(new Error('registry unreachable'), recordingShell(events), exec, { signal: new AbortController().signal });
      await keeper.openShell(stepError('sha256:a'), recordingShell(events), exec, { signal: AbortSignal.abort() });
    }
    expect(runs).toEqual([]);
    expect(events).toEqual([]);
    expect(released).toEqual(['sha256:a']);
  });

  it('runs the --shell command and tells why a shell could not start', async () => {
    const events: string[] = [];
    const runs: ExecRequest[] = [];
    await using keeper = new FailedStepKeeper();
    keeper.offer(failed('sha256:a', []));
    const startFailed = new ExecError('Cannot run ["bash"]: no such file', { code: 'EXEC_START', argv: ['bash'] });
    await keeper.openShell(stepError('sha256:a'), recordingShell(events, ['bash']), executorRecording(runs, startFailed), { signal: new AbortController().signal });
    expect(runs[0]?.process.args).toEqual(['bash']);
    expect(events).toEqual(['starting [2/2] RUN exit 3', 'ended error Cannot run ["bash"]: no such file']);
  });
});
