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
