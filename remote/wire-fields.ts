import { InternalError } from '../base/errors.js';

/** Fields reads a decoded protobuf message (a plain object) without trusting its shape. */
export class Fields {
  readonly #o: object;
  readonly #what: string;
  constructor(value: unknown, what: string) {
    if (typeof value !== 'object' || value === null) throw new InternalError(`Cannot decode ${what}: expected a message`);
    this.#o = value;
    this.#what = what;
  }

  /** raw returns a field as it was decoded. */
  raw(name: string): unknown {
    const v: unknown = Reflect.get(this.#o, name);
    return v;
  }

  /** str reads a string field ('' when unset). */
  str(name: string): string {
    const v = this.raw(name);
    if (v === undefined || v === null) return '';
    if (typeof v !== 'string') throw this.#bad(name, 'a string');
    return v;
  }

  /** num reads a numeric field (0 when unset). */
  num(name: string): number {
    const v = this.raw(name);
    if (v === undefined || v === null) return 0;
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
    throw this.#bad(name, 'a number');
  }

  /** bool reads a boolean field (false when unset). */
  bool(name: string): boolean {
    const v = this.raw(name);
    if (v === undefined || v === null) return false;
    if (typeof v !== 'boolean') throw this.#bad(name, 'a boolean');
    return v;
  }

  /** bytes reads a bytes field (empty when unset). */
  bytes(name: string): Buffer {
    const v = this.raw(name);
    if (v === undefined || v === null) return Buffer.alloc(0);
    if (!(v instanceof Uint8Array)) throw this.#bad(name, 'bytes');
    return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }

  /** list reads a repeated field. */
  list(name: string): readonly unknown[] {
    const v = this.raw(name);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw this.#bad(name, 'a list');
    const out: unknown[] = v;
    return out;
  }

  /** strings reads a repeated string field. */
  strings(name: string): string[] {
    return this.list(name).map((v) => {
      if (typeof v !== 'string') throw this.#bad(name, 'strings');
      return v;
    });
  }

  /** strMap reads a map<string, string> field. */
  strMap(name: string): Map<string, string> {
    const v = this.raw(name);
    const out = new Map<string, string>();
    if (v === undefined || v === null) return out;
    if (typeof v !== 'object') throw this.#bad(name, 'a map');
    for (const [k, val] of Object.entries(v)) {
      if (typeof val !== 'string') throw this.#bad(name, 'a map of strings');
      out.set(k, val);
    }
    return out;
  }

  /** sub reads a nested message field, or undefined when unset. */
  sub(name: string): Fields | undefined {
    const v = this.raw(name);
    return v === undefined || v === null ? undefined : new Fields(v, `${this.#what}.${name}`);
  }

  #bad(name: string, expected: string): InternalError {
    return new InternalError(`Cannot decode ${this.#what}.${name}: expected ${expected}`);
  }
}
