import { Readable } from 'node:stream';
import { InternalError } from '../base/errors.js';

/** MessageReader pulls messages one at a time from a stream, keeping its backpressure. */
export interface MessageReader<T> {
  /** next returns the next message, or undefined at the end of the stream. */
  next(): Promise<T | undefined>;
}

/** createMessageReader wraps an object-mode readable (a gRPC call) as a MessageReader. */
export function createMessageReader<T>(stream: AsyncIterable<unknown>, decode: (v: unknown) => T): MessageReader<T> {
  // Reaching the end of the client half must not destroy a duplex call: the server still writes on its own half.
  const it = stream instanceof Readable ? stream.iterator({ destroyOnReturn: false }) : stream[Symbol.asyncIterator]();
  return {
    async next(): Promise<T | undefined> {
      const r = await it.next();
      return r.done === true ? undefined : decode(r.value);
    },
  };
}

/** expectMessage reads the next message and checks its kind. */
export async function expectMessage<T extends { kind: string }, K extends T['kind']>(
  reader: MessageReader<T>,
  kind: K,
): Promise<Extract<T, { kind: K }>> {
  const m = await reader.next();
  if (m === undefined) throw new InternalError(`Cannot continue the build: the client ended the stream before sending ${kind}`);
  if (!isKind(m, kind)) throw new InternalError(`Cannot continue the build: expected ${kind}, got ${m.kind}`);
  return m;
}

function isKind<T extends { kind: string }, K extends T['kind']>(m: T, kind: K): m is Extract<T, { kind: K }> {
  return m.kind === kind;
}
