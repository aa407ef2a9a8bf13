/** editDistance is the Levenshtein distance between two strings. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/**
 * suggestNearest returns the first candidate at the smallest edit distance under 3 from value, as BuildKit's
 * suggest.Search does; none when a candidate equals value (the error is then about something else). Without
 * caseSensitive, the suggestion takes value's case when value is all lower or all upper case.
 */
export function suggestNearest(value: string, candidates: Iterable<string>, caseSensitive = false): string | undefined {
  const v = caseSensitive ? value : value.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const c = caseSensitive ? candidate : candidate.toLowerCase();
    if (c === v) return undefined;
    const d = editDistance(v, c);
    if (d < bestDistance) {
      best = caseSensitive ? candidate : matchCase(c, value);
      bestDistance = d;
    }
  }
  return best;
}

function matchCase(lower: string, original: string): string {
  if (original === original.toUpperCase() && original !== original.toLowerCase()) return lower.toUpperCase();
  return lower;
}

/** withSuggestion appends ` (did you mean X?)` to a message when a near candidate exists. */
export function withSuggestion(message: string, value: string, candidates: Iterable<string>, caseSensitive = false): string {
  const s = suggestNearest(value, candidates, caseSensitive);
  return s === undefined ? message : `${message} (did you mean ${s}?)`;
}
