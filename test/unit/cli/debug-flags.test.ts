import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../base/errors.js';
import { parseOnError, parseShellCommand, userTerminal } from '../../../cli/debug-flags.js';

describe('--on-error and --shell', () => {
  it('takes shell, with the default command or the one --shell names', () => {
    expect(parseOnError(undefined, undefined)).toBeUndefined();
    expect(parseOnError('shell', undefined)).toEqual({ shell: undefined });
    expect(parseOnError('shell', 'bash')).toEqual({ shell: ['bash'] });
    expect(parseOnError('shell', '["/bin/sh","-l"]')).toEqual({ shell: ['/bin/sh', '-l'] });
  });

  it('refuses other values, --shell alone and commands that are no command', () => {
    expect(() => parseOnError('exit', undefined)).toThrow(/Cannot use --on-error=exit: expected shell/);
    expect(() => parseOnError(undefined, 'bash')).toThrow(/Cannot use --shell without --on-error=shell/);
    for (const bad of ['', '  ', '[]', '[1]', '[""]', '["sh"']) expect(() => parseShellCommand(bad), bad).toThrow(UsageError);
  });

  it('refuses to open a shell without a terminal on standard input and output', () => {
    const io = { stdin: new PassThrough(), stdout: new PassThrough() };
    expect(() => userTerminal(io, '--on-error=shell')).toThrow(/Cannot use --on-error=shell: standard input and output must be a terminal/);
  });
});
