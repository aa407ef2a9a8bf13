import type { SourceLocation } from '../../base/errors.js';
import type { Platform } from '../../base/oci.js';
import type { ProxyEnv } from '../../solver/graph/index.js';
import type { Stage } from '../instructions/index.js';
import type { ShellLexer } from '../shell/index.js';
import type { GraphBuilder } from './graph-builder.js';
import type { StageState } from './stage-state.js';
import type { BuildWarning, CompileOptions, ResolvedImageConfig } from './types.js';

/** WarningSink collects check findings once each. */
export class WarningSink {
  readonly #seen = new Set<string>();
  readonly list: BuildWarning[] = [];

  /** add records a finding unless the same one was already recorded. */
  add(rule: string, message: string, location: SourceLocation | undefined): void {
    const key = `${rule}\0${message}\0${location?.startLine ?? ''}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.list.push(location === undefined ? { rule, message } : { rule, message, location });
  }
}

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
}
