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

/** suggestNearest returns the candidate closest to value when it is close enough to be a likely typo. */
export function suggestNearest(value: string, candidates: Iterable<string>, caseSensitive = false): string | undefined {
  const v = caseSensitive ? value : value.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const c = caseSensitive ? candidate : candidate.toLowerCase();
    if (c === v) continue;
    const d = editDistance(v, c);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const limit = Math.max(1, Math.floor(Math.max(v.length, 2) / 2));
  return bestDistance <= limit ? best : undefined;
}

/** withSuggestion appends ` (did you mean X?)` to a message when a near candidate exists. */
export function withSuggestion(message: string, value: string, candidates: Iterable<string>, caseSensitive = false): string {
  const s = suggestNearest(value, candidates, caseSensitive);
  return s === undefined ? message : `${message} (did you mean ${s}?)`;
}
