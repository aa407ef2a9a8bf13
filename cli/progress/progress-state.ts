import type { ProgressEvent } from '../../base/progress.js';
import { explainedLines } from './explain-lines.js';
import { printable } from './style.js';

/** TransferRow is one status of a vertex (a blob pulled or pushed, a context loaded): bytes done of a total. */
export interface TransferRow {
  readonly id: string;
  current: number;
  total: number | undefined;
  /** When the first report came, and the last. */
  readonly started: number;
  time: number;
  completed: boolean;
}

/** VertexRow is what the live view knows of one vertex. */
export interface VertexRow {
  readonly vertex: string;
  readonly name: string;
  state: 'running' | 'cached' | 'done' | 'error' | 'cancelled';
  started: number;
  /** When it finished, for a vertex no longer running. */
  ended: number;
  /** Its last whole output lines (at most LOG_KEEP), then the line being written, if any. */
  readonly logs: string[];
  partial: string;
  /** When it last wrote output, to give the lines to the busiest vertices first. */
  lastOutput: number;
  readonly transfers: TransferRow[];
  /** Why it ran instead of coming from the cache (`build --explain`), printed under it once it is done. */
  explained: readonly string[];
}

/** WarningNote is a warning as the views print it. */
export interface WarningNote {
  readonly text: string;
}

const LOG_KEEP = 50;

/** ProgressState folds a build's progress events into rows of vertices, their transfers and output, and warnings. */
export class ProgressState {
  readonly rows: VertexRow[] = [];
  readonly warnings: WarningNote[] = [];
  readonly #byVertex = new Map<string, VertexRow>();
  // Vertices a solve will visit that have not started yet: counted, not shown.
  readonly #planned = new Set<string>();
  // Statuses can come before their vertex is reported (a local source's size is known from its key).
  readonly #early = new Map<string, TransferRow[]>();

  /** apply folds one event in. */
  apply(event: ProgressEvent): void {
    switch (event.type) {
      case 'vertex.planned':
        if (!this.#byVertex.has(event.vertex)) this.#planned.add(event.vertex);
        break;
      case 'vertex.started': {
        const r = this.#row(event.vertex, event.name, event.time);
        r.state = 'running';
        r.started = event.time;
        break;
      }
      case 'vertex.cached': {
        const r = this.#row(event.vertex, event.name, event.time);
        r.state = 'cached';
        r.ended = event.time;
        break;
      }
      case 'vertex.completed': {
        const r = this.#row(event.vertex, event.name, event.time - event.durationMs);
        r.state = event.error === undefined ? 'done' : event.error === 'cancelled' ? 'cancelled' : 'error';
        r.ended = event.time;
        if (r.partial !== '') this.#pushLine(r, r.partial);
        r.partial = '';
        break;
      }
      case 'vertex.log': {
        const r = this.#byVertex.get(event.vertex);
        if (r !== undefined) this.#log(r, event.data, event.time);
        break;
      }
      case 'status':
        this.#status(event);
        break;
      case 'vertex.usage': // resource figures are printed by --progress=plain only
        break;
      case 'vertex.explain': {
        const r = this.#byVertex.get(event.vertex);
        if (r !== undefined) r.explained = explainedLines(event).map(printable);
        break;
      }
      case 'warning':
        this.warnings.push({ text: `${event.message}${event.location ? ` (${event.location})` : ''}` });
        break;
    }
  }

  /** finished counts the vertices no longer running. */
  finished(): number {
    return this.rows.filter((r) => r.state !== 'running').length;
  }

  /** total counts the vertices known: those reported, and those a solve will visit that have not started yet. */
  total(): number {
    return this.rows.length + this.#planned.size;
  }

  #row(vertex: string, name: string, time: number): VertexRow {
    let r = this.#byVertex.get(vertex);
    if (r === undefined) {
      r = { vertex, name, state: 'running', started: time, ended: time, logs: [], partial: '', lastOutput: 0, transfers: this.#early.get(vertex) ?? [], explained: [] };
      this.#early.delete(vertex);
      this.#planned.delete(vertex);
      this.#byVertex.set(vertex, r);
      this.rows.push(r);
    }
    return r;
  }

  #log(r: VertexRow, data: string, time: number): void {
    const lines = (r.partial + data).split('\n');
    r.partial = lines.pop() ?? '';
    for (const l of lines) this.#pushLine(r, l);
    r.lastOutput = time;
  }

  #pushLine(r: VertexRow, line: string): void {
    r.logs.push(printable(line));
    if (r.logs.length > LOG_KEEP) r.logs.splice(0, r.logs.length - LOG_KEEP);
  }

  #status(event: Extract<ProgressEvent, { type: 'status' }>): void {
    const list = this.#byVertex.get(event.vertex)?.transfers ?? this.#earlyList(event.vertex);
    let t = list.find((x) => x.id === event.id);
    if (t === undefined) {
      t = { id: event.id, current: 0, total: undefined, started: event.time, time: event.time, completed: false };
      list.push(t);
    }
    t.current = event.current;
    t.total = event.total;
    t.time = event.time;
    t.completed = event.completed === true;
  }

  #earlyList(vertex: string): TransferRow[] {
    let list = this.#early.get(vertex);
    if (list === undefined) {
      list = [];
      this.#early.set(vertex, list);
    }
    return list;
  }
}
