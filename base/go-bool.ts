/** parseGoBool reads a boolean as Go's strconv.ParseBool does (1, t, T, TRUE, true, True, and their false forms); undefined when the text is not one. */
export function parseGoBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}
