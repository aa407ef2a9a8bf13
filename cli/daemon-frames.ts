import { InternalError } from '../base/errors.js';

/**
 * DaemonFrame is one message between the `tbuild` launcher (native/launcher/tbuild.c) and the resident process:
 * 1 byte type, 4 bytes big-endian payload length, payload.
 */
export interface DaemonFrame {
  readonly type: FrameType;
  readonly payload: Buffer;
}

/**
 * FRAME names the frame types: client → daemon request, cancel, resize (terminal columns and rows of stdout and
 * stderr, 4 × uint16) or quit (`tbuild daemon stop`); daemon → client answers, output and exit status.
 */
export const FRAME = {
  request: 'R',
  cancel: 'C',
  resize: 'W',
  quit: 'Q',
  accepted: 'A',
  busy: 'B',
  stale: 'S',
  stdout: 'O',
  stderr: 'E',
  exit: 'X',
} as const;

/** FrameType is the one-letter type of a frame. */
export type FrameType = (typeof FRAME)[keyof typeof FRAME];

const HEADER = 5;
/** MAX_FRAME bounds a frame's payload, as the launcher does. */
const MAX_FRAME = 64 * 1024 * 1024;
const TYPES: ReadonlySet<string> = new Set(Object.values(FRAME));

function isFrameType(value: string): value is FrameType {
  return TYPES.has(value);
}

/** encodeFrame returns the bytes of one frame. */
export function encodeFrame(type: FrameType, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(HEADER);
  header.write(type, 0, 'latin1');
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

/** encodeExitFrame returns the exit frame carrying a status. */
export function encodeExitFrame(status: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(status >>> 0);
  return encodeFrame(FRAME.exit, payload);
}

/** FrameDecoder splits a byte stream into frames. */
export class FrameDecoder {
  #pending: Buffer = Buffer.alloc(0);

  /** push adds received bytes and returns the frames they complete; a malformed stream throws. */
  push(chunk: Buffer): DaemonFrame[] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const frames: DaemonFrame[] = [];
    while (this.#pending.length >= HEADER) {
      const type = this.#pending.toString('latin1', 0, 1);
      const length = this.#pending.readUInt32BE(1);
      if (!isFrameType(type) || length > MAX_FRAME) throw new InternalError(`Cannot read a launcher frame: type "${type}", length ${length}`);
      if (this.#pending.length < HEADER + length) break;
      frames.push({ type, payload: this.#pending.subarray(HEADER, HEADER + length) });
      this.#pending = this.#pending.subarray(HEADER + length);
    }
    return frames;
  }
}
