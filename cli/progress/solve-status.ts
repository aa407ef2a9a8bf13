import { createHash } from 'node:crypto';
import { lineRanges, type LineRange } from '../../base/errors.js';
import type { ProgressEvent } from '../../base/progress.js';
import { explainedLines } from './explain-lines.js';

/** Vertex is BuildKit's client.Vertex as it marshals to JSON: a step, with RFC 3339 times. */
export interface Vertex {
  readonly digest: string;
  readonly name?: string;
  readonly started?: string;
  readonly completed?: string;
  readonly cached?: boolean;
  readonly error?: string;
}

/** VertexStatus is BuildKit's client.VertexStatus: the progress of one part of a step (a layer, a transfer). */
export interface VertexStatus {
  readonly id: string;
  readonly vertex?: string;
  readonly total?: number;
  readonly current: number;
  readonly timestamp: string;
  readonly started?: string;
  readonly completed?: string;
}

/** VertexLog is BuildKit's client.VertexLog: output of a step (stream 1 stdout, 2 stderr), its data in base64. */
export interface VertexLog {
  readonly vertex?: string;
  readonly stream?: number;
  readonly data: string;
  readonly timestamp: string;
}

/** VertexWarning is BuildKit's client.VertexWarning: short and detail lines in base64, the source and its lines. */
export interface VertexWarning {
  readonly vertex?: string;
  readonly level?: number;
  readonly short?: string;
  readonly detail?: readonly string[];
  readonly url?: string;
  readonly sourceInfo?: { readonly filename: string; readonly data?: string; readonly language?: string };
  readonly range?: readonly LineRange[];
}

/** SolveStatus is BuildKit's client.SolveStatus, one update of a build's progress, as `--progress rawjson` prints it. */
export interface SolveStatus {
  readonly vertexes?: readonly Vertex[];
  readonly statuses?: readonly VertexStatus[];
  readonly logs?: readonly VertexLog[];
  readonly warnings?: readonly VertexWarning[];
}

/** goTime writes a time as Go's time.Time marshals to JSON (RFC 3339, fraction without trailing zeros). */
export function goTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.?0+Z$/, 'Z');
}

const base64 = (text: string | Uint8Array): string => Buffer.from(text).toString('base64');

/** SolveStatusOptions are the Dockerfiles a build read, by name, which warnings carry as their source. */
export interface SolveStatusOptions {
  readonly sources: ReadonlyMap<string, string>;
}

/**
 * createSolveStatus turns tbuild's progress events into BuildKit's SolveStatus updates: vertices by digest (tbuild's
 * own steps, named by something else, get the digest of their name), each update repeating a vertex's start time
 * as BuildKit's does; undefined for events SolveStatus has no field for (resource usage).
 */
export function createSolveStatus(o: SolveStatusOptions): (event: ProgressEvent) => SolveStatus | undefined {
  const started = new Map<string, string>();
  const digestOf = (vertex: string): string => (/^sha256:[0-9a-f]{64}$/.test(vertex) ? vertex : `sha256:${createHash('sha256').update(vertex).digest('hex')}`);
  return (event) => {
    switch (event.type) {
      case 'vertex.planned': // as BuildKit reports a vertex it loaded: no times yet
        return { vertexes: [{ digest: digestOf(event.vertex), name: event.name }] };
      case 'vertex.started': {
        const at = goTime(event.time);
        started.set(event.vertex, at);
        return { vertexes: [{ digest: digestOf(event.vertex), name: event.name, started: at }] };
      }
      case 'vertex.cached': {
        const at = goTime(event.time);
        return { vertexes: [{ digest: digestOf(event.vertex), name: event.name, started: started.get(event.vertex) ?? at, completed: at, cached: true }] };
      }
      case 'vertex.completed': {
        const completed = goTime(event.time);
        const begun = started.get(event.vertex) ?? goTime(event.time - event.durationMs);
        return { vertexes: [{ digest: digestOf(event.vertex), name: event.name, started: begun, completed, ...(event.error === undefined ? {} : { error: event.error }) }] };
      }
      case 'vertex.log':
        return { logs: [{ vertex: digestOf(event.vertex), stream: event.stream === 'stdout' ? 1 : 2, data: base64(event.data), timestamp: goTime(event.time) }] };
      case 'status': {
        const at = goTime(event.time);
        const status: VertexStatus = {
          id: event.id,
          vertex: digestOf(event.vertex),
          ...(event.total === undefined ? {} : { total: event.total }),
          current: event.current,
          timestamp: at,
          ...(event.completed === true ? { completed: at } : {}),
        };
        return { statuses: [status] };
      }
      case 'warning':
        return { warnings: [warningOf(event, o.sources)] };
      case 'vertex.usage':
        return undefined;
      case 'vertex.explain': // SolveStatus has no field for it: the reasons are the step's log lines, on stderr
        return { logs: [{ vertex: digestOf(event.vertex), stream: 2, data: base64(explainedLines(event).map((l) => `${l}\n`).join('')), timestamp: goTime(event.time) }] };
    }
  };
}

/** warningOf makes BuildKit's warning of a tbuild warning: a check finding as the Dockerfile frontend reports it. */
export function warningOf(event: Extract<ProgressEvent, { type: 'warning' }>, sources: ReadonlyMap<string, string>): VertexWarning {
  const f = event.finding;
  if (f === undefined) return { level: 1, short: base64(event.message) };
  const line = f.location?.startLine ?? 0;
  const data = f.location === undefined ? undefined : sources.get(f.location.file);
  return {
    level: 1,
    short: base64(`${f.rule}: ${f.detail}${line > 0 ? ` (line ${line})` : ''}`),
    detail: [base64(f.description)],
    ...(f.url === undefined ? {} : { url: f.url }),
    ...(f.location === undefined ? {} : { sourceInfo: { filename: f.location.file, ...(data === undefined ? {} : { data: base64(data) }), language: 'Dockerfile' } }),
    ...(f.location === undefined ? {} : { range: lineRanges(f.location) }),
  };
}
