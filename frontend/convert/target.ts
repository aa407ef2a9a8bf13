import { DockerfileError } from '../../base/errors.js';
import { withSuggestion, type Stage } from '../instructions/index.js';

/** targetStageIndex finds the `--target` stage by name (case-insensitive), the last stage without one. */
export function targetStageIndex(stages: readonly Stage[], target: string | undefined): number {
  if (target === undefined || target === '') return stages.length - 1;
  const index = stages.findIndex((s) => s.from.stageName?.toLowerCase() === target.toLowerCase());
  if (index >= 0) return index;
  const names = stages.flatMap((s) => (s.from.stageName === undefined ? [] : [s.from.stageName.toLowerCase()]));
  throw new DockerfileError(withSuggestion(`target stage "${target}" could not be found`, target, names), { code: 'DOCKERFILE_INVALID' });
}
