// `--call outline`: the build args, secrets and SSH agents the target stage uses, worked out as BuildKit's
// dockerfile2llb outline capture does, from the Dockerfile alone (no image is resolved, nothing runs).
import type { SourceLocation } from '../../base/errors.js';
import { parseMountFlag, type ArgInstruction, type Stage } from '../instructions/index.js';
import type { ShellLexer } from '../shell/index.js';
import { docComment, describeLocation, type Outline, type OutlineArg, type OutlineMount } from './describe-types.js';
import { runLexer } from './expand.js';

/** ArgInfo is one declaration of a build arg: the value it ends up with and the args its default named. */
export interface ArgInfo {
  readonly name: string;
  readonly value: string;
  readonly description: string;
  readonly location: SourceLocation;
  readonly deps: ReadonlySet<string>;
}

interface MountInfo {
  readonly required: boolean;
  readonly location: SourceLocation;
}

/** Capture is what a stage uses: the args declared so far and which of them are used, and its mounts. */
interface Capture {
  readonly allArgs: Map<string, ArgInfo>;
  readonly usedArgs: Set<string>;
  readonly secrets: Map<string, MountInfo>;
  readonly ssh: Map<string, MountInfo>;
}

const clone = (c: Capture): Capture => ({ allArgs: new Map(c.allArgs), usedArgs: new Set(c.usedArgs), secrets: new Map(c.secrets), ssh: new Map(c.ssh) });

/** StageOutline is a stage after its instructions: what it captured, its base stage and the stages it copies or mounts from. */
interface StageOutline {
  /** The capture as FROM left it, which a stage built on this one starts from (as BuildKit clones it then). */
  readonly atFrom: Capture;
  readonly capture: Capture;
  readonly env: ReadonlyMap<string, string>;
  readonly base: number | undefined;
  readonly deps: ReadonlySet<number>;
}

/** OutlineInput is a parsed Dockerfile and the build's global scope. */
export interface OutlineInput {
  readonly stages: readonly Stage[];
  readonly comments: ReadonlyMap<number, readonly string[]>;
  readonly lexer: ShellLexer;
  readonly buildArgs: ReadonlyMap<string, string>;
  /** The global args: built-in platform args, then the ARGs before the first FROM. */
  readonly globalArgs: ReadonlyMap<string, string>;
  /** The declarations of the ARGs before the first FROM, the last of each name. */
  readonly metaArgs: ReadonlyMap<string, ArgInfo>;
}

/**
 * metaArgInfos reads the ARGs before the first FROM into the global args, noting for each the args its default used
 * (an arg that names itself keeps what its earlier declaration used), as BuildKit's buildMetaArgs does.
 */
export function metaArgInfos(
  metaArgs: readonly ArgInstruction[],
  o: { lexer: ShellLexer; buildArgs: ReadonlyMap<string, string>; comments: ReadonlyMap<number, readonly string[]>; args: Map<string, string> },
): Map<string, ArgInfo> {
  const infos = new Map<string, ArgInfo>();
  for (const cmd of metaArgs) {
    for (const { key, value: raw } of cmd.args) {
      let value = o.buildArgs.get(key);
      let deps = new Set<string>();
      if (value === undefined && raw !== undefined) {
        const r = runLexer(o.lexer, raw, o.args, cmd.location);
        value = r.result;
        deps = new Set(r.matched);
        if (deps.delete(key)) for (const k of infos.get(key)?.deps ?? []) deps.add(k);
      }
      if (value !== undefined) o.args.set(key, value);
      infos.set(key, { name: key, value: value ?? '', description: docComment(o.comments.get(cmd.location.startLine) ?? [], key), location: cmd.location, deps });
    }
  }
  return infos;
}

/** outlineTarget outlines the stage at index: its name and description and what it and the stages it uses need. */
export function outlineTarget(input: OutlineInput, index: number, source: string): Outline {
  const outlines = new Map<number, StageOutline>();
  const global: Capture = { allArgs: new Map(input.metaArgs), usedArgs: new Set(), secrets: new Map(), ssh: new Map() };
  const outlineOf = (i: number): StageOutline => {
    let done = outlines.get(i);
    if (done === undefined) {
      done = outlineStage(input, i, global, outlineOf);
      outlines.set(i, done);
    }
    return done;
  };
  const args = collect(index, outlineOf, (c) => {
    markDepsUsed(c);
    return [...c.usedArgs].flatMap((k) => {
      const a = c.allArgs.get(k);
      return a === undefined ? [] : [[k, a] as const];
    });
  }).map(([, a]): OutlineArg => ({ name: a.name, ...(a.description === '' ? {} : { description: a.description }), ...(a.value === '' ? {} : { value: a.value }), location: describeLocation(a.location) }));
  const mounts = (pick: (c: Capture) => Map<string, MountInfo>): OutlineMount[] =>
    collect(index, outlineOf, (c) => [...pick(c)]).map(([name, m]) => ({ name, ...(m.required ? { required: true as const } : {}), location: describeLocation(m.location) }));
  const stage = input.stages[index];
  const name = stage?.from.stageName?.toLowerCase();
  const description = docComment(input.comments.get(stage?.from.location.startLine ?? 0) ?? [], name);
  const secrets = mounts((c) => c.secrets);
  const ssh = mounts((c) => c.ssh);
  return {
    ...(name === undefined ? {} : { name }),
    ...(description === '' ? {} : { description }),
    ...(args.length === 0 ? {} : { args }),
    ...(secrets.length === 0 ? {} : { secrets }),
    ...(ssh.length === 0 ? {} : { ssh }),
    sources: [Buffer.from(source).toString('base64')],
  };
}

