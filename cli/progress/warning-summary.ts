import type { ProgressEvent } from '../../base/progress.js';
import { paint, type Palette } from './style.js';

/** WarningEvent is a warning as the progress views receive it. */
export type WarningEvent = Extract<ProgressEvent, { type: 'warning' }>;

/**
 * warningSummary repeats a build's warnings after its progress, as buildx does: a yellow count, then one line per
 * warning; with --debug each also shows its detail, documentation page and Dockerfile lines. '' without warnings.
 */
export function warningSummary(warnings: readonly WarningEvent[], o: { readonly debug: boolean; readonly palette: Palette }): string {
  if (warnings.length === 0) return '';
  const count = warnings.length === 1 ? '1 warning found' : `${warnings.length} warnings found`;
  let text = `\n ${paint(`${count}${o.debug ? '' : ' (use --debug to expand)'}:`, o.palette.warning)}\n`;
  for (const w of warnings) {
    text += ` - ${w.message}${w.location ? ` (${w.location})` : ''}\n`;
    if (!o.debug) continue;
    const f = w.finding;
    if (f !== undefined) {
      text += `${f.description}\n`;
      if (f.url !== undefined) text += `More info: ${f.url}\n`;
      if (f.location !== undefined) {
        const lines = f.location.startLine === f.location.endLine ? `${f.location.startLine}` : `${f.location.startLine}-${f.location.endLine}`;
        text += ` --> ${f.location.file}:${lines}\n`;
      }
    }
    text += '\n';
  }
  return text;
}
