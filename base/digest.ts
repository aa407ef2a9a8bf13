import { createHash, type Hash } from 'node:crypto';

/** Digest is a content address of the form `sha256:<64 hex>`. */
export type Digest = string & { readonly __brand: 'Digest' };

const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;

/** isDigest tells whether a string is a well-formed sha256 digest. */
export function isDigest(value: string): value is Digest {
  return DIGEST_PATTERN.test(value);
}

/** parseDigest validates a digest string, throwing on malformed input. */
export function parseDigest(value: string): Digest {
  if (!isDigest(value)) throw new TypeError(`Cannot parse digest "${value}": expected sha256:<64 hex digits>`);
  return value;
}

/** digestOf hashes bytes or a string into a Digest. */
export function digestOf(data: string | Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}` as Digest;
}

/** Digester accumulates bytes and yields their Digest. */
export class Digester {
  readonly #hash: Hash = createHash('sha256');
  #size = 0;
  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.#size += chunk.length;
  }
  get size(): number {
    return this.#size;
  }
  digest(): Digest {
    return `sha256:${this.#hash.digest('hex')}` as Digest;
  }
}

/** digestHex returns the hex part of a digest. */
export function digestHex(d: Digest): string {
  return d.slice('sha256:'.length);
}
