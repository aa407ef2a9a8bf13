// The checks BuildKit runs over the whole Dockerfile before it builds: stage names, instruction casing and the
// FROM lines of every stage (built or not).
import { DockerfileError, type SourceLocation } from '../../base/errors.js';
import type { ArgInstruction, ParsedStages, Stage } from '../instructions/index.js';
import { suggestNearest } from '../instructions/index.js';
import type { Node } from '../parser/index.js';
import type { ProcessWordResult, ShellLexer } from '../shell/index.js';
import type { WarningSink } from './checks.js';

const RESERVED_STAGE_NAMES = new Set(['context', 'scratch']);

function casing(word: string): 'upper' | 'lower' | 'mixed' {
  if (word === word.toUpperCase()) return 'upper';
  if (word === word.toLowerCase()) return 'lower';
  return 'mixed';
}

/**
 * checkParsed runs the checks BuildKit runs as it parses each instruction: StageNameCasing, FromAsCasing,
 * MaintainerDeprecated and the experimental InvalidDefinitionDescription.
 */
export function checkParsed(nodes: readonly Node[], parsed: ParsedStages, warnings: WarningSink): void {
  for (const { from, instructions } of parsed.stages) {
    const name = from.stageName;
    if (name !== undefined && name !== name.toLowerCase()) warnings.add('StageNameCasing', `Stage name '${name}' should be lowercase`, from.location);
    const as = from.asKeyword ?? 'AS';
    const fromCase = casing(from.keyword);
    if (name !== undefined && fromCase !== 'mixed' && casing(as) !== fromCase) {
      warnings.add('FromAsCasing', `'${as}' and '${from.keyword}' keywords' casing do not match`, from.location);
    }
    for (const i of instructions) {
      if (i.kind === 'maintainer') warnings.add('MaintainerDeprecated', 'Maintainer instruction is deprecated in favor of using label', i.location);
    }
  }
  checkDescriptions(nodes, parsed, warnings);
}

/** checkStageNames runs ReservedStageName and DuplicateStageName. */
export function checkStageNames(stages: readonly Stage[], warnings: WarningSink): void {
  const seen = new Set<string>();
  for (const { from } of stages) {
    const lower = from.stageName?.toLowerCase();
    if (lower === undefined) continue;
    if (RESERVED_STAGE_NAMES.has(lower)) {
      warnings.add('ReservedStageName', `Stage name should not use the same name as reserved stage "${lower}"`, from.location, null);
    }
    if (seen.has(lower)) warnings.add('DuplicateStageName', `Duplicate stage name "${lower}", stage names should be unique`, from.location, null);
    seen.add(lower);
  }
}

/** checkInstructionCasing reports instructions cased unlike the majority (ConsistentInstructionCasing). */
export function checkInstructionCasing(stages: readonly Stage[], warnings: WarningSink): void {
  const all = stages.flatMap((s) => [s.from, ...s.instructions]);
  let lower = 0;
  let upper = 0;
  for (const i of all) {
    const c = casing(i.keyword);
    if (c === 'lower') lower++;
    else if (c === 'upper') upper++;
  }
  const majority = lower > upper ? 'lower' : 'upper';
  for (const i of all) {
    if (casing(i.keyword) === majority) continue;
    const want = majority === 'lower' ? 'lowercase' : 'uppercase';
    warnings.add('ConsistentInstructionCasing', `Command '${i.keyword}' should match the case of the command majority (${want})`, i.location, null);
  }
}

function processQuietly(lexer: ShellLexer, word: string, env: ReadonlyMap<string, string>): ProcessWordResult | undefined {
  try {
    return lexer.processWord(word, env);
  } catch (err) {
    // The build reports the expansion error at the FROM; the check has nothing to add.
    if (err instanceof DockerfileError) return undefined;
    throw err;
  }
}

const DOMAIN = String.raw`(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?`;
const COMPONENT = String.raw`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`;
const TAG = String.raw`[\w][\w.-]{0,127}`;
const DIGEST = String.raw`[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`;
const REFERENCE = new RegExp(`^(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`);

