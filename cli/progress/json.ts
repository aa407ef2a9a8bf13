import { eventForWire, type ProgressEvent, type ProgressSink } from '../../base/progress.js';

/** createJsonProgress writes tbuild's own progress events, one JSON object per event and line (the `json` mode). */
export function createJsonProgress(out: NodeJS.WritableStream): ProgressSink & { close(): void } {
  return {
    emit(event: ProgressEvent): void {
      out.write(`${JSON.stringify(eventForWire(event))}\n`);
    },
    close(): void {},
  };
}
