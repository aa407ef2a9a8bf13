import type { SourceLocation } from '../../base/errors.js';
import { formatPlatform, type Platform } from '../../base/oci.js';
import { normalizePlatform } from '../../base/platform.js';
import type { Edge, StageProcess } from '../../solver/graph/index.js';
import type { ImageState } from './image-state.js';

/** BuildArgValue is an ARG declared in a stage with its resolved value. */
export interface BuildArgValue {
  readonly key: string;
  readonly value: string | undefined;
}

/** StageState is a stage being compiled: its graph state, image config and scope. */
export interface StageState {
  readonly index: number;
  /** Lower-cased stage name, if any. */
  readonly name: string | undefined;
  /** Stage label in vertex names (`build`, `stage-1`; empty for a one-stage Dockerfile). */
  readonly label: string;
  /** One of several platforms built together: step names start with this platform, the stage's. */
  readonly namePlatform?: Platform;
  /** The platform its steps run for: the one asked, or that of a base image made for another one. */
  readonly platform: Platform;
  /** The platform of a base image (here or in the stage this one builds on) made for another OS or architecture than asked. */
  readonly basePlatform?: Platform;
  /** --no-cache, or --no-cache-filter names this stage: its RUNs run again. */
  readonly ignoreCache: boolean;
  edge: Edge | null;
  image: ImageState;
  /** Variables seen by instructions and RUN: image Env plus ARG values. */
  env: Map<string, string>;
  buildArgs: BuildArgValue[];
  workdir: string;
  user: string;
  cmdIndex: number;
  cmdTotal: number;
  cmdSet: boolean;
  /** A WORKDIR of this Dockerfile set the directory (here or in the stage this one builds on): WorkdirRelativePath. */
  workdirSet: boolean;
  /** Where CMD, ENTRYPOINT and HEALTHCHECK were last given in this stage: MultipleInstructionsDisallowed. */
  readonly lastGiven: Map<string, SourceLocation>;
}

/** setScopeVar sets a variable in a stage scope, moving it to the end as BuildKit's env list does. */
export function setScopeVar(env: Map<string, string>, key: string, value: string): void {
  env.delete(key);
  env.set(key, value);
}

/** envList renders a scope as KEY=value strings. */
export function envList(env: ReadonlyMap<string, string>): string[] {
  return [...env].map(([k, v]) => `${k}=${v}`);
}

/** stageProcess is the process settings of the stage as they stand: what a RUN here would get (env, folder, user). */
export function stageProcess(state: StageState): StageProcess {
  return { env: envList(state.env), cwd: state.workdir, user: state.user };
}

/** vertexName prefixes a command like BuildKit's progress: `[build 2/5] RUN make`. */
export function vertexName(state: StageState, text: string, onBuild = false): string {
  if (state.cmdTotal === 0) return text;
  state.cmdIndex++;
  const width = String(state.cmdTotal).length;
  const label = [platformLabel(state), state.label].filter((s) => s !== '').map((s) => `${s} `).join('');
  return `[${label}${String(state.cmdIndex).padStart(width, ' ')}/${state.cmdTotal}] ${onBuild ? 'ONBUILD ' : ''}${text}`;
}

/**
 * platformLabel names the stage's platform in step names when several platforms are built together, as BuildKit does:
 * with `->ARCH` (or `->OS/ARCH`) when the stage's TARGET* arguments name another target, as in a stage
 * `FROM --platform=$BUILDPLATFORM` that declares `ARG TARGETARCH`.
 */
function platformLabel(state: StageState): string {
  if (state.namePlatform === undefined) return '';
  const base = normalizePlatform(state.namePlatform);
  const target = targetOfScope(state.env);
  if (target === undefined) return formatPlatform(base);
  const t = normalizePlatform({ os: target.os || base.os, architecture: target.architecture || base.architecture, ...(target.variant ? { variant: target.variant } : {}) });
  if (t.os === base.os && t.architecture !== base.architecture) return `${formatPlatform(base)}->${t.architecture}${t.variant ? `/${t.variant}` : ''}`;
  if (t.os !== base.os) return `${formatPlatform(base)}->${formatPlatform(t)}`;
  return formatPlatform(base);
}

/** targetOfScope reads the target platform from a stage's TARGETPLATFORM, or its TARGETOS, TARGETARCH and TARGETVARIANT. */
function targetOfScope(env: ReadonlyMap<string, string>): Platform | undefined {
  const full = env.get('TARGETPLATFORM');
  if (full !== undefined) {
    const [os = '', architecture = '', variant] = full.split('/');
    return { os, architecture, ...(variant ? { variant } : {}) };
  }
  const os = env.get('TARGETOS');
  const architecture = env.get('TARGETARCH');
  const variant = env.get('TARGETVARIANT');
  if (os === undefined && architecture === undefined && variant === undefined) return undefined;
  return { os: os ?? '', architecture: architecture ?? '', ...(variant ? { variant } : {}) };
}
