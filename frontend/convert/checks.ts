import { DockerfileError } from '../../base/errors.js';
import type { Stage } from '../instructions/index.js';
import type { WarningSink } from './context.js';

function casing(word: string): 'upper' | 'lower' | 'mixed' {
  if (word === word.toUpperCase()) return 'upper';
  if (word === word.toLowerCase()) return 'lower';
  return 'mixed';
}

/** checkStages runs the stage checks: DuplicateStageName (an error), StageNameCasing and FromAsCasing. */
export function checkStages(stages: readonly Stage[], warnings: WarningSink): void {
  const seen = new Set<string>();
  for (const { from } of stages) {
    const name = from.stageName;
    if (name === undefined) continue;
    if (seen.has(name.toLowerCase())) {
      throw new DockerfileError(`Duplicate stage name "${name.toLowerCase()}", stage names should be unique`, { location: from.location, code: 'DOCKERFILE_CHECK' });
    }
    seen.add(name.toLowerCase());
    if (name !== name.toLowerCase()) warnings.add('StageNameCasing', `Stage name '${name}' should be lowercase`, from.location);
    const as = from.asKeyword ?? 'AS';
    const fromCase = casing(from.keyword);
    if (fromCase !== 'mixed' && casing(as) !== fromCase) {
      warnings.add('FromAsCasing', `'${as}' and '${from.keyword}' keywords' casing do not match`, from.location);
    }
  }
}

/** CheckConfig is the `# check=skip=...;error=true` directive (or the BUILDKIT_DOCKERFILE_CHECK build arg). */
export interface CheckConfig {
  readonly skipAll: boolean;
  readonly skip: ReadonlySet<string>;
  readonly error: boolean;
}

/** parseCheckConfig reads a check directive value such as `skip=StageNameCasing,FromAsCasing;error=true`. */
export function parseCheckConfig(value: string | undefined): CheckConfig {
  const skip = new Set<string>();
  let skipAll = false;
  let error = false;
  for (const part of (value ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const v = part.slice(eq + 1).trim();
    if (key === 'skip') {
      for (const rule of v.split(',').map((r) => r.trim())) {
        if (rule.toLowerCase() === 'all') skipAll = true;
        else if (rule !== '') skip.add(rule);
      }
    } else if (key === 'error') error = v.toLowerCase() === 'true';
  }
  return { skipAll, skip, error };
}

/** keepWarning tells whether a finding survives the check configuration. */
export function keepWarning(config: CheckConfig, rule: string): boolean {
  return !config.skipAll && !config.skip.has(rule);
}
