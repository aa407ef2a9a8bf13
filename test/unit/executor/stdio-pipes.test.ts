import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { openProcessStdio } from '../../../executor/stdio-pipes.js';

async function openFds(): Promise<number> {
  return (await readdir('/proc/self/fd')).length;
}

async function runWithPipes(script: string): Promise<{ out: string; err: string; code: number | null; tail: string }> {
  let out = '';
  let err = '';
  await using stdio = await openProcessStdio((stream, data) => {
    if (stream === 'stdout') out += data.toString();
    else err += data.toString();
  });
  const child = spawn('sh', ['-c', script], { stdio: [...stdio.childFds] });
  const exit = await stdio.waitForChild(child);
  return { out, err, code: exit.code, tail: Buffer.concat(stdio.stderrTail).toString() };
}

describe('openProcessStdio', () => {
  it('gives the child three pipes, stdin at EOF, and keeps stdout and stderr apart', async () => {
    const r = await runWithPipes(
      'for fd in 0 1 2; do [ -p /proc/self/fd/$fd ] && echo pipe$fd; done; read x; echo "read=$?"; echo e1 > /dev/stderr; echo o > /dev/stdout; echo e2 >&2; exit 5',
    );
    expect(r).toEqual({ out: 'pipe0\npipe1\npipe2\nread=1\no\n', err: 'e1\ne2\n', code: 5, tail: 'e1\ne2\n' });
  });

  it('delivers all output written just before exit, from a process that outlives the shell', async () => {
    const r = await runWithPipes('(sleep 0.2; echo late) & i=0; while [ $i -lt 2000 ]; do echo line$i; i=$((i+1)); done');
    const lines = r.out.trim().split('\n');
    expect(lines.length).toBe(2001);
    expect(lines.filter((l) => l === 'late')).toEqual(['late']);
  });

  it('closes every pipe it opened, also when the program cannot be started', async () => {
    const before = await openFds();
    await runWithPipes('echo x');
    await using stdio = await openProcessStdio(undefined);
    const child = spawn('/nonexistent/program', [], { stdio: [...stdio.childFds] });
    await expect(stdio.waitForChild(child)).rejects.toThrow(/ENOENT/);
    await stdio[Symbol.asyncDispose]();
    expect(await openFds()).toBe(before);
  });
});
