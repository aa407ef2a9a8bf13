import { InternalError } from '../base/errors.js';
import type { AnyMessage, FieldSpec, FieldTable, FieldType, MessageOf, MessageType } from './wire-schema.js';

// Protobuf wire types (https://protobuf.dev/programming-guides/encoding/).
const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

function isPacked(t: FieldType): boolean {
  return t === 'bool' || t === 'uint32' || t === 'int32' || t === 'uint64' || t === 'int64' || t === 'double' || (typeof t === 'object' && 'values' in t);
}

function isMessage(t: FieldType): t is MessageType {
  return typeof t === 'object' && 'fields' in t;
}

// Encoding takes two passes, as protobuf's own writers do: the first checks every value and measures every
// message (kept by the value it measured), the second writes the bytes into one buffer of the exact size.

/** encodeMessage encodes a message by its table. */
export function encodeMessage<M extends AnyMessage>(type: M, value: MessageOf<M>): Buffer {
  const sizes = new Map<object, number>();
  const w = new Writer(Buffer.allocUnsafe(messageSize(type, value, sizes)));
  writeMessage(w, type, value, sizes);
  return w.buf;
}

function varintSize(n: number): number {
  if (n < 0) return 10;
  let size = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 0x80)) size++;
  return size;
}

function tagSize(no: number): number {
  return varintSize(no * 8);
}

/** members are the fields a message value writes: each set field, or the oneof member its kind names. */
function members(type: AnyMessage, value: unknown): [string, FieldSpec][] {
  if (typeof value !== 'object' || value === null) throw new InternalError(`Cannot encode ${type.message}: expected a message`);
  if ('fields' in type) return Object.entries(type.fields);
  const kind: unknown = Reflect.get(value, 'kind');
  const spec = typeof kind === 'string' ? type.oneof[kind] : undefined;
  if (typeof kind !== 'string' || spec === undefined) throw new InternalError(`Cannot encode ${type.message}: no message set`);
  return [[kind, spec]];
}

function messageSize(type: AnyMessage, value: unknown, sizes: Map<object, number>): number {
  let size = 0;
  for (const [name, spec] of members(type, value)) {
    const v: unknown = Reflect.get(Object(value), name);
    const what = `${type.message}.${name}`;
    // A oneof member is written even when it holds its default, so the reader knows which one is set.
    if ('oneof' in type) size += valueSize(spec, v, sizes, what);
    else size += fieldSize(spec, v, sizes, what);
  }
  if (typeof value === 'object' && value !== null) sizes.set(value, size);
  return size;
}

function fieldSize(spec: FieldSpec, v: unknown, sizes: Map<object, number>, what: string): number {
  if (v === undefined) return 0;
  if (spec.repeated === true) {
    if (!Array.isArray(v)) throw new InternalError(`Cannot encode ${what}: expected a list`);
    const items: unknown[] = v;
    if (items.length === 0) return 0;
    if (!isPacked(spec.type)) return items.reduce((n: number, item) => n + valueSize(spec, item, sizes, what), 0);
    const packed = items.reduce((n: number, item) => n + scalarSize(spec.type, item, what), 0);
    return tagSize(spec.no) + varintSize(packed) + packed;
  }
  return isDefault(spec.type, v) ? 0 : valueSize(spec, v, sizes, what);
}

/** isDefault tells whether proto3 leaves a value out: zero, false, empty, or an empty map. */
function isDefault(t: FieldType, v: unknown): boolean {
  if (t === 'map') return typeof v === 'object' && v !== null && Object.keys(v).length === 0;
  if (isMessage(t)) return false;
  if (typeof t === 'object') return v === t.values[0];
  if (t === 'bytes') return v instanceof Uint8Array && v.length === 0;
  return v === '' || v === 0 || v === false;
}

function delimitedSize(no: number, length: number): number {
  return tagSize(no) + varintSize(length) + length;
}

