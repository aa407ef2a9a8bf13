// `--check` (`--call check`) output: the findings as buildx prints BuildKit's lint result, in text or as its JSON.
import { basename } from 'node:path';
import { DockerfileError, lineRanges, type LineRange, type SourceLocation } from '../base/errors.js';
import type { CheckFinding } from '../base/progress.js';
import type { DockerfileSource } from '../controller/index.js';

/** LintLocation is BuildKit's pb.Location as JSON: one range per line, zero fields left out as Go leaves them. */
export interface LintLocation {
  readonly sourceIndex?: number;
  readonly ranges?: readonly LineRange[];
}

/** LintResults is BuildKit's lint subrequest result (`result.json`), which `--call check,format=json` prints. */
export interface LintResults {
  readonly warnings: readonly {
    readonly ruleName: string;
    readonly description?: string;
    readonly url?: string;
    readonly detail?: string;
    readonly location: LintLocation;
  }[] | null;
  readonly sources: readonly { readonly filename: string; readonly language: string; readonly data?: string }[];
  readonly buildError?: { readonly message: string; readonly location: LintLocation };
}

/** CheckSource is the Dockerfile the findings point into. */
export interface CheckSource {
  readonly name: string;
  readonly data: Buffer | undefined;
}

/** checkSourceOf is the Dockerfile a build was given, for the report; one read from inside a fetched context leaves its name only. */
export function checkSourceOf(dockerfile: DockerfileSource): CheckSource {
  if ('bytes' in dockerfile) return { name: dockerfile.name, data: Buffer.from(dockerfile.bytes) };
  return { name: basename(dockerfile.inContext ?? 'Dockerfile'), data: undefined };
}

function lintLocation(location: SourceLocation | undefined): LintLocation {
  return location === undefined ? {} : { ranges: lineRanges(location) };
}

/** violationOf is BuildKit's error when `# check=error=true` makes the findings fatal. */
export function violationOf(findings: readonly CheckFinding[]): string {
  return `lint violation found for rules: ${[...new Set(findings.map((f) => f.rule))].join(', ')}`;
}

/** lintResults is the JSON BuildKit's lint request answers with; error is the build error the check ended with. */
export function lintResults(findings: readonly CheckFinding[], source: CheckSource, error?: unknown): LintResults {
  const warnings = findings.map((f) => ({
    ruleName: f.rule,
    ...(f.description === '' ? {} : { description: f.description }),
    ...(f.url === undefined ? {} : { url: f.url }),
    ...(f.detail === '' ? {} : { detail: f.detail }),
    location: lintLocation(f.location),
  }));
  const data = source.data === undefined || source.data.length === 0 ? {} : { data: source.data.toString('base64') };
  const buildError =
    error === undefined
      ? {}
      : { buildError: { message: error instanceof Error ? error.message : String(error), location: lintLocation(error instanceof DockerfileError ? error.location : undefined) } };
  // As Go marshals a nil slice: no warnings is null.
  return { warnings: warnings.length === 0 ? null : warnings, sources: [{ filename: source.name, language: 'Dockerfile', ...data }], ...buildError };
}

/** byLine orders findings as buildx prints them: those without a line first, then by line. */
function byLine(a: CheckFinding, b: CheckFinding): number {
  if (a.location === undefined || b.location === undefined) return a.location === undefined ? (b.location === undefined ? 0 : -1) : 1;
  return a.location.startLine - b.location.startLine;
}

/**
 * renderCheckText is the text buildx prints for `--check`: a count, then each finding as `WARNING: Rule - URL`, the
 * detail, the rule's description, and the Dockerfile lines around it (BuildKit's source snippet).
 */
export function renderCheckText(findings: readonly CheckFinding[], source: CheckSource): string {
  const n = findings.length;
  let out = n === 0 ? 'Check complete, no warnings found.\n' : `Check complete, ${n === 1 ? '1 warning has' : `${n} warnings have`} been found!\n`;
  for (const f of [...findings].sort(byLine)) {
    out += `\nWARNING: ${f.rule}${f.url === undefined ? '' : ` - ${f.url}`}\n${f.detail}\n`;
    if (f.description !== '') out += `${f.description}\n`;
    if (f.location !== undefined) out += sourceSnippet(f.location, source);
  }
  return out;
}

/** sourceSnippet shows the lines of a location with a few around them, as BuildKit's errdefs.Source prints them. */
function sourceSnippet(location: SourceLocation, source: CheckSource): string {
  if (source.data === undefined) return `${location.file}:${location.startLine}\n`;
  const lines = source.data.toString('utf8').split('\n');
  const first = location.startLine;
  const last = Math.min(Math.max(location.startLine, location.endLine), lines.length);
  if (first < 1 || first > lines.length) return `${location.file}:${location.startLine}\n`;
  // Two lines of context in all, four around a single line, taken before and after in turn.
  const pad = last === first ? 4 : 2;
  let start = first;
  let end = last;
  for (let p = 0; p < pad; p++) {
    if (start > 1) {
      start--;
      p++;
    }
    if (end !== lines.length) {
      end++;
      p++;
    }
  }
  let out = `${location.file}:${first}\n--------------------\n`;
  for (let i = start; i <= end; i++) {
    const mark = i >= first && i <= last ? '>>>' : '   ';
    out += ` ${String(i).padStart(3)} | ${mark} ${lines[i - 1] ?? ''}\n`;
  }
  return `${out}--------------------\n`;
}
