/**
 * alignColumns lays out tab-separated text as Go's text/tabwriter does with minwidth 0, padding 1 and spaces, which
 * buildx prints its tables with: a tab ends a cell, cells of one column in consecutive lines are padded to the widest
 * plus one, and a line's last cell (after its last tab) is never padded. Text after the last newline is written as is.
 * The Docker CLI's tables use padding 3 and a minimum column width of 10.
 */
export function alignColumns(text: string, padding = 1, minWidth = 0): string {
  const lines = text.split('\n').map((l) => l.split('\t'));
  const widths: number[] = [];
  let out = '';
  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const line = lines[i] ?? [];
      line.forEach((cell, j) => {
        out += cell;
        const width = widths[j];
        if (width !== undefined && j < line.length - 1) out += ' '.repeat(Math.max(0, width - runes(cell)));
      });
      if (i + 1 < lines.length) out += '\n';
    }
  };
  // A column block is a run of consecutive lines with a cell in this column; its cells share one width.
  const format = (from: number, to: number): void => {
    const column = widths.length;
    let line0 = from;
    for (let t = from; t < to; t++) {
      if (column >= (lines[t]?.length ?? 0) - 1) continue;
      writeLines(line0, t);
      line0 = t;
      let width = minWidth;
      for (; t < to; t++) {
        const line = lines[t] ?? [];
        if (column >= line.length - 1) break;
        width = Math.max(width, runes(line[column] ?? '') + padding);
      }
      widths.push(width);
      format(line0, t);
      widths.pop();
      line0 = t;
    }
    writeLines(line0, to);
  };
  format(0, lines.length);
  return out;
}

function runes(s: string): number {
  return [...s].length;
}
