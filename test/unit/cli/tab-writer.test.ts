import { describe, expect, it } from 'vitest';
import { alignColumns } from '../../../cli/tab-writer.js';

describe("alignColumns (Go's text/tabwriter with padding 1)", () => {
  it('pads the cells of a column to the widest plus one, never the last cell of a line', () => {
    expect(alignColumns('Name:\tx\nMediaType:\ty\n')).toBe('Name:      x\nMediaType: y\n');
  });

  it('pads empty cells too: a line of one tab is spaces up to the column width', () => {
    expect(alignColumns('\t\nManifests:\t\n')).toBe('           \nManifests: \n');
  });

  it('starts a new block after a line without a cell in the column', () => {
    expect(alignColumns('a:\tx\nplain\nlonger:\ty\n')).toBe('a: x\nplain\nlonger: y\n');
  });

  it('aligns nested columns per block', () => {
    expect(alignColumns('a\tb\tc\naa\tbbb\tc\n')).toBe('a  b   c\naa bbb c\n');
  });

  it('counts characters, not bytes, and writes text after the last newline as is', () => {
    expect(alignColumns('é:\tx\nab:\ty\ntail')).toBe('é:  x\nab: y\ntail');
  });
});