/**
 * collect lists the entries of the stage, then of its base and of the stages it uses, each name once (the first
 * found wins), ordered by the line that declares them, as BuildKit's outline lists args, secrets and SSH agents.
 */
function collect<T extends { readonly location: SourceLocation }>(
  index: number,
  outlineOf: (i: number) => StageOutline,
  entries: (c: Capture) => (readonly [string, T])[],
): (readonly [string, T])[] {
  const seen = new Map<string, T>();
  const visit = (i: number): void => {
    const s = outlineOf(i);
    for (const [k, v] of entries(s.capture)) if (!seen.has(k)) seen.set(k, v);
    if (s.base !== undefined) visit(s.base);
    for (const d of s.deps) visit(d);
  };
  visit(index);
  return [...seen].sort(([, a], [, b]) => a.location.startLine - b.location.startLine);
}

/** markDepsUsed marks the args that the defaults of used args named as used too. */
function markDepsUsed(c: Capture): void {
  const mark = (k: string): void => {
    for (const d of c.allArgs.get(k)?.deps ?? []) {
      if (c.usedArgs.has(d)) continue;
      c.usedArgs.add(d);
      mark(d);
    }
  };
  for (const k of [...c.usedArgs]) mark(k);
}

/** stageRef finds the stage a FROM, COPY --from or RUN --mount from= names, among those before `before`. */
function stageRef(stages: readonly Stage[], ref: string | undefined, before: number): number | undefined {
  if (ref === undefined || ref === '') return undefined;
  if (/^\d+$/.test(ref)) return Number(ref) < before ? Number(ref) : undefined;
  const i = stages.findIndex((s, j) => j < before && s.from.stageName?.toLowerCase() === ref.toLowerCase());
  return i >= 0 ? i : undefined;
}

/** outlineStage dispatches one stage's FROM, ARG, ENV, COPY --from and RUN --mount as BuildKit's outline capture sees them. */
function outlineStage(input: OutlineInput, i: number, global: Capture, outlineOf: (i: number) => StageOutline): StageOutline {
  const { stages, lexer, globalArgs, buildArgs } = input;
  const stage = stages[i];
  if (stage === undefined) throw new RangeError(`stage ${i} out of range`);
  const { from } = stage;
  const baseName = runLexer(lexer, from.baseName, globalArgs, from.location);
  const base = stageRef(stages, baseName.result, i);
  const baseOutline = base === undefined ? undefined : outlineOf(base);
  const capture = clone(baseOutline?.atFrom ?? global);
  for (const k of baseName.matched) capture.usedArgs.add(k);
  if (from.platform !== undefined) for (const k of runLexer(lexer, from.platform, globalArgs, from.location).matched) capture.usedArgs.add(k);
  const atFrom = clone(capture);
  // The stage's variables, for expanding ARG defaults and mount ids: a base image's own ENV is not known here.
  const env = new Map(baseOutline?.env ?? []);
  const deps = new Set<number>();
  const expand = (word: string, location: SourceLocation): string => runLexer(lexer, word, env, location).result;
  for (const x of stage.instructions) {
    if (x.kind === 'arg') {
      for (const { key, value: raw } of x.args) {
        const given = buildArgs.get(key);
        // An ARG without a default takes the global value, and then keeps the global declaration in the outline.
        const inherited = given === undefined && raw === undefined ? globalArgs.get(key) : undefined;
        const value = given ?? inherited ?? (raw === undefined ? undefined : expand(raw, x.location));
        if (value !== undefined) env.set(key, value);
        if (inherited === undefined) {
          capture.allArgs.set(key, { name: key, value: value ?? '', description: docComment(input.comments.get(x.location.startLine) ?? [], key), location: x.location, deps: new Set() });
        }
        capture.usedArgs.add(key);
      }
    } else if (x.kind === 'env') {
      for (const pair of x.pairs) env.set(pair.key, expand(pair.value, x.location));
    } else if (x.kind === 'copy') {
      const d = stageRef(stages, x.from, i);
      if (d !== undefined) deps.add(d);
    } else if (x.kind === 'run') {
      for (const raw of x.mounts) {
        const m = parseMountFlag(raw, x.location, (v) => expand(v, x.location));
        if (m.type === 'secret' && !capture.secrets.has(m.id)) capture.secrets.set(m.id, { required: m.required, location: x.location });
        if (m.type === 'ssh' && !capture.ssh.has(m.id)) capture.ssh.set(m.id, { required: m.required, location: x.location });
        const d = m.type === 'bind' || m.type === 'cache' ? stageRef(stages, m.from, i) : undefined;
        if (d !== undefined) deps.add(d);
      }
    }
  }
  return { atFrom, capture, env, base, deps };
}
