import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { chmod, rename, rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { InternalError } from '../base/errors.js';
import { isSpecialDestination } from '../base/fs.js';
import type { OutputSpec } from '../controller/index.js';
import { createTarUnpacker, type ByteSink } from './tar-unpack.js';

/** OutputSinks write the output streams a server sends back to their client-side destinations. */
export interface OutputSinks {
  /** write passes one chunk of output `index`, waiting while the destination is busy. */
  write(index: number, data: Buffer, eof: boolean): Promise<void>;
  /** abort drops what was half written. */
  abort(): Promise<void>;
}

interface Open {
  readonly stream: ByteSink;
  readonly finish: () => Promise<void>;
  readonly abort: () => Promise<void>;
}

async function writeTo(stream: ByteSink, data: Buffer, signal: AbortSignal): Promise<void> {
  if (data.length === 0 || stream.write(data)) return;
  signal.throwIfAborted();
  await new Promise<void>((resolve, reject) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      signal.removeEventListener('abort', aborted);
      resolve();
    };
    const aborted = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      reject(signal.reason);
    };
    stream.once('drain', done);
    stream.once('close', done);
    signal.addEventListener('abort', aborted, { once: true });
  });
}

async function open(spec: OutputSpec, fileMode: number, signal: AbortSignal): Promise<Open> {
  if (spec.type === 'local') {
    const u = createTarUnpacker(spec.dest, { signal });
    return {
      stream: u.input,
      finish: async () => {
        u.input.end();
        await u.done;
      },
      abort: async () => {
        u.input.destroy();
        await u.done.catch(() => undefined);
      },
    };
  }
  if (spec.type === 'image' || spec.type === 'load') throw new InternalError(`Cannot receive a ${spec.type} output: it stays on the builder`);
  const dest = spec.dest;
  if (typeof dest !== 'string') {
    return {
      stream: dest,
      finish: async () => {
        dest.end();
        await finished(dest);
      },
      abort: async () => undefined,
    };
  }
  // A device or pipe (-o dest=/dev/null) is written into, never replaced; a file goes through a temporary name.
  const inPlace = await isSpecialDestination(dest);
  const target = inPlace ? dest : `${dest}.tbuild-${process.pid}.partial`;
  const file = createWriteStream(target, { flags: 'w' });
  return {
    stream: file,
    finish: async () => {
      file.end();
      await once(file, 'close');
      if (inPlace) return;
      await chmod(target, fileMode);
      await rename(target, dest);
    },
    abort: async () => {
      file.destroy();
      if (!file.closed) await once(file, 'close');
      if (!inPlace) await rm(target, { force: true });
    },
  };
}

/** createOutputSinks prepares destinations for the outputs of a request, opened on their first chunk. */
export function createOutputSinks(outputs: readonly OutputSpec[], o: { fileMode: number; signal: AbortSignal }): OutputSinks {
  const opened = new Map<number, Open>();
  return {
    async write(index, data, eof) {
      let sink = opened.get(index);
      if (sink === undefined) {
        const spec = outputs[index];
        if (spec === undefined) throw new InternalError(`Cannot receive output ${index}: the request has no such output`);
        sink = await open(spec, o.fileMode, o.signal);
        opened.set(index, sink);
      }
      await writeTo(sink.stream, data, o.signal);
      if (eof) {
        await sink.finish();
        opened.delete(index);
      }
    },
    async abort() {
      for (const s of opened.values()) await s.abort();
      opened.clear();
    },
  };
}
