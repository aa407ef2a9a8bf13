import { goQuote } from '../parser/index.js';

/** formatQuotedList renders a list like Go's `%q` on a []string: `["a" "b"]`. */
export function formatQuotedList(list: readonly string[]): string {
  return `[${list.map((s) => goQuote(s)).join(' ')}]`;
}

/** formatList renders a list like Go's `%v` on a []string: `[a b]`. */
export function formatList(list: readonly string[]): string {
  return `[${list.join(' ')}]`;
}

/** formatGoDuration renders nanoseconds like Go's time.Duration String for whole milliseconds and above. */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return '0s';
  if (ns < 1e9) return ns % 1e6 === 0 ? `${ns / 1e6}ms` : `${ns / 1e3}µs`;
  const h = Math.floor(ns / 3600e9);
  const m = Math.floor((ns % 3600e9) / 60e9);
  const s = (ns % 60e9) / 1e9;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
