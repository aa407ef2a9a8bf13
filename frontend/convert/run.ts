import { posix } from 'node:path';
import { DockerfileError } from '../../base/errors.js';
import type { Edge, ExecMount, ExecOp, NetworkMode, SecurityMode } from '../../solver/graph/index.js';
import type { RunInstruction } from '../instructions/index.js';
import { chompHeredocContent } from '../parser/index.js';
import type { CompileContext } from './context.js';
import { displayText } from './expand.js';
import { commitHistory } from './image-state.js';
import { compileRunMounts } from './run-mounts.js';
import { envList, vertexName, type StageState } from './stage-state.js';

const DEFAULT_SHELL = ['/bin/sh', '-c'];
const HEREDOC_MARKER = /^<<-?(["']?)([^"'\s]+)\1$/;

/** withShell wraps shell-form arguments in the stage's SHELL. */
export function withShell(state: StageState, args: readonly string[]): string[] {
  const shell = state.image.config.Shell;
  return [...(shell !== undefined && shell.length > 0 ? shell : DEFAULT_SHELL), args.join(' ')];
}

interface RunCommand {
  readonly args: readonly string[];
  readonly mounts: readonly { readonly edge: Edge; readonly dest: string }[];
  readonly summary: string | undefined;
}

function summarizeHeredoc(content: string): string {
  const lines = content.trim().split(/\r?\n/);
  return lines.length > 1 ? `${lines[0] ?? ''}...` : (lines[0] ?? '');
}

/** heredocCommand turns `RUN <<EOF` into the script the shell runs, as BuildKit does. */
function heredocCommand(ctx: CompileContext, state: StageState, run: RunInstruction): RunCommand {
  const [first] = run.heredocs;
  const line = run.args[0] ?? '';
  if (first === undefined || !run.prependShell || run.args.length !== 1) return { args: run.args, mounts: [], summary: undefined };
  if (!HEREDOC_MARKER.test(line)) {
    // Several heredocs or a command around them: hand the whole text to the shell.
    const script = [line, ...run.heredocs.map((h) => `${h.content}${h.name}`)].join('\n');
    return { args: [script], mounts: [], summary: undefined };
  }
  const data = first.chomp ? chompHeredocContent(first.content) : first.content;
  const summary = summarizeHeredoc(first.content);
  if (!data.startsWith('#!')) return { args: [data], mounts: [], summary };
  // A script with a shebang runs as a file mounted from a scratch layer.
  const file = ctx.graph.add(
    { kind: 'file', base: null, actions: [{ action: 'mkfile', path: `/${first.name}`, mode: 0o755, data }], platform: state.platform },
    [],
    { name: 'preparing inline document', location: run.location },
  );
  return { args: [posix.join('/dev/pipes/', first.name)], mounts: [{ edge: file, dest: '/dev/pipes/' }], summary };
}

function networkMode(run: RunInstruction): NetworkMode {
  const v = run.network ?? 'default';
  if (v === 'default' || v === 'none' || v === 'host') return v;
  throw new DockerfileError(`Cannot use network mode "${v}": expected default, none or host`, { location: run.location });
}

function securityMode(run: RunInstruction): SecurityMode {
  const v = run.security ?? 'sandbox';
  if (v === 'sandbox' || v === 'insecure') return v;
  throw new DockerfileError(`Cannot use security mode "${v}": expected sandbox or insecure`, { location: run.location });
}

/** withSecretEnvMask shows a variable a secret is exposed as as `****` in the step's name, as BuildKit does. */
function withSecretEnvMask(env: ReadonlyMap<string, string>, mounts: readonly ExecMount[]): ReadonlyMap<string, string> {
  const secretEnv = mounts.flatMap((m) => (m.type === 'secret' && m.env !== undefined ? [m.env] : []));
  if (secretEnv.length === 0) return env;
  const masked = new Map(env);
  for (const name of secretEnv) masked.set(name, '****');
  return masked;
}

/** runCommandString renders RUN for history, prefixed with the stage's declared ARGs like `|1 A=b`. */
function runCommandString(state: StageState, args: readonly string[]): string {
  const seen = new Map<string, string>();
  for (const a of state.buildArgs) seen.set(a.key, state.env.get(a.key) ?? a.value ?? '');
  const prefix = seen.size === 0 ? [] : [`|${seen.size}`, ...[...seen].map(([k, v]) => `${k}=${v}`)];
  return [...prefix, ...args].join(' ');
}

/** dispatchRun adds an ExecOp running the command over the stage's root. */
export async function dispatchRun(ctx: CompileContext, state: StageState, run: RunInstruction, onBuild: boolean): Promise<void> {
  const command = heredocCommand(ctx, state, run);
  const args = run.prependShell ? withShell(state, command.args) : [...command.args];
  const inputs: Edge[] = state.edge === null ? [] : [state.edge];
  const mounts: ExecMount[] = [{ type: 'bind', input: state.edge === null ? null : 0, dest: '/', output: 0, readonly: false }];
  for (const m of command.mounts) {
    mounts.push({ type: 'bind', input: inputs.length, dest: m.dest, output: null, readonly: true, selector: '/' });
    inputs.push(m.edge);
  }
  const extra = await compileRunMounts(ctx, state, run, inputs.length);
  mounts.push(...extra.mounts);
  inputs.push(...extra.inputs);
  const { resources, ...settings } = ctx.options.run ?? {};
  const op: ExecOp = {
    kind: 'exec',
    meta: { args, env: envList(state.env), cwd: state.workdir, user: state.user, ...settings },
    mounts,
    network: networkMode(run),
    security: securityMode(run),
    platform: state.platform,
    ...(ctx.proxyEnv === undefined ? {} : { proxyEnv: ctx.proxyEnv }),
    ...(resources === undefined ? {} : { resources }),
  };
  const text = displayText(ctx, state, run.original, withSecretEnvMask(state.env, extra.mounts)) + (command.summary === undefined ? '' : ` (${command.summary})`);
  state.edge = ctx.graph.add(op, inputs, {
    name: vertexName(state, text, onBuild),
    location: run.location,
    // Only RUN ignores the cache, as in BuildKit: a COPY or WORKDIR after it misses anyway when the RUN made other
    // files, and makes the same files from the same inputs otherwise.
    ...(state.ignoreCache ? { ignoreCache: true } : {}),
  });
  commitHistory(state.image, `RUN ${runCommandString(state, args)}`, { layer: true, buildkitSuffix: true });
}
