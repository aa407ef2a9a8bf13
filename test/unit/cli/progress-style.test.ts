import { describe, expect, it } from 'vitest';
import { fitWidth, paletteFor, printable, textWidth } from '../../../cli/progress/style.js';

describe('progress styles', () => {
  it('makes command output printable in one cell: carriage returns, escapes, control characters and tabs', () => {
    expect(printable('10%\r50%\r90%')).toBe('90%');
    expect(printable('done\r')).toBe('done');
    expect(printable('\x1b[1;32mok\x1b[0m \x1b]0;title\x07bell\x07')).toBe('ok bell');
    expect(printable('a\tb')).toBe('a    b');
  });

  it('measures and cuts text by terminal columns, never splitting a wide character', () => {
    expect(textWidth('ab')).toBe(2);
    expect(textWidth('日本')).toBe(4);
    expect(textWidth('e\u0301')).toBe(1);
    expect(fitWidth('日本語', 5)).toBe('日本');
    expect(fitWidth('abc', 10)).toBe('abc');
  });

  it('turns colours off with NO_COLOR set to anything but empty, and off a terminal', () => {
    expect(paletteFor({}, true).error).toBe('31');
    expect(paletteFor({ NO_COLOR: '' }, true).error).toBe('31');
    expect(paletteFor({ NO_COLOR: '1' }, true).error).toBe('');
    expect(paletteFor({}, false).cached).toBe('');
  });
});
