import type { SourceLocation } from '../../base/errors.js';
import type { HeredocNode } from './node.js';

/** InstructionBase holds what every instruction carries: where it is and how it was written. */
export interface InstructionBase {
  readonly location: SourceLocation;
  /** The instruction's source text (first line plus continuations, heredoc bodies excluded). */
  readonly original: string;
  /** The keyword as written, e.g. `from` or `FROM`. */
  readonly keyword: string;
}

/** KeyValuePair is one ENV or LABEL entry; noDelim marks the legacy `KEY value` form. */
export interface KeyValuePair {
  readonly key: string;
  readonly value: string;
  readonly noDelim: boolean;
}

/** ArgDefinition is one ARG name with its optional default (unexpanded). */
export interface ArgDefinition {
  readonly key: string;
  readonly value: string | undefined;
}

/** HealthcheckOptions is a parsed HEALTHCHECK; durations are in nanoseconds. */
export interface HealthcheckOptions {
  readonly test: readonly string[];
  readonly interval?: number;
  readonly timeout?: number;
  readonly startPeriod?: number;
  readonly startInterval?: number;
  readonly retries?: number;
}

/** FromInstruction starts a build stage. */
export interface FromInstruction extends InstructionBase {
  readonly kind: 'from';
  readonly baseName: string;
  readonly stageName: string | undefined;
  /** The `AS` keyword as written, for the casing check. */
  readonly asKeyword: string | undefined;
  readonly platform: string | undefined;
}

/** RunInstruction runs a command; heredocs become the script it runs. */
export interface RunInstruction extends InstructionBase {
  readonly kind: 'run';
  readonly args: readonly string[];
  readonly prependShell: boolean;
  readonly heredocs: readonly HeredocNode[];
  readonly mounts: readonly string[];
  readonly network: string | undefined;
  readonly security: string | undefined;
}

/** CmdInstruction sets the default command. */
export interface CmdInstruction extends InstructionBase {
  readonly kind: 'cmd';
  readonly args: readonly string[];
  readonly prependShell: boolean;
}

/** EntrypointInstruction sets the entrypoint. */
export interface EntrypointInstruction extends InstructionBase {
  readonly kind: 'entrypoint';
  readonly args: readonly string[];
  readonly prependShell: boolean;
}

/** ShellInstruction sets the shell used by shell-form commands. */
export interface ShellInstruction extends InstructionBase {
  readonly kind: 'shell';
  readonly shell: readonly string[];
}

/** EnvInstruction sets environment variables. */
export interface EnvInstruction extends InstructionBase {
  readonly kind: 'env';
  readonly pairs: readonly KeyValuePair[];
}

/** LabelInstruction sets image labels. */
export interface LabelInstruction extends InstructionBase {
  readonly kind: 'label';
  readonly pairs: readonly KeyValuePair[];
}

/** ArgInstruction declares build arguments. */
export interface ArgInstruction extends InstructionBase {
  readonly kind: 'arg';
  readonly args: readonly ArgDefinition[];
}

/** MaintainerInstruction sets the image author (deprecated). */
export interface MaintainerInstruction extends InstructionBase {
  readonly kind: 'maintainer';
  readonly maintainer: string;
}

/** ExposeInstruction declares ports; words are expanded and parsed at compile time. */
export interface ExposeInstruction extends InstructionBase {
  readonly kind: 'expose';
  readonly ports: readonly string[];
}

/** CopyFlags are the flags COPY and ADD share. */
export interface CopyFlags {
  readonly chown: string | undefined;
  readonly chmod: string | undefined;
  readonly link: boolean;
  readonly excludes: readonly string[];
}

/** CopySource is one source of COPY or ADD: a path (or URL) or a heredoc. */
export type CopySource =
  | { readonly type: 'path'; readonly path: string }
  | { readonly type: 'heredoc'; readonly heredoc: HeredocNode };

/** CopyInstruction copies files from the context, a stage or an image. */
export interface CopyInstruction extends InstructionBase, CopyFlags {
  readonly kind: 'copy';
  readonly sources: readonly CopySource[];
  readonly dest: string;
  readonly from: string | undefined;
  readonly parents: boolean;
}

/** AddInstruction copies files, unpacking local archives. */
export interface AddInstruction extends InstructionBase, CopyFlags {
  readonly kind: 'add';
  readonly sources: readonly CopySource[];
  readonly dest: string;
  readonly checksum: string | undefined;
  readonly keepGitDir: boolean | undefined;
  readonly unpack: boolean | undefined;
}

/** VolumeInstruction declares volumes. */
export interface VolumeInstruction extends InstructionBase {
  readonly kind: 'volume';
  readonly volumes: readonly string[];
}

/** UserInstruction sets the user for later instructions and the image. */
export interface UserInstruction extends InstructionBase {
  readonly kind: 'user';
  readonly user: string;
}

/** WorkdirInstruction sets (and creates) the working directory. */
export interface WorkdirInstruction extends InstructionBase {
  readonly kind: 'workdir';
  readonly path: string;
}

/** OnbuildInstruction stores a trigger run by images built FROM this one. */
export interface OnbuildInstruction extends InstructionBase {
  readonly kind: 'onbuild';
  readonly expression: string;
}

/** StopsignalInstruction sets the stop signal. */
export interface StopsignalInstruction extends InstructionBase {
  readonly kind: 'stopsignal';
  readonly signal: string;
}

/** HealthcheckInstruction sets (or disables, with test ["NONE"]) the health check. */
export interface HealthcheckInstruction extends InstructionBase {
  readonly kind: 'healthcheck';
  readonly health: HealthcheckOptions;
}

/** Instruction is any typed Dockerfile instruction. */
export type Instruction =
  | FromInstruction
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | ShellInstruction
  | EnvInstruction
  | LabelInstruction
  | ArgInstruction
  | MaintainerInstruction
  | ExposeInstruction
  | CopyInstruction
  | AddInstruction
  | VolumeInstruction
  | UserInstruction
  | WorkdirInstruction
  | OnbuildInstruction
  | StopsignalInstruction
  | HealthcheckInstruction;

/** InstructionKind is the lower-case name of an instruction. */
export type InstructionKind = Instruction['kind'];

/** Stage is one FROM and the instructions up to the next FROM. */
export interface Stage {
  readonly from: FromInstruction;
  readonly instructions: readonly Instruction[];
}

/** ParsedStages is a whole Dockerfile as stages plus the ARGs declared before the first FROM. */
export interface ParsedStages {
  readonly metaArgs: readonly ArgInstruction[];
  readonly stages: readonly Stage[];
}
