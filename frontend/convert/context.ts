import type { SourceLocation } from '../../base/errors.js';
import type { Platform } from '../../base/oci.js';
import type { ProxyEnv } from '../../solver/graph/index.js';
import type { Stage } from '../instructions/index.js';
import type { ShellLexer } from '../shell/index.js';
import type { GraphBuilder } from './graph-builder.js';
import type { StageState } from './stage-state.js';
import type { WarningSink } from './checks.js';
import type { CompileOptions, ResolvedImageConfig } from './types.js';

/** CompileContext is what every dispatch step of one compilation shares. */
export interface CompileContext {
  readonly options: CompileOptions;
  /** Expands instruction words (quotes removed). */
  readonly lexer: ShellLexer;
  /** Expands text for display: quotes kept, unset variables left as written. */
  readonly displayLexer: ShellLexer;
  /** Expands heredoc bodies: quotes are ordinary characters. */
  readonly heredocLexer: ShellLexer;
  /** ARGs before the first FROM plus the built-in platform args. */
  readonly globalArgs: ReadonlyMap<string, string>;
  readonly graph: GraphBuilder;
  readonly warnings: WarningSink;
  readonly stages: readonly Stage[];
  readonly proxyEnv: ProxyEnv | undefined;
  /** SOURCE_DATE_EPOCH in seconds: the time of every history entry the build adds. */
  readonly sourceDateEpoch: number | undefined;
  /** Finds a stage by name (case-insensitive). */
  stageIndex(name: string): number | undefined;
  /** Compiles a stage once and returns its final state. */
  compileStage(index: number): Promise<StageState>;
  /** Resolves an image config once per reference and platform. */
  resolveImage(ref: string, platform: Platform, location: SourceLocation): Promise<ResolvedImageConfig>;
  /** Called between steps of the conversion: gives the event loop a turn now and then, and throws once cancelled. */
  pace(): Promise<void>;
}
