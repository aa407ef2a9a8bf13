import { DockerfileError, assertNever } from '../../base/errors.js';
import type { CopyAction, Edge, FileAction, FileOp } from '../../solver/graph/index.js';
import type { AddInstruction, CopyInstruction, HeredocNode } from '../instructions/index.js';
import { chompHeredocContent } from '../parser/index.js';
import type { CompileContext } from './context.js';
import { displayText, expandWord, runLexer } from './expand.js';
import { commitHistory } from './image-state.js';
import { contextIncludePattern, parseChown, resolveInWorkdir } from './paths.js';
import { contextSource } from './context-source.js';
import { resolveCopyFrom } from './copy-from.js';
import { classifyAddSource, gitSourceEdge, httpSourceEdge, urlFilename } from './add-source.js';
import { stageProcess, vertexName, type StageState } from './stage-state.js';
import { checkIgnoredSources } from './lint-instructions.js';

const REMOTE_SOURCE = /^(https?:\/\/|git@|git:\/\/|ssh:\/\/)/i;

/** ExpandedCopy is a COPY/ADD with its words expanded. */
export interface ExpandedCopy {
  readonly paths: readonly string[];
  readonly heredocs: readonly HeredocNode[];
  readonly dest: string;
  readonly chown: string | undefined;
  readonly chmod: string | undefined;
  readonly excludes: readonly string[];
}

function expandCopy(ctx: CompileContext, state: StageState, c: CopyInstruction | AddInstruction): ExpandedCopy {
  const ex = (w: string): string => expandWord(ctx, state, w, c.location);
  const paths: string[] = [];
  const heredocs: HeredocNode[] = [];
  for (const s of c.sources) {
    switch (s.type) {
      case 'path':
        paths.push(ex(s.path));
        break;
      case 'heredoc':
        heredocs.push(s.heredoc);
        break;
      default:
        assertNever(s, 'copy source');
    }
  }
  return {
    paths,
    heredocs,
    dest: ex(c.dest),
    chown: c.chown === undefined ? undefined : ex(c.chown),
    chmod: c.chmod === undefined ? undefined : ex(c.chmod),
    excludes: c.excludes.map(ex),
  };
}

/**
 * checkChmod refuses a --chmod that looks numeric but is no octal mode up to 07777, with BuildKit's words; symbolic
 * modes (u+x,g-w) are read when the copy runs.
 */
function checkChmod(c: CopyInstruction | AddInstruction, chmod: string | undefined): void {
  if (chmod === undefined || !/^[0-9]/.test(chmod)) return;
  if (/^[0-7]+$/.test(chmod) && Number.parseInt(chmod, 8) <= 0o7777) return;
  throw new DockerfileError(`invalid chmod parameter: '${chmod}'. it should be octal string and between 0 and 07777`, { location: c.location });
}

/**
 * heredocCopy makes a heredoc a 0644 file on scratch and copies it like any other source, as BuildKit does: the
 * destination, --chown and --chmod (symbolic too) then behave as for files from the context.
 */
function heredocCopy(ctx: CompileContext, state: StageState, c: CopyInstruction | AddInstruction, e: ExpandedCopy, h: HeredocNode, input: number): { edge: Edge; action: CopyAction } {
  let data = h.chomp ? chompHeredocContent(h.content) : h.content;
  if (h.expand) data = runLexer(ctx.heredocLexer, data, state.env, c.location).result;
  const edge = ctx.graph.add(
    { kind: 'file', base: null, actions: [{ action: 'mkfile', path: `/${h.name}`, mode: 0o644, data }], platform: state.platform },
    [],
    { name: '[internal] preparing inline document', location: c.location },
  );
  return { edge, action: copyAction(state, e, input, [`/${h.name}`], false, false) };
}

/** historySources lists the paths, then the heredocs, as BuildKit writes them whatever their order in the line. */
function historySources(e: ExpandedCopy): string[] {
  return [...e.paths, ...e.heredocs.map((h) => `<<${h.name}`)];
}

function remoteAction(ctx: CompileContext, state: StageState, c: CopyInstruction | AddInstruction, e: ExpandedCopy, src: string, input: number): { edge: Edge; action: CopyAction } | undefined {
  if (c.kind !== 'add') return undefined;
  const kind = classifyAddSource(src);
  let edge: Edge;
  let sources: string[];
  let extract = false;
  switch (kind.type) {
    case 'local':
      return undefined;
    case 'http':
      edge = httpSourceEdge(ctx, state, kind.url, c.checksum === undefined ? undefined : expandWord(ctx, state, c.checksum, c.location), c.location);
      sources = [urlFilename(kind.url)];
      // A downloaded archive is kept as it is unless --unpack=true asks for it to be extracted.
      extract = c.unpack === true;
      break;
    case 'git':
      edge = gitSourceEdge(
        ctx,
        state,
        kind.git,
        { keepGitDir: c.keepGitDir, checksum: c.checksum === undefined ? undefined : expandWord(ctx, state, c.checksum, c.location) },
        c.location,
      );
      sources = ['/'];
      break;
    default:
      return assertNever(kind, 'ADD source');
  }
  return { edge, action: copyAction(state, e, input, sources, extract, false) };
}

