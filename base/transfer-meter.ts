import { pipeline, Transform, type Readable } from 'node:stream';

/** TRANSFER_REPORT_MS is how often a running transfer reports its bytes (the live view redraws ten times a second). */
export const TRANSFER_REPORT_MS = 100;

/**
 * meterTransfer passes a stream's bytes through unchanged and calls `report` with the count so far at most every
 * `intervalMs` (the first chunk reports at once), so a long download shows its progress without an event per chunk.
 * An error of the source destroys the returned stream with it, and destroying the returned stream destroys the source.
 */
export function meterTransfer(source: NodeJS.ReadableStream, report: (current: number) => void, intervalMs = TRANSFER_REPORT_MS): Readable {
  let current = 0;
  let last = Number.NEGATIVE_INFINITY;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      current += chunk.length;
      const now = Date.now();
      if (now - last >= intervalMs) {
        last = now;
        report(current);
      }
      done(null, chunk);
    },
  });
  // The reader of `meter` gets any error: pipeline destroys `meter` with it.
  return pipeline(source, meter, () => undefined);
}
