import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { RegistryError } from '../base/errors.js';
import type { Descriptor } from '../base/oci.js';

/**
 * limitToDeclaredSize passes a blob's bytes through while they fit the size its descriptor declares. A registry that
 * sends more (or a body without end) is cut off at the first byte too many, and one that ends early is an error, both
 * naming the digest, so a hostile or broken registry can neither fill memory nor disk.
 */
export function limitToDeclaredSize(body: Readable, descriptor: Descriptor, where: string): Transform {
  let received = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback): void {
      received += chunk.length;
      if (received > descriptor.size) {
        done(new RegistryError(`Cannot fetch blob ${descriptor.digest} from ${where}: the registry sent more than the ${descriptor.size} bytes its descriptor declares`));
        return;
      }
      done(null, chunk);
    },
    flush(done: TransformCallback): void {
      if (received < descriptor.size) {
        done(new RegistryError(`Cannot fetch blob ${descriptor.digest} from ${where}: the registry sent ${received} of the ${descriptor.size} bytes its descriptor declares`));
        return;
      }
      done();
    },
  });
  body.on('error', (err: Error) => limit.destroy(err));
  // Whoever stops reading (an error above, or the consumer giving up) stops the download too.
  limit.on('close', () => {
    if (!body.readableEnded) body.destroy();
  });
  return body.pipe(limit);
}
