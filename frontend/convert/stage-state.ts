import type { SourceLocation } from '../../base/errors.js';
import type { Platform } from '../../base/oci.js';
import type { Edge } from '../../solver/graph/index.js';
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

/** vertexName prefixes a command like BuildKit's progress: `[build 2/5] RUN make`. */
export function vertexName(state: StageState, text: string, onBuild = false): string {
  if (state.cmdTotal === 0) return text;
  state.cmdIndex++;
  const width = String(state.cmdTotal).length;
  const label = state.label === '' ? '' : `${state.label} `;
  return `[${label}${String(state.cmdIndex).padStart(width, ' ')}/${state.cmdTotal}] ${onBuild ? 'ONBUILD ' : ''}${text}`;
}
