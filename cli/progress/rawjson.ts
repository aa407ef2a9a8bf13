import type { ProgressEvent, ProgressSink } from '../../base/progress.js';
import { createSolveStatus, type SolveStatusOptions } from './solve-status.js';

/** goJson writes a value as Go's encoding/json does: compact, with <, >, & and line separators escaped. */
function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * createRawJsonProgress writes BuildKit's SolveStatus updates, one JSON object per line, as `buildx --progress rawjson`
 * does, so tools written for buildx read tbuild's progress.
 */
export function createRawJsonProgress(out: NodeJS.WritableStream, o: SolveStatusOptions): ProgressSink & { close(): void } {
  const convert = createSolveStatus(o);
  return {
    emit(event: ProgressEvent): void {
      const status = convert(event);
      if (status !== undefined) out.write(`${goJson(status)}\n`);
    },
    close(): void {},
  };
}
