import { DockerfileError } from '../../base/errors.js';
import { parseMountFlag, parseStages, type ArgInstruction, type RunMount, type Stage } from '../instructions/index.js';
import { parseDockerfile } from '../parser/index.js';
import { targetStageIndex } from './target.js';

/** DescribeKind is what `--call` asks of a Dockerfile without building it. */
export type DescribeKind = 'targets' | 'outline';

/**
 * describeDockerfile answers `--call targets` (the named stages, the default marked, with the description a comment
 * above FROM gives when it starts with the stage name) and `--call outline` (the build args the target stage and the
 * stages it uses declare, with their defaults and descriptions, and the secrets and SSH agents its RUN steps mount),
 * as BuildKit's outline and targets do. Nothing is resolved or run.
 */
export function describeDockerfile(text: string, file: string, kind: DescribeKind, target: string | undefined): string {
  const parsed = parseDockerfile(text, { file });
  const comments = new Map<number, readonly string[]>(parsed.ast.children.map((n) => [n.startLine, n.prevComment]));
  const { metaArgs, stages } = parseStages(parsed.ast, file);
  if (stages.length === 0) throw new DockerfileError('dockerfile contains no stages to build', { location: { file, startLine: 1, endLine: 1 } });
  const describe = (name: string, line: number): string => description(comments.get(line) ?? [], name);
  if (kind === 'targets') {
    const rows = stages.flatMap((s, i) => {
      const name = s.from.stageName;
      const isDefault = i === stages.length - 1;
      if (name === undefined && !isDefault) return [];
      return [[`${name ?? ''}${isDefault ? `${name === undefined ? '' : ' '}(default)` : ''}`, name === undefined ? '' : describe(name, s.from.location.startLine)]];
    });
    return table([['TARGET', 'DESCRIPTION'], ...rows]);
  }
  const index = targetStageIndex(stages, target);
  const stage = stages[index];
  if (stage === undefined) throw new RangeError(`stage ${index} out of range`);
  const used = usedStages(stages, index);
  const args = new Map<string, { value: string; description: string }>();
  const addArgs = (list: readonly ArgInstruction[]): void => {
    for (const arg of list) {
      for (const a of arg.args) if (!args.has(a.key)) args.set(a.key, { value: a.value ?? '', description: describe(a.key, arg.location.startLine) });
    }
  };
  addArgs(metaArgs);
  const secrets = new Map<string, boolean>();
  const ssh = new Map<string, boolean>();
  for (const i of used) {
    const s = stages[i];
    if (s === undefined) continue;
    addArgs(s.instructions.filter((x): x is ArgInstruction => x.kind === 'arg'));
    for (const m of runMounts(s)) {
      if (m.type === 'secret') secrets.set(m.id, (secrets.get(m.id) ?? false) || m.required);
      if (m.type === 'ssh') ssh.set(m.id, (ssh.get(m.id) ?? false) || m.required);
    }
  }
  const name = stage.from.stageName;
  const parts = [
    `TARGET:      ${name ?? '(default)'}${name !== undefined && index === stages.length - 1 ? ' (default)' : ''}`,
    ...(name === undefined ? [] : [`DESCRIPTION: ${describe(name, stage.from.location.startLine)}`.trimEnd()]),
    '',
    table([['BUILD ARG', 'VALUE', 'DESCRIPTION'], ...[...args].map(([k, v]) => [k, v.value, v.description])]),
  ];
  if (secrets.size > 0) parts.push(table([['SECRET', 'REQUIRED'], ...[...secrets].map(([k, r]) => [k, String(r)])]));
  if (ssh.size > 0) parts.push(table([['SSH', 'REQUIRED'], ...[...ssh].map(([k, r]) => [k, String(r)])]));
  return parts.join('\n');
}

/** description is a comment above an instruction that starts with the described name, without that name. */
function description(comment: readonly string[], name: string): string {
  const text = comment.join(' ').trim();
  const [first, ...rest] = text.split(/\s+/);
  return first !== undefined && first.toLowerCase() === name.toLowerCase() ? rest.join(' ') : '';
}

/** usedStages lists the target stage and the stages it builds on (FROM), copies from or mounts, before it. */
function usedStages(stages: readonly Stage[], target: number): Set<number> {
  const used = new Set<number>();
  const byRef = (ref: string | undefined, before: number): number | undefined => {
    if (ref === undefined) return undefined;
    if (/^\d+$/.test(ref)) return Number(ref) < before ? Number(ref) : undefined;
    const i = stages.findIndex((s, j) => j < before && s.from.stageName?.toLowerCase() === ref.toLowerCase());
    return i >= 0 ? i : undefined;
  };
  const visit = (i: number): void => {
    const s = stages[i];
    if (s === undefined || used.has(i)) return;
    used.add(i);
    const refs = [s.from.baseName, ...s.instructions.flatMap((x) => (x.kind === 'copy' && x.from !== undefined ? [x.from] : []))];
    for (const m of runMounts(s)) if ((m.type === 'bind' || m.type === 'cache') && m.from !== undefined) refs.push(m.from);
    for (const ref of refs) {
      const j = byRef(ref, i);
      if (j !== undefined) visit(j);
    }
  };
  visit(target);
  return used;
}

/** runMounts parses the `RUN --mount` flags of a stage as written (unexpanded: only ids and stage names matter here). */
function runMounts(stage: Stage): RunMount[] {
  return stage.instructions.flatMap((x) => (x.kind === 'run' ? x.mounts.map((raw) => parseMountFlag(raw, x.location, (v) => v)) : []));
}

/** table renders rows in columns padded to their widest cell, as buildx prints them. */
function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd((widths[c] ?? 0) + 4))).join('').trimEnd()).join('\n') + '\n';
}
