// The text of BuildKit's subrequest results (result.txt), which buildx prints for `--call targets|outline`.
import type { Outline, OutlineMount, Subrequest, TargetList } from './describe-types.js';

/**
 * tabulate lays rows out as Go's text/tabwriter does with no minimum width: every cell but a row's last is padded
 * to the widest cell of its column plus padding.
 */
function tabulate(rows: readonly (readonly string[])[], padding: number): string {
  const width = (cell: string): number => [...cell].length;
  const widths: number[] = [];
  for (const row of rows) row.slice(0, -1).forEach((cell, c) => (widths[c] = Math.max(widths[c] ?? 0, width(cell) + padding)));
  return rows.map((row) => `${row.map((cell, c) => (c === row.length - 1 ? cell : cell + ' '.repeat((widths[c] ?? 0) - width(cell)))).join('')}\n`).join('');
}

/** printTargets is BuildKit's PrintTargets: each stage with its description, the default marked. */
export function printTargets(list: TargetList): string {
  const rows = list.targets.map((t) => {
    const name = t.name ?? '';
    return [t.default === true ? (name === '' ? '(default)' : `${name} (default)`) : name, t.description ?? ''];
  });
  return tabulate([['TARGET', 'DESCRIPTION'], ...rows], 1);
}

/** printOutline is BuildKit's PrintOutline: the target, then tables of build args, secrets and SSH agents. */
export function printOutline(o: Outline): string {
  let out = '';
  if (o.name !== undefined || o.description !== undefined) {
    out += tabulate([['TARGET:', o.name ?? '(default)'], ...(o.description === undefined ? [] : [['DESCRIPTION:', o.description]])], 1);
    out += '\n';
  }
  if (o.args !== undefined) out += `${tabulate([['BUILD ARG', 'VALUE', 'DESCRIPTION'], ...o.args.map((a) => [a.name, a.value ?? '', a.description ?? ''])], 3)}\n`;
  const mounts = (title: string, list: readonly OutlineMount[] | undefined): string =>
    list === undefined ? '' : `${tabulate([[title, 'REQUIRED'], ...list.map((m) => [m.name, m.required === true ? 'true' : ''])], 3)}\n`;
  return out + mounts('SECRET', o.secrets) + mounts('SSH', o.ssh);
}

/** printDescribe is BuildKit's PrintDescribe: the subrequests by name, without the `frontend.` prefix. */
export function printDescribe(requests: readonly Subrequest[]): string {
  return tabulate([['NAME', 'VERSION', 'DESCRIPTION'], ...requests.map((r) => [r.name.replace(/^frontend\./, ''), r.version, r.description])], 1);
}
