import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { constants as zlibConstants, createGunzip, createGzip, type Gzip } from 'node:zlib';
import { LOG_FRAME_HEADER, type LogStreamNumber } from '../base/build-record.js';
import { errnoCode } from '../base/errors.js';

/** LogFrame is one chunk of output of one step, as its process wrote it. */
export interface LogFrame {
  readonly step: number;
  readonly stream: LogStreamNumber;
  readonly time: number;
  readonly data: Buffer;
}

/** HistoryLogWriter appends the output of a build's steps to its record's log file (gzip of frames). */
export interface HistoryLogWriter {
  write(frame: LogFrame): void;
  /** flush makes what was written so far readable after a crash. */
  flush(): void;
  /** close ends the file and returns its size. */
  close(): Promise<number>;
}

/** openHistoryLog creates a record's log file. Frames are compressed as they come, never clipped. */
export function openHistoryLog(path: string): HistoryLogWriter {
  const file = createWriteStream(path, { mode: 0o600 });
  const gzip: Gzip = createGzip({ level: 6 });
  let bytes = 0;
  gzip.on('data', (chunk: Buffer) => void (bytes += chunk.length));
  const done = pipeline(gzip, file);
  // The pipeline's failure is reported by close; until then it must not go unhandled.
  done.catch(() => undefined);
  return {
    write(frame) {
      const header = Buffer.alloc(LOG_FRAME_HEADER);
      header.writeUInt32LE(frame.step, 0);
      header.writeUInt8(frame.stream, 4);
      header.writeDoubleLE(frame.time, 5);
      header.writeUInt32LE(frame.data.length, 13);
      gzip.write(header);
      gzip.write(frame.data);
    },
    flush() {
      gzip.flush(zlibConstants.Z_SYNC_FLUSH);
    },
    async close() {
      gzip.end();
      await done;
      return bytes;
    },
  };
}

/**
 * readHistoryLog reads a record's log frames, the steps' output byte for byte; undefined when the file is gone. A file
 * cut short by a killed process gives the frames written up to its last flush.
 */
export async function readHistoryLog(path: string, options: { readonly step?: number; readonly signal: AbortSignal }): Promise<LogFrame[] | undefined> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  try {
    // A file whose end was never written (a killed build) ends where its last flush did.
    await pipeline(createReadStream(path), createGunzip({ finishFlush: zlibConstants.Z_SYNC_FLUSH }), sink, { signal: options.signal });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    if (chunks.length === 0 || !isTruncation(err)) throw err;
  }
  return parseFrames(Buffer.concat(chunks), options.step);
}

function isTruncation(err: unknown): boolean {
  return errnoCode(err) === 'Z_BUF_ERROR' || (err instanceof Error && err.message.includes('unexpected end of file'));
}

function parseFrames(all: Buffer, step: number | undefined): LogFrame[] {
  const frames: LogFrame[] = [];
  let at = 0;
  while (at + LOG_FRAME_HEADER <= all.length) {
    const length = all.readUInt32LE(at + 13);
    const end = at + LOG_FRAME_HEADER + length;
    if (end > all.length) break;
    const frameStep = all.readUInt32LE(at);
    const stream = all.readUInt8(at + 4) === 2 ? 2 : 1;
    if (step === undefined || frameStep === step) frames.push({ step: frameStep, stream, time: all.readDoubleLE(at + 5), data: all.subarray(at + LOG_FRAME_HEADER, end) });
    at = end;
  }
  return frames;
}
