import { describe, expect, it } from 'vitest';
import { colourWarnings, fitWidth, paletteFor, printable, textWidth, userColours } from '../../../cli/progress/style.js';

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

  it('takes the colours BUILDKIT_COLORS names for run, cancel, error and warning, by name or as R,G,B', () => {
    const palette = paletteFor({ BUILDKIT_COLORS: 'run=green:cancel=light-yellow:ERROR=255,0,0:warning=Light-Magenta' }, true);
    expect([palette.done, palette.cancelled, palette.error, palette.warning, palette.cached]).toEqual(['32', '93', '38;5;196', '95', '2']);
    // aec's NewRGB8Bit: 16 + 36*(r/43) + 6*(g/43) + b/43 with integer division.
    expect(userColours('run=42,43,200').colours).toEqual({ done: `38;5;${16 + 0 + 6 + 4}` });
    expect(userColours('"run=1,2,3"').colours).toEqual({ done: '38;5;16' });
    expect(paletteFor({ BUILDKIT_COLORS: 'run=green', NO_COLOR: '1' }, true).done).toBe('');
    expect(paletteFor({ BUILDKIT_COLORS: 'run=green' }, false).done).toBe('');
  });

  it('keeps the parts of BUILDKIT_COLORS it can use and warns once of each other part, as BuildKit does', () => {
    const { colours, problems } = userColours('run=green:bogus=red:error=pink:cancel:warning=1,2:error=1,x,3:error=300,0,0:a=b=c');
    expect(colours).toEqual({ done: '32' });
    expect(problems).toEqual([
      'unknown key "bogus" in BUILDKIT_COLORS (expected: run, cancel, error, or warning)',
      expect.stringMatching(/^BUILDKIT_COLORS error=pink: unknown colour "pink": expected a colour name \(default, black, .*\) or R,G,B$/),
      'cannot read BUILDKIT_COLORS component "cancel": it must be KEY=COLOUR',
      'BUILDKIT_COLORS warning=1,2: "1,2" is not a valid RGB colour: it must have three fields',
      'BUILDKIT_COLORS error=1,x,3: an RGB value that is not an integer: 1,x,3',
      'BUILDKIT_COLORS error=300,0,0: an RGB value that is not within the valid range of 0-255: 300,0,0',
      'cannot read BUILDKIT_COLORS component "a=b=c": it must be KEY=COLOUR',
    ]);
    expect(colourWarnings({ BUILDKIT_COLORS: 'run=pink' })).toBe('WARNING: BUILDKIT_COLORS run=pink: unknown colour "pink": expected a colour name (default, black, red, green, yellow, blue, magenta, cyan, white, light-black, light-red, light-green, light-yellow, light-blue, light-magenta, light-cyan, light-white) or R,G,B\n');
    expect(colourWarnings({ BUILDKIT_COLORS: 'run=pink', NO_COLOR: '1' })).toBe('');
    expect(colourWarnings({})).toBe('');
  });
});
