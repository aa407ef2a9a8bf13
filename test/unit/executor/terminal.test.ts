import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildRuntimeSpec, type SpecInput } from '../../../executor/index.js';
import { openTerminalStdio } from '../../../executor/terminal.js';
import type { ExecTerminal, TerminalSize } from '../../../executor/index.js';

/** fakeTerminal is a user's terminal made of streams: keys typed into `input`, what the process shows read from `output`. */
function fakeTerminal(size: TerminalSize): { terminal: ExecTerminal; input: PassThrough; shown: () => string; resize: (s: TerminalSize) => void } {
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.on('data', (d: Buffer) => (text += d.toString('utf8')));
  let current = size;
  const listeners = new Set<(s: TerminalSize) => void>();
  return {
    input,
    shown: () => text,
    resize: (s) => {
      current = s;
      for (const l of listeners) l(s);
    },
    terminal: {
      input,
      output,
      size: () => current,
      onResize: (listener) => {
        listeners.add(listener);
        return () => void listeners.delete(listener);
      },
    },
  };
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`Never saw ${what}`);
}

describe('openTerminalStdio', () => {
  it('gives the process a pty of the terminal size on stdin, stdout and stderr, relays keys and output, and passes resizes on', async () => {
    const t = fakeTerminal({ columns: 91, rows: 17 });
    const resized: number[] = [];
    await using stdio = openTerminalStdio(t.terminal, { resized: () => resized.push(1) });
    const script = 'for fd in 0 1 2; do [ -t $fd ] && printf "tty$fd "; done; stty size; read line; echo "got=$line"; read again; stty size; exit 4';
    const child = spawn('sh', ['-c', script], { stdio: [...stdio.childFds] });
    const exited = stdio.waitForChild(child);
    await until('the first size', () => t.shown().includes('17 91'));
    expect(t.shown()).toContain('tty0 tty1 tty2 ');
    t.input.write('hello\r');
    await until('the line read', () => t.shown().includes('got=hello'));
    t.resize({ columns: 60, rows: 9 });
    expect(resized).toEqual([1]);
    t.input.write('\r');
    const exit = await exited;
    expect(exit.code).toBe(4);
    expect(t.shown()).toMatch(/9 60\s*$/);
  });

  it('stops reading keys once disposed', async () => {
    const t = fakeTerminal({ columns: 80, rows: 24 });
    {
      await using stdio = openTerminalStdio(t.terminal);
      const child = spawn('true', [], { stdio: [...stdio.childFds] });
      await stdio.waitForChild(child);
      expect(t.input.listenerCount('data')).toBe(1);
    }
    expect(t.input.listenerCount('data')).toBe(0);
  });
});

describe('buildRuntimeSpec with a terminal', () => {
  const base: SpecInput = {
    args: ['/bin/sh'],
    env: ['HOME=/root'],
    cwd: '/',
    user: { uid: 0, gid: 0, additionalGids: [] },
    hostname: 'box',
    network: 'none',
    root: { kind: 'overlay', lowerdirs: ['/l/0'], upperdir: '/u', workdir: '/w' },
    mounts: [],
  };

  it('asks the runtime for a terminal of the given size', () => {
    const spec = buildRuntimeSpec({ ...base, terminal: { columns: 132, rows: 43 } });
    expect(spec.process.terminal).toBe(true);
    expect(spec.process.consoleSize).toEqual({ height: 43, width: 132 });
  });

  it('gives a step without one no terminal', () => {
    const spec = buildRuntimeSpec(base);
    expect(spec.process.terminal).toBe(false);
    expect(spec.process).not.toHaveProperty('consoleSize');
  });
});
