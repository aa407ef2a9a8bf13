import type { ProgressEvent } from '../../base/progress.js';

/** Explained is why a step ran: the earlier build it was compared with and the reasons, as `vertex.explain` says them. */
export type Explained = Pick<Extract<ProgressEvent, { type: 'vertex.explain' }>, 'comparedWith' | 'reasons'>;

/** explainedLines are the lines under a step that ran, as `build --explain` and `history explain` print them. */
export function explainedLines(e: Explained): string[] {
  const against = e.comparedWith === undefined ? '' : ` (compared with build ${e.comparedWith})`;
  return [`ran because${against}:`, ...e.reasons.map((r) => `  - ${r}`)];
}
