/**
 * splitCsvRecord splits one CSV record into its fields as Go's encoding/csv reads one (what docker and BuildKit parse
 * flag values with): `separator` between fields, double quotes around a field keep separators in it, and `""` inside
 * quotes is one quote. Empty fields are kept.
 */
export function splitCsvRecord(text: string, separator = ','): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (c === '"') {
      if (quoted && text[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = !quoted;
    } else if (c === separator && !quoted) {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}
