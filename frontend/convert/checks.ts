import { DockerfileError, type SourceLocation } from '../../base/errors.js';
import type { Node } from '../parser/index.js';
import { LINT_RULES, lintRule, type LintRule, type LintRuleName } from './lint-rules.js';
import type { BuildWarning } from './types.js';

/** CheckConfig is the `# check=skip=...;experimental=...;error=true` directive (or the BUILDKIT_DOCKERFILE_CHECK build arg). */
export interface CheckConfig {
  readonly skipAll: boolean;
  readonly skip: ReadonlySet<string>;
  readonly experimentalAll: boolean;
  readonly experimental: ReadonlySet<string>;
  readonly error: boolean;
}

function ruleList(value: string): { all: boolean; rules: Set<string> } {
  const rules = new Set<string>();
  let all = false;
  for (const rule of value.split(',').map((r) => r.trim())) {
    if (rule === 'all') all = true;
    else if (rule !== '') rules.add(rule);
  }
  return { all, rules };
}

/** parseCheckConfig reads a check directive value such as `skip=StageNameCasing,FromAsCasing;error=true`. */
export function parseCheckConfig(value: string | undefined): CheckConfig {
  let skip = { all: false, rules: new Set<string>() };
  let experimental = { all: false, rules: new Set<string>() };
  let error = false;
  for (const part of (value ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const v = part.slice(eq + 1).trim();
    if (key === 'skip') skip = ruleList(v);
    else if (key === 'experimental') experimental = ruleList(v);
    else if (key === 'error') error = ['true', '1', 't'].includes(v.toLowerCase());
  }
  return { skipAll: skip.all, skip: skip.rules, experimentalAll: experimental.all, experimental: experimental.rules, error };
}

const CHECK_COMMENT = /^check\s*=\s*(.*)$/i;

/** commentCheckConfig reads the first `# check=...` among the comments above an instruction (text after a space ignored). */
function commentCheckConfig(comments: readonly string[]): CheckConfig | undefined {
  for (const comment of comments) {
    const m = CHECK_COMMENT.exec(comment.trim());
    if (m !== null) return parseCheckConfig((m[1] ?? '').trim().split(' ')[0]);
  }
  return undefined;
}

/**
 * CheckScope decides which findings are kept: the Dockerfile's (or the build arg's) check configuration, merged
 * for each instruction with a `# check=` comment directly above it, as BuildKit scopes them.
 */
export class CheckScope {
  readonly #byLine = new Map<number, CheckConfig>();

  constructor(
    readonly config: CheckConfig,
    instructions: readonly Node[],
  ) {
    for (const node of instructions) {
      const own = commentCheckConfig(node.prevComment);
      if (own !== undefined) this.#byLine.set(node.startLine, own);
    }
  }

  /** keeps tells whether a finding of rule survives the configuration of the instruction at line (none: the file's). */
  keeps(rule: string, line: number | undefined): boolean {
    const own = line === undefined ? undefined : this.#byLine.get(line);
    const configs = own === undefined ? [this.config] : [this.config, own];
    if (lintRule(rule)?.experimental === true) return configs.some((c) => c.experimentalAll || c.experimental.has(rule));
    return !configs.some((c) => c.skipAll || c.skip.has(rule));
  }
}

/** WarningSink collects the check findings the scope keeps, once each. */
export class WarningSink {
  readonly #seen = new Set<string>();
  readonly list: BuildWarning[] = [];

  constructor(readonly scope: CheckScope) {}

  /**
   * add records a finding unless the same one was already recorded. scopeLine is the line of the instruction whose
   * `# check=` comment applies (the finding's own line by default; null: only the file's configuration applies).
   */
  add(rule: LintRuleName, message: string, location: SourceLocation | undefined, scopeLine?: number | null): void {
    const line = scopeLine === null ? undefined : (scopeLine ?? location?.startLine);
    if (!this.scope.keeps(rule, line)) return;
    const key = `${rule}\0${message}\0${location?.startLine ?? ''}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    const { description, url }: LintRule = LINT_RULES[rule];
    this.list.push({ rule, message, description, ...(url === undefined ? {} : { url }), ...(location === undefined ? {} : { location }) });
  }

  /** violation is BuildKit's error when `error=true` and a finding was kept. */
  violation(): string | undefined {
    if (!this.scope.config.error || this.list.length === 0) return undefined;
    return `lint violation found for rules: ${[...new Set(this.list.map((w) => w.rule))].join(', ')}`;
  }
}

/** FindingsError is a Dockerfile error with the check findings made before it, which a build shows with the error. */
export class FindingsError extends DockerfileError {
  constructor(
    error: DockerfileError,
    readonly warnings: readonly BuildWarning[],
  ) {
    super(error.message, { code: error.code, cause: error, ...(error.location === undefined ? {} : { location: error.location }), ...(error.hint === undefined ? {} : { hint: error.hint }) });
  }
}
