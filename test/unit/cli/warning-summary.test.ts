import { describe, expect, it } from 'vitest';
import { paletteFor } from '../../../cli/progress/style.js';
import { warningSummary, type WarningEvent } from '../../../cli/progress/warning-summary.js';

const CASING: WarningEvent = {
  type: 'warning',
  message: "ConsistentInstructionCasing: Command 'from' should match the case of the command majority (uppercase)",
  location: 'Dockerfile:1',
  finding: {
    rule: 'ConsistentInstructionCasing',
    description: 'All commands within the Dockerfile should use the same casing (either upper or lower)',
    url: 'https://docs.docker.com/go/dockerfile/rule/consistent-instruction-casing/',
    detail: "Command 'from' should match the case of the command majority (uppercase)",
    location: { file: 'Dockerfile', startLine: 1, endLine: 1 },
  },
  time: 0,
};
const plain = paletteFor({}, false);

describe('warningSummary', () => {
  it('is empty without warnings', () => {
    expect(warningSummary([], { debug: false, palette: plain })).toBe('');
  });

  it("counts the warnings as buildx's printWarnings does and lists their short form", () => {
    expect(warningSummary([CASING], { debug: false, palette: plain })).toBe(
      `\n 1 warning found (use --debug to expand):\n - ${CASING.message} (Dockerfile:1)\n`,
    );
  });

  it('with --debug expands each warning: description, documentation page and Dockerfile lines', () => {
    const other: WarningEvent = { type: 'warning', message: 'Cache record ignored', time: 1 };
    expect(warningSummary([CASING, other], { debug: true, palette: plain })).toBe(
      [
        '',
        ' 2 warnings found:',
        ` - ${CASING.message} (Dockerfile:1)`,
        'All commands within the Dockerfile should use the same casing (either upper or lower)',
        'More info: https://docs.docker.com/go/dockerfile/rule/consistent-instruction-casing/',
        ' --> Dockerfile:1',
        '',
        ' - Cache record ignored',
        '',
        '',
      ].join('\n'),
    );
  });

  it('paints the count yellow on a terminal', () => {
    expect(warningSummary([CASING], { debug: false, palette: paletteFor({}, true) })).toMatch(/^\n \x1b\[33m1 warning found \(use --debug to expand\):\x1b\[0m\n/);
  });
});