function valueSize(spec: FieldSpec, v: unknown, sizes: Map<object, number>, what: string): number {
  const t = spec.type;
  if (t === 'map') {
    if (typeof v !== 'object' || v === null) throw new InternalError(`Cannot encode ${what}: expected a map`);
    let size = 0;
    for (const [key, val] of Object.entries(v)) {
      if (typeof val !== 'string') throw new InternalError(`Cannot encode ${what}: expected a map of strings`);
      size += delimitedSize(spec.no, mapEntrySize(key, val));
    }
    return size;
  }
  if (isMessage(t)) return delimitedSize(spec.no, messageSize(t, v, sizes));
  if (t === 'string') {
    if (typeof v !== 'string') throw new InternalError(`Cannot encode ${what}: expected a string`);
    return delimitedSize(spec.no, Buffer.byteLength(v, 'utf8'));
  }
  if (t === 'bytes') {
    if (!(v instanceof Uint8Array)) throw new InternalError(`Cannot encode ${what}: expected bytes`);
    return delimitedSize(spec.no, v.length);
  }
  return tagSize(spec.no) + scalarSize(t, v, what);
}

function mapEntrySize(key: string, value: string): number {
  const k = Buffer.byteLength(key, 'utf8');
  const v = Buffer.byteLength(value, 'utf8');
  return (k === 0 ? 0 : delimitedSize(1, k)) + (v === 0 ? 0 : delimitedSize(2, v));
}

function scalarSize(t: FieldType, v: unknown, what: string): number {
  if (typeof t === 'object' && 'values' in t) {
    const i = typeof v === 'string' ? t.values.indexOf(v) : -1;
    if (i < 0) throw new InternalError(`Cannot encode ${what}: expected one of ${t.values.join(', ')}`);
    return varintSize(i);
  }
  if (t === 'bool') {
    if (typeof v !== 'boolean') throw new InternalError(`Cannot encode ${what}: expected a boolean`);
    return 1;
  }
  if (typeof v !== 'number' || Number.isNaN(v)) throw new InternalError(`Cannot encode ${what}: expected a number`);
  if (t === 'double') return 8;
  const max = t === 'uint64' || t === 'int64' ? Number.MAX_SAFE_INTEGER : t === 'uint32' ? 0xffffffff : 0x7fffffff;
  const min = t === 'int32' ? -0x80000000 : t === 'int64' ? Number.MIN_SAFE_INTEGER : 0;
  if (!Number.isInteger(v) || v < min || v > max) throw new InternalError(`Cannot encode ${what}: ${v} is not a ${String(t)}`);
  return varintSize(v);
}

