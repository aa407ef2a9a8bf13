const UNIT_NS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3,
  'μs': 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

const PART = /^(\d*\.?\d*)(ns|us|µs|μs|ms|s|m|h)/;

/** parseDuration reads a Go duration such as `30s`, `1m30s` or `500ms` into nanoseconds; undefined when invalid. */
export function parseDuration(text: string): number | undefined {
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  while (rest !== '') {
    const m = PART.exec(rest);
    const num = m?.[1];
    const unit = m?.[2];
    if (m === null || num === undefined || unit === undefined || num === '' || num === '.') return undefined;
    total += Number(num) * (UNIT_NS[unit] ?? 0);
    rest = rest.slice(m[0].length);
  }
  return sign * Math.round(total);
}