function copyAction(state: StageState, e: ExpandedCopy, input: number, sources: readonly string[], extractArchives: boolean, parents: boolean): CopyAction {
  return {
    action: 'copy',
    input,
    sources,
    dest: resolveInWorkdir(state.workdir, e.dest),
    ...(e.chown === undefined ? {} : { chown: parseChown(e.chown) }),
    ...(e.chmod === undefined ? {} : { chmod: e.chmod }),
    excludes: e.excludes,
    extractArchives,
    parents,
  };
}

/**
 * sourceExcludes are the --exclude patterns a local context source can apply itself, so that excluded files change
 * no cache key. The copy matches them below the source it copies (its pivot with --parents), never against the
 * source itself, so they are rooted there: exact for one source without `**`; otherwise only the copy applies them.
 */
export function sourceExcludes(paths: readonly string[], excludes: readonly string[], parents: boolean): string[] {
  const src = paths.length === 1 ? paths[0] : undefined;
  if (excludes.length === 0 || src === undefined) return [];
  const pivot = src.indexOf('/./');
  const base = contextIncludePattern(parents ? (pivot < 0 ? '' : src.slice(0, pivot)) : src);
  if (base.split('/').includes('**')) return [];
  return excludes.map((x) => {
    const negated = x.startsWith('!');
    const pattern = (negated ? x.slice(1) : x).replace(/^\/+/, '');
    return `${negated ? '!' : ''}${base === '.' ? pattern : `${base}/${pattern}`}`;
  });
}

/** dispatchCopy adds a FileOp for COPY or ADD from the context, a stage, an image, a URL, a git repository or heredocs. */
export async function dispatchCopy(ctx: CompileContext, state: StageState, c: CopyInstruction | AddInstruction, onBuild: boolean): Promise<void> {
  const e = expandCopy(ctx, state, c);
  checkChmod(c, e.chmod);
  if (c.kind === 'copy' && e.paths.some((p) => REMOTE_SOURCE.test(p))) {
    throw new DockerfileError('source can\'t be a URL for COPY', { location: c.location });
  }
  // --link copies onto scratch and stacks the result on the stage: the layer does not depend on the base.
  // With --chmod BuildKit copies onto the stage instead, so the directories it creates never replace existing ones.
  const linked = c.link && e.chmod === undefined && state.edge !== null;
  const inputs: Edge[] = state.edge === null || linked ? [] : [state.edge];
  // The sources are copied in the order written, as BuildKit does: the paths of the context (or of --from) in
  // runs between URLs and git sources, all read from one source input.
  const ordered: (CopyAction | string)[] = [];
  const local: string[] = [];
  for (const p of e.paths) {
    const remote = remoteAction(ctx, state, c, e, p, inputs.length);
    if (remote === undefined) {
      local.push(p);
      ordered.push(p);
      continue;
    }
    inputs.push(remote.edge);
    ordered.push(remote.action);
  }
  if (c.kind === 'add' && c.checksum !== undefined && local.length > 0) {
    throw new DockerfileError('checksum can\'t be specified for non-HTTP(S) sources', { location: c.location });
  }
  const actions: FileAction[] = [];
  if (local.length > 0) {
    const from = c.kind === 'copy' ? c.from : undefined;
    const parents = c.kind === 'copy' && c.parents;
    const le: ExpandedCopy = { ...e, paths: local, excludes: sourceExcludes(local, e.excludes, parents) };
    if (from === undefined && !onBuild) checkIgnoredSources(ctx, c, local);
    const source = from === undefined ? contextSource(ctx, state, le, 'context', c.location) : await resolveCopyFrom(ctx, state, from, c.location, le);
    const input = inputs.length;
    inputs.push(source);
    let run: string[] = [];
    const flush = (): void => {
      if (run.length > 0) actions.push(copyAction(state, e, input, run, c.kind === 'add' && (c.unpack ?? true), parents));
      run = [];
    };
    for (const o of ordered) {
      if (typeof o === 'string') run.push(o);
      else {
        flush();
        actions.push(o);
      }
    }
    flush();
  } else actions.push(...ordered.filter((o): o is CopyAction => typeof o !== 'string'));
  // Heredocs are copied after the paths, as BuildKit orders them: with one destination file, the last one stays.
  for (const h of e.heredocs) {
    const doc = heredocCopy(ctx, state, c, e, h, inputs.length);
    inputs.push(doc.edge);
    actions.push(doc.action);
  }
  const op: FileOp = { kind: 'file', base: state.edge === null || linked ? null : 0, actions, platform: state.platform };
  const metadata = {
    name: vertexName(state, displayText(ctx, state, c.original), onBuild),
    location: c.location,
    process: stageProcess(state),
  };
  const changed = ctx.graph.add(op, inputs, metadata);
  state.edge = linked && state.edge !== null ? ctx.graph.add({ kind: 'merge', platform: state.platform }, [state.edge, changed], { ...metadata, name: `${metadata.name} (link)` }) : changed;
  // As BuildKit words it: --parents, --chown and --chmod as expanded, the sources, then the expanded destination.
  const flags = [
    ...(c.kind === 'copy' && c.parents ? ['--parents'] : []),
    ...(e.chown === undefined || e.chown === '' ? [] : [`--chown=${e.chown}`]),
    ...(e.chmod === undefined || e.chmod === '' ? [] : [`--chmod=${e.chmod}`]),
  ];
  const createdBy = [c.kind.toUpperCase(), ...flags, ...historySources(e), e.dest].join(' ');
  commitHistory(state.image, createdBy, { layer: true, buildkitSuffix: true });
}
