import type { HistoryRecord, StepRecord } from '../base/build-record.js';
import type { SourceLocation } from '../base/errors.js';
import type { StepExplanation } from '../controller/index.js';
import { formatAgo } from './human-duration.js';
import { formatBytes } from './progress/plain.js';
import { explainedLines } from './progress/explain-lines.js';
import { alignColumns } from './tab-writer.js';

/** recordName is what `history ls` names a build by, as buildx: the Dockerfile's folder or file, and its target. */
export function recordName(r: HistoryRecord): string {
  const base = r.request.context === '' || r.request.context === '-' || r.request.context === 'client' ? r.request.dockerfileName : (r.request.context.split('/').filter(Boolean).pop() ?? r.request.dockerfileName);
  return r.request.target === undefined ? base : `${base} (${r.request.target})`;
}

/** statusText is a record's status as `history ls` prints it (buildx: Completed, Error, Running; tbuild adds two). */
export function statusText(r: HistoryRecord): string {
  switch (r.status) {
    case 'completed':
      return 'Completed';
    case 'failed':
      return 'Error';
    case 'cancelled':
      return 'Canceled';
    case 'interrupted':
      return 'Interrupted';
    case 'running':
      return 'Running';
  }
}

/** durationText renders a duration as buildx's history does: `1.2s`, `3m 4s`; `+` while it runs. */
export function durationText(r: HistoryRecord, now = Date.now()): string {
  const end = r.completedAt === 0 ? now : r.completedAt;
  const ms = Math.max(0, end - r.createdAt);
  const text = ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.floor(ms / 60_000)}m ${String(Math.floor(ms / 1000) % 60).padStart(2, ' ')}s`;
  return r.completedAt === 0 ? `${text}+` : text;
}

/** stepCounts counts a record's steps: all, done, from the cache. */
export function stepCounts(r: HistoryRecord): { total: number; completed: number; cached: number } {
  return {
    total: r.steps.length,
    completed: r.steps.filter((s) => s.status === 'completed' || s.status === 'cached').length,
    cached: r.steps.filter((s) => s.cached).length,
  };
}

/** renderList is the `history ls` table: ref, name, status, cached/total steps, created, duration, target, outputs. */
export function renderList(records: readonly HistoryRecord[], now = Date.now()): string {
  const rows = ['BUILD ID\tNAME\tSTATUS\tSTEPS\tCREATED AT\tDURATION\tTARGET\tOUTPUTS'];
  for (const r of records) {
    const n = stepCounts(r);
    rows.push([r.ref, recordName(r), statusText(r), `${n.cached}/${n.total} cached`, formatAgo(r.createdAt, now), durationText(r, now), r.request.target ?? '-', r.request.outputs.join(' ') || '-'].join('\t'));
  }
  return `${alignColumns(rows.join('\n'), 3)}\n`;
}

/** listJson is one record as `history ls --format json` prints it (buildx's fields, and tbuild's own). */
export function listJson(r: HistoryRecord): Record<string, unknown> {
  const n = stepCounts(r);
  return {
    ref: r.ref,
    name: recordName(r),
    status: statusText(r),
    created_at: new Date(r.createdAt).toISOString(),
    ...(r.completedAt === 0 ? {} : { completed_at: new Date(r.completedAt).toISOString(), duration_ms: r.completedAt - r.createdAt }),
    total_steps: n.total,
    completed_steps: n.completed,
    cached_steps: n.cached,
    ...(r.request.target === undefined ? {} : { target: r.request.target }),
    outputs: r.request.outputs,
    ...(r.error === undefined ? {} : { error: r.error.message }),
  };
}

/** renderInspect is `history inspect`: the request, each step with its status, duration, cache hit and resources. */
export function renderInspect(r: HistoryRecord): string {
  const lines: string[] = [];
  const field = (name: string, value: string): void => void lines.push(`${name}:\t${value}`);
  field('Ref', r.ref);
  field('Status', statusText(r));
  if (r.tenant !== undefined) field('Tenant', r.tenant);
  field('Created', new Date(r.createdAt).toISOString());
  if (r.completedAt !== 0) field('Completed', new Date(r.completedAt).toISOString());
  field('Duration', durationText(r));
  field('Dockerfile', `${r.request.dockerfileName}${r.request.dockerfileDigest === '' ? '' : ` (${r.request.dockerfileDigest})`}`);
  if (r.request.context !== '') field('Context', r.request.context);
  if (r.request.target !== undefined) field('Target', r.request.target);
  if (r.request.platforms.length > 0) field('Platforms', r.request.platforms.join(','));
  for (const [k, v] of Object.entries(r.request.buildArgs)) field('Build Arg', `${k}=${v}`);
  for (const o of r.request.outputs) field('Output', o);
  if (r.request.noCache) field('No Cache', 'true');
  if (r.request.noCacheFilter.length > 0) field('No Cache Filter', r.request.noCacheFilter.join(','));
  if (r.result?.imageId !== undefined) field('Image ID', r.result.imageId);
  if (r.result?.manifestDigest !== undefined) field('Manifest', r.result.manifestDigest);
  if (r.result?.pushedDigest !== undefined) field('Pushed', r.result.pushedDigest);
  const n = stepCounts(r);
  field('Steps', `${n.total} (${n.cached} cached)`);
  let out = `${alignColumns(lines.join('\n'), 1)}\n`;
  if (r.error !== undefined) out += `\nError: ${r.error.message}${r.error.location === undefined ? '' : `\n --> ${where(r.error.location)}`}${r.error.step === undefined ? '' : `\n in step #${r.error.step}`}\n`;
  if (r.warnings.length > 0) out += `\nWarnings:\n${r.warnings.map((w) => `  ${w.message}${w.location === undefined ? '' : ` (${where(w.location)})`}\n`).join('')}`;
  out += `\n${alignColumns(['STEP\tSTATUS\tDURATION\tCACHED\tMEMORY PEAK\tCPU\tLOGS\tNAME', ...r.steps.map(stepRow)].join('\n'), 3)}\n`;
  return out;
}

function stepRow(s: StepRecord): string {
  const duration = s.cached ? '-' : `${(s.durationMs / 1000).toFixed(1)}s`;
  const memory = s.memoryPeakBytes === undefined ? '-' : formatBytes(s.memoryPeakBytes);
  const cpu = s.cpuTimeMs === undefined ? '-' : `${(s.cpuTimeMs / 1000).toFixed(2)}s`;
  const name = s.location === undefined ? s.name : `${s.name} (${where(s.location)})`;
  return [`#${s.index}`, s.status.toUpperCase(), duration, s.cached ? 'yes' : 'no', memory, cpu, s.logBytes === 0 ? '-' : formatBytes(s.logBytes), name].join('\t');
}

/** renderExplanations is `history explain`: under each step that ran, why it did. */
export function renderExplanations(explained: readonly StepExplanation[]): string {
  if (explained.length === 0) return 'Every step came from the cache.\n';
  return explained.map((e) => `#${e.step} ${e.name}\n${explanationLines(e)}`).join('');
}

/** explanationLines are the reasons of one step, indented, as `build --explain` prints them under the step. */
export function explanationLines(e: StepExplanation): string {
  return explainedLines(e)
    .map((l) => `  ${l}\n`)
    .join('');
}

function where(l: SourceLocation): string {
  return l.startLine === l.endLine ? `${l.file}:${l.startLine}` : `${l.file}:${l.startLine}-${l.endLine}`;
}