/** Writer fills a buffer of the size the first pass measured. */
class Writer {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  varint(n: number): void {
    if (n < 0) {
      // A negative int32 or int64 takes ten bytes: its 64-bit two's complement.
      let v = BigInt.asUintN(64, BigInt(n));
      while (v >= 0x80n) {
        this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
        v >>= 7n;
      }
      this.buf[this.pos++] = Number(v);
      return;
    }
    let v = n;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }
  tag(no: number, wire: number): void {
    this.varint(no * 8 + wire);
  }
  string(no: number, s: string): void {
    this.tag(no, LEN);
    this.varint(Buffer.byteLength(s, 'utf8'));
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }
  bytes(no: number, b: Uint8Array): void {
    this.tag(no, LEN);
    this.varint(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

function writeMessage(w: Writer, type: AnyMessage, value: unknown, sizes: Map<object, number>): void {
  for (const [name, spec] of members(type, value)) {
    const v: unknown = Reflect.get(Object(value), name);
    if ('oneof' in type) writeValue(w, spec, v, sizes);
    else writeField(w, spec, v, sizes);
  }
}

function writeField(w: Writer, spec: FieldSpec, v: unknown, sizes: Map<object, number>): void {
  if (v === undefined) return;
  if (spec.repeated === true) {
    const items: unknown[] = Array.isArray(v) ? v : [];
    if (items.length === 0) return;
    if (!isPacked(spec.type)) {
      for (const item of items) writeValue(w, spec, item, sizes);
      return;
    }
    w.tag(spec.no, LEN);
    w.varint(items.reduce((n: number, item) => n + scalarSize(spec.type, item, ''), 0));
    for (const item of items) writeScalar(w, spec.type, item);
    return;
  }
  if (!isDefault(spec.type, v)) writeValue(w, spec, v, sizes);
}

function writeValue(w: Writer, spec: FieldSpec, v: unknown, sizes: Map<object, number>): void {
  const t = spec.type;
  if (t === 'map') {
    for (const [key, val] of Object.entries(Object(v))) {
      const text = String(val);
      w.tag(spec.no, LEN);
      w.varint(mapEntrySize(key, text));
      if (key !== '') w.string(1, key);
      if (text !== '') w.string(2, text);
    }
  } else if (isMessage(t)) {
    w.tag(spec.no, LEN);
    w.varint(sizes.get(Object(v)) ?? 0);
    writeMessage(w, t, v, sizes);
  } else if (t === 'string') w.string(spec.no, String(v));
  else if (t === 'bytes') w.bytes(spec.no, v instanceof Uint8Array ? v : new Uint8Array());
  else {
    w.tag(spec.no, t === 'double' ? FIXED64 : VARINT);
    writeScalar(w, t, v);
  }
}

function writeScalar(w: Writer, t: FieldType, v: unknown): void {
  if (typeof t === 'object' && 'values' in t) w.varint(typeof v === 'string' ? t.values.indexOf(v) : 0);
  else if (t === 'bool') w.varint(v === true ? 1 : 0);
  else if (t === 'double') w.pos = w.buf.writeDoubleLE(Number(v), w.pos);
  else w.varint(Number(v));
}

/** Reader walks the bytes of one message. */
class Reader {
  pos = 0;
  constructor(readonly buf: Buffer, readonly what: string) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  byte(): number {
    const b = this.buf[this.pos++];
    if (b === undefined) throw new InternalError(`Cannot decode ${this.what}: the message ends early`);
    return b;
  }
  /** varint reads a varint as a number (exact below 2^53, as protobufjs's longs: Number). */
  varint(): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      v += (b & 0x7f) * scale;
      if (b < 0x80) return v;
      scale *= 0x80;
    }
    throw new InternalError(`Cannot decode ${this.what}: a varint is longer than ten bytes`);
  }
  /** varintBig reads a varint whole, for int64 values whose sign is in the 64th bit. */
  varintBig(): bigint {
    let v = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = this.byte();
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
    throw new InternalError(`Cannot decode ${this.what}: a varint is longer than ten bytes`);
  }
  /** varint32 reads a varint's low 32 bits (int32 and uint32 values; a negative int32 takes ten bytes). */
  varint32(): number {
    let v = 0;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      if (i < 5) v |= (b & 0x7f) << (7 * i);
      if (b < 0x80) return v;
    }
    throw new InternalError(`Cannot decode ${this.what}: a varint is longer than ten bytes`);
  }
  take(n: number): Buffer {
    if (this.pos + n > this.buf.length) throw new InternalError(`Cannot decode ${this.what}: the message ends early`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  delimited(): Buffer {
    return this.take(this.varint());
  }
  skipField(wire: number): void {
    if (wire === VARINT) this.varint();
    else if (wire === FIXED64) this.take(8);
    else if (wire === LEN) this.delimited();
    else if (wire === FIXED32) this.take(4);
    else throw new InternalError(`Cannot decode ${this.what}: unknown wire type ${wire}`);
  }
}

/** decodeMessage decodes a message by its table: unset fields take their defaults, unknown fields are skipped. */
export function decodeMessage<M extends AnyMessage>(type: M, bytes: Uint8Array): MessageOf<M> {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoded = decodeFrom(type, new Reader(buf, type.message));
  // The codec builds every field from the table MessageOf derives the type from.
  return decoded as MessageOf<M>;
}

/** Layout is a table arranged for decoding: its fields by number, each with the name errors give it. */
interface Layout {
  readonly byNumber: ReadonlyMap<number, { readonly name: string; readonly spec: FieldSpec; readonly what: string }>;
  readonly fields: readonly (readonly [string, FieldSpec])[];
}

const layouts = new WeakMap<AnyMessage, Layout>();

/** layoutOf arranges a table for decoding, once per table. */
function layoutOf(type: AnyMessage): Layout {
  let layout = layouts.get(type);
  if (layout === undefined) {
    const table: FieldTable = 'oneof' in type ? type.oneof : type.fields;
    const fields = Object.entries(table);
    layout = { byNumber: new Map(fields.map(([name, spec]) => [spec.no, { name, spec, what: `${type.message}.${name}` }])), fields: 'fields' in type ? fields : [] };
    layouts.set(type, layout);
  }
  return layout;
}

function decodeFrom(type: AnyMessage, r: Reader): Record<string, unknown> {
  const { byNumber, fields } = layoutOf(type);
  const out: Record<string, unknown> = {};
  for (const [name, spec] of fields) out[name] = defaultOf(spec);
  let kind: string | undefined;
  while (!r.done) {
    const key = r.varint();
    const wire = key & 7;
    const field = byNumber.get(Math.floor(key / 8));
    if (field === undefined) {
      r.skipField(wire);
      continue;
    }
    const { name, spec, what } = field;
    const current = out[name];
    if (spec.type === 'map') {
      const [k, v] = readMapEntry(new Reader(expectLen(r, wire, what), what));
      if (typeof current === 'object' && current !== null) Reflect.set(current, k, v);
    } else if (spec.repeated === true && Array.isArray(current)) {
      if (wire === LEN && isPacked(spec.type)) {
        const packed = new Reader(r.delimited(), what);
        while (!packed.done) current.push(readScalar(packed, spec.type, what));
      } else current.push(readValue(r, wire, spec.type, what));
    } else {
      out[name] = readValue(r, wire, spec.type, what);
      if ('oneof' in type) kind = name;
    }
  }
  if ('oneof' in type) {
    if (kind === undefined) throw new InternalError(`Cannot decode ${type.message}: no message set`);
    return { kind, [kind]: out[kind] };
  }
  return out;
}

function defaultOf(spec: FieldSpec): unknown {
  const t = spec.type;
  if (spec.repeated === true) return [];
  if (t === 'map') return {};
  if (typeof t === 'object') return 'fields' in t ? undefined : t.values[0];
  if (t === 'string') return '';
  if (t === 'bytes') return Buffer.alloc(0);
  return t === 'bool' ? false : 0;
}

function expectLen(r: Reader, wire: number, what: string): Buffer {
  if (wire !== LEN) throw new InternalError(`Cannot decode ${what}: wire type ${wire} where a length-delimited field belongs`);
  return r.delimited();
}

function readMapEntry(r: Reader): [string, string] {
  let key = '';
  let value = '';
  while (!r.done) {
    const tag = r.varint();
    const no = Math.floor(tag / 8);
    if (no === 1) key = expectLen(r, tag & 7, r.what).toString('utf8');
    else if (no === 2) value = expectLen(r, tag & 7, r.what).toString('utf8');
    else r.skipField(tag & 7);
  }
  return [key, value];
}

function readValue(r: Reader, wire: number, t: FieldType, what: string): unknown {
  if (typeof t === 'object' && 'fields' in t) return decodeFrom(t, new Reader(expectLen(r, wire, what), what));
  if (t === 'string') return expectLen(r, wire, what).toString('utf8');
  if (t === 'bytes') return expectLen(r, wire, what);
  const expected = t === 'double' ? FIXED64 : VARINT;
  if (wire !== expected) throw new InternalError(`Cannot decode ${what}: wire type ${wire} where ${expected} belongs`);
  return readScalar(r, t, what);
}

function readScalar(r: Reader, t: FieldType, what: string): unknown {
  if (t === 'double') return r.take(8).readDoubleLE(0);
  if (t === 'int32') return r.varint32() | 0;
  if (t === 'uint32') return r.varint32() >>> 0;
  if (t === 'int64') return Number(BigInt.asIntN(64, r.varintBig()));
  const v = r.varint();
  if (typeof t === 'object' && 'values' in t) {
    const name = t.values[v];
    if (name === undefined) throw new InternalError(`Cannot decode ${what}: ${v} is not a ${t.enum}`);
    return name;
  }
  if (t === 'bool') return v !== 0;
  return v;
}
