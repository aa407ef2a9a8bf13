import type { SourceLocation } from './errors.js';

/** ProgressEvent is one thing that happened to a vertex during a build, keyed by vertex digest. */
export type ProgressEvent =
  /** A vertex the solve will visit, sent for each one before any starts, so a view knows how many there are. */
  | { readonly type: 'vertex.planned'; readonly vertex: string; readonly name: string; readonly time: number }
  | { readonly type: 'vertex.started'; readonly vertex: string; readonly name: string; readonly time: number }
  | { readonly type: 'vertex.cached'; readonly vertex: string; readonly name: string; readonly time: number }
  | {
      readonly type: 'vertex.completed';
      readonly vertex: string;
      readonly name: string;
      readonly time: number;
      readonly durationMs: number;
      readonly error?: string;
    }
  | {
      readonly type: 'vertex.log';
      readonly vertex: string;
      readonly stream: 'stdout' | 'stderr';
      readonly data: string;
      readonly time: number;
      /** The bytes as the process wrote them (data is their UTF-8 reading); kept in the build history, never sent. */
      readonly bytes?: Uint8Array;
    }
  | {
      readonly type: 'status';
      readonly vertex: string;
      readonly id: string;
      readonly current: number;
      readonly total?: number;
      readonly completed?: boolean;
      readonly time: number;
    }
  | {
      readonly type: 'vertex.usage';
      readonly vertex: string;
      readonly memoryPeakBytes?: number;
      readonly cpuTimeMs?: number;
      readonly time: number;
    }
  | {
      /** Why a step ran instead of coming from the cache (`build --explain`), sent before its `vertex.completed`. */
      readonly type: 'vertex.explain';
      readonly vertex: string;
      /** The earlier build its cache key was compared with, when there is one. */
      readonly comparedWith?: string;
      readonly reasons: readonly string[];
      readonly time: number;
    }
  | { readonly type: 'warning'; readonly message: string; readonly location?: string; readonly finding?: CheckFinding; readonly time: number };

/**
 * CheckFinding is what a Dockerfile check found, as BuildKit's lint warning carries it: the rule, its description
 * and documentation page, the detail, and the Dockerfile lines.
 */
export interface CheckFinding {
  readonly rule: string;
  readonly description: string;
  readonly url?: string;
  readonly detail: string;
  readonly location?: SourceLocation;
}

/** ProgressSink receives progress events of one build. */
export interface ProgressSink {
  emit(event: ProgressEvent): void;
}

/** eventForWire is an event as it is written out as JSON (to a client, to `--progress=json`): without its raw bytes. */
export function eventForWire(event: ProgressEvent): ProgressEvent {
  if (event.type !== 'vertex.log' || event.bytes === undefined) return event;
  const { bytes: _bytes, ...rest } = event;
  return rest;
}

/** NULL_PROGRESS drops every event. */
export const NULL_PROGRESS: ProgressSink = { emit: () => undefined };
