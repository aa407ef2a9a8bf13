import { posix } from 'node:path';
import type { SourceLocation } from '../../base/errors.js';
import type { Edge, ExecMount } from '../../solver/graph/index.js';
import { mountLocation, parseMountFlag, type RunInstruction, type RunMount } from '../instructions/index.js';
import type { CompileContext } from './context.js';
import { resolveCopyFrom } from './copy-from.js';
import { expandWord } from './expand.js';
import { contextIncludePattern } from './paths.js';
import type { StageState } from './stage-state.js';

/** RunMounts are the extra mounts of one RUN and the inputs they read (appended after the root input). */
export interface RunMounts {
  readonly mounts: readonly ExecMount[];
  readonly inputs: readonly Edge[];
}

function target(state: StageState, p: string): string {
  const abs = posix.normalize(posix.isAbsolute(p) ? p : posix.join('/', state.workdir, p));
  return abs.length > 1 ? abs.replace(/\/+$/, '') : abs;
}

function selector(source: string): string {
  return posix.normalize(`/${source}`);
}

/** contextSource reads exactly one path of the build context, so only that path is hashed into the cache key. */
function contextSource(ctx: CompileContext, state: StageState, source: string, location: SourceLocation): Edge {
  const pattern = contextIncludePattern(source);
  return ctx.graph.add(
    { kind: 'source', source: { type: 'local', name: 'context', includePatterns: pattern === '.' ? [] : [pattern], excludePatterns: [] }, platform: state.platform },
    [],
    { name: '[internal] load build context', location },
  );
}

/** cacheDirEdge adds the op making /cache with a cache mount's mode and owner, on `base` or on scratch. */
function cacheDirEdge(ctx: CompileContext, state: StageState, owner: { mode: number; uid: number; gid: number }, base: Edge | null): Edge {
  const mkdir = { action: 'mkdir' as const, path: '/cache', mode: owner.mode, makeParents: false, chown: { user: String(owner.uid), group: String(owner.gid) } };
  return ctx.graph.add({ kind: 'file', base: base === null ? null : 0, actions: [mkdir], platform: state.platform }, base === null ? [] : [base], {
    name: '[internal] setting cache mount permissions',
    ...(state.ignoreCache ? { ignoreCache: true } : {}),
  });
}

/** compileRunMounts turns the `--mount` flags of a RUN into exec mounts; firstInput is the index of the next input. */
export async function compileRunMounts(ctx: CompileContext, state: StageState, run: RunInstruction, firstInput: number): Promise<RunMounts> {
  const mounts: ExecMount[] = [];
  const inputs: Edge[] = [];
  let sshCount = 0;
  for (const raw of run.mounts) {
    const location = mountLocation(run.location, run.original, raw);
    const spec: RunMount = parseMountFlag(raw, location, (v) => expandWord(ctx, state, v, location));
    const input = async (from: string | undefined, source: string): Promise<number> => {
      inputs.push(from === undefined ? contextSource(ctx, state, source, location) : await resolveCopyFrom(ctx, state, from, location, { paths: [source === '' ? '.' : source], excludes: [] }));
      return firstInput + inputs.length - 1;
    };
    switch (spec.type) {
      case 'bind': {
        const index = await input(spec.from, spec.source);
        mounts.push({ type: 'bind', input: index, dest: target(state, spec.target), output: null, readonly: !spec.readwrite, selector: selector(spec.source) });
        break;
      }
      case 'cache': {
        let seeded = spec.from === undefined ? null : await input(spec.from, spec.source);
        let source = spec.source;
        if (selector(spec.source) === '/' && (spec.mode !== 0o755 || spec.uid !== 0 || spec.gid !== 0)) {
          // As dockerfile2llb does: a mode or owner makes /cache on the from input (scratch without one) and mounts that,
          // so the cache starts as that directory, and a run that makes it again (--no-cache) starts a cache of its own.
          const fromEdge = seeded === null ? null : (inputs.pop() ?? null);
          inputs.push(cacheDirEdge(ctx, state, spec, fromEdge));
          seeded = firstInput + inputs.length - 1;
          source = '/cache';
        }
        const { type, id, sharing, readonly, mode, uid, gid } = spec;
        mounts.push({
          type, id, sharing, readonly, mode, uid, gid,
          dest: target(state, spec.target),
          input: seeded,
          ...(seeded === null ? {} : { selector: selector(source) }),
        });
        break;
      }
      case 'tmpfs':
        mounts.push({ type: 'tmpfs', dest: target(state, spec.target), ...(spec.sizeBytes === undefined ? {} : { sizeBytes: spec.sizeBytes }) });
        break;
      case 'secret': {
        const { id, required, mode, uid, gid } = spec;
        mounts.push({ type: 'secret', id, required, mode, uid, gid, dest: spec.target === null ? null : target(state, spec.target), ...(spec.env === undefined ? {} : { env: spec.env }) });
        break;
      }
      case 'ssh': {
        const { id, required, mode, uid, gid } = spec;
        const dest = spec.target === null ? `/run/buildkit/ssh_agent.${sshCount}` : target(state, spec.target);
        mounts.push({ type: 'ssh', id, required, mode, uid, gid, dest, setEnv: spec.target === null });
        sshCount++;
        break;
      }
    }
  }
  return { mounts, inputs };
}