/** FromArgs are the variables a FROM line sees. */
export interface FromArgs {
  /** Global ARGs and the built-in args, with the build's --build-arg values. */
  readonly args: ReadonlyMap<string, string>;
  /** The same computed from the defaults alone, as if no --build-arg were given (undefined: they fail to expand). */
  readonly defaults: ReadonlyMap<string, string> | undefined;
  readonly metaArgs: readonly ArgInstruction[];
}

/**
 * checkFroms runs the FROM checks of every stage: UndefinedArgInFrom, InvalidDefaultArgInFrom,
 * RedundantTargetPlatform and FromPlatformFlagConstDisallowed.
 */
export function checkFroms(stages: readonly Stage[], lexer: ShellLexer, from: FromArgs, warnings: WarningSink): void {
  const declared = new Set([...from.args.keys(), ...from.metaArgs.flatMap((a) => a.args.map((d) => d.key))]);
  const undeclared = (r: ProcessWordResult | undefined, stage: Stage): void => {
    for (const name of r?.unmatched ?? []) {
      if (declared.has(name)) continue;
      const near = suggestNearest(name, declared, true);
      warnings.add('UndefinedArgInFrom', `FROM argument '${name}' is not declared${near === undefined ? '' : ` (did you mean ${near}?)`}`, stage.from.location);
    }
  };
  for (const stage of stages) {
    const { baseName, platform, stageName, location } = stage.from;
    undeclared(processQuietly(lexer, baseName, from.args), stage);
    const byDefault = from.defaults === undefined ? undefined : processQuietly(lexer, baseName, from.defaults);
    if (byDefault !== undefined && !REFERENCE.test(byDefault.result)) {
      warnings.add('InvalidDefaultArgInFrom', `Default value for ARG ${baseName} results in empty or invalid base image name`, location, null);
    }
    if (platform === undefined) continue;
    const p = processQuietly(lexer, platform, from.args);
    undeclared(p, stage);
    if (p === undefined) continue;
    if (p.matched.size === 1 && p.unmatched.size === 0 && p.matched.has('TARGETPLATFORM') && p.result === from.args.get('TARGETPLATFORM')) {
      warnings.add('RedundantTargetPlatform', `Setting platform to predefined ${platform} in FROM is redundant as this is the default behavior`, location);
    }
    if (p.matched.size === 0 && p.unmatched.size === 0) {
      const [os, arch] = p.result.toLowerCase().split('/');
      const name = stageName?.toLowerCase() ?? '';
      if (os !== undefined && os !== '' && arch !== undefined && arch !== '' && !name.includes(os) && !name.includes(arch)) {
        warnings.add('FromPlatformFlagConstDisallowed', `FROM --platform flag should not use constant value "${p.result}"`, location);
      }
    }
  }
}

/**
 * checkDescriptions runs the experimental InvalidDefinitionDescription: a comment directly above a named FROM or an
 * ARG describes it, so its last line starts with the stage name or one of the ARG's keys.
 */
function checkDescriptions(nodes: readonly Node[], { metaArgs, stages }: ParsedStages, warnings: WarningSink): void {
  const comments = new Map(nodes.map((n) => [n.startLine, n.prevComment]));
  const check = (kind: string, keys: readonly string[], location: SourceLocation): void => {
    const last = comments.get(location.startLine)?.at(-1);
    if (last === undefined || keys.length === 0 || keys.includes(last.split(' ')[0] ?? '')) return;
    const example = keys.length > 1 ? '<arg_key>' : (keys[0] ?? '');
    warnings.add('InvalidDefinitionDescription', `Comment for ${kind} should follow the format: \`# ${example} <description>\``, location);
  };
  const args = [...metaArgs, ...stages.flatMap((s) => s.instructions.filter((i): i is ArgInstruction => i.kind === 'arg'))];
  for (const a of args) check('ARG', a.args.map((d) => d.key), a.location);
  for (const { from } of stages) if (from.stageName !== undefined) check('FROM', [from.stageName.toLowerCase()], from.location);
}
