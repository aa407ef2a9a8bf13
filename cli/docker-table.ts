/**
 * Docker CLI `--format` for listings: `table` (a header row, then aligned columns), `table TEMPLATE`, `json` or a
 * Go template per row, over rows of string fields, run by the Go template subset of imagetools-template.ts.
 */
import { executeTemplate, parseTemplate } from './imagetools-template.js';
import type { Shape, TemplateValue } from './imagetools-view.js';
import { alignColumns } from './tab-writer.js';

/** TableRow is one listed item: its template fields by Go name, all strings. */
export type TableRow = Readonly<Record<string, string>>;

/** rowTemplate parses a row format once; render runs it over a row as the Docker CLI would (`json` compact). */
export function rowTemplate(format: string): { render(row: TableRow): string } {
  // As the Docker CLI, a literal \t or \n in the format is a tab or a newline.
  const text = format.replaceAll('\\t', '\t').replaceAll('\\n', '\n');
  const template = parseTemplate(text);
  return { render: (row) => executeTemplate(template, rowValue(row), format, '') };
}

function rowValue(row: TableRow): TemplateValue {
  const fields: Record<string, readonly [string, Shape]> = {};
  for (const key of Object.keys(row)) fields[key] = [key, { kind: 'string' }];
  return { shape: { kind: 'struct', type: 'formatter.context', fields }, json: { ...row } };
}

/**
 * dockerTable renders rows with a format as the Docker CLI does: `table TEMPLATE` prints the template over the
 * column titles first and aligns the columns (padding 3, width at least 10); any other template prints one line per row.
 */
export function dockerTable(format: string, rows: readonly TableRow[], headers: Readonly<Record<string, string>>): string {
  const isTable = format.startsWith('table');
  const template = rowTemplate(isTable ? format.slice('table'.length).trim() : format);
  const lines = rows.map((r) => `${template.render(r)}\n`);
  if (!isTable) return lines.join('');
  const first = rows[0] ?? headers;
  const header: Record<string, string> = {};
  for (const key of Object.keys(first)) header[key] = headers[key] ?? key.toUpperCase();
  return alignColumns([`${template.render(header)}\n`, ...lines].join(''), 3, 10);
}
