import { join } from 'node:path';
import type { MethodDefinition } from '@grpc/grpc-js';
import { load } from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { BUILDER_CALLS, SERVICE_NAME } from '../../../remote/proto.js';
import { decodeMessage, encodeMessage } from '../../../remote/wire-codec.js';
import type { AnyMessage, FieldSpec, FieldType } from '../../../remote/wire-schema.js';
import { BUILD_CLIENT_MESSAGE, BUILD_SERVER_MESSAGE, OUTPUT } from '../../../remote/messages.js';
import { REPO_ROOT } from '../../helpers/cli.js';

const pkg = await load(join(REPO_ROOT, 'proto', 'tbuild.proto'), { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true });

/** tables is every message table reachable from the service's calls, by message name. */
function tables(): Map<string, AnyMessage> {
  const out = new Map<string, AnyMessage>();
  const visit = (t: AnyMessage): void => {
    if (out.has(t.message)) return;
    out.set(t.message, t);
    for (const spec of Object.values('oneof' in t ? t.oneof : t.fields)) if (typeof spec.type === 'object' && 'fields' in spec.type) visit(spec.type);
  };
  for (const call of Object.values(BUILDER_CALLS)) {
    visit(call.request);
    visit(call.response);
  }
  return out;
}

const SCALARS: Record<string, string> = { string: 'TYPE_STRING', bytes: 'TYPE_BYTES', bool: 'TYPE_BOOL', uint32: 'TYPE_UINT32', int32: 'TYPE_INT32', uint64: 'TYPE_UINT64', int64: 'TYPE_INT64', double: 'TYPE_DOUBLE' };

/** described is a field as a .proto descriptor names it (maps as their generated entry type). */
function described(name: string, spec: FieldSpec): { name: string; number: number; repeated: boolean; type: string; typeName: string } {
  const t = spec.type;
  const base = { name, number: spec.no, repeated: spec.repeated === true || t === 'map' };
  if (t === 'map') return { ...base, type: 'TYPE_MESSAGE', typeName: `${name[0]?.toUpperCase() ?? ''}${name.slice(1)}` };
  if (typeof t === 'object') return 'fields' in t ? { ...base, type: 'TYPE_MESSAGE', typeName: t.message } : { ...base, type: 'TYPE_ENUM', typeName: t.enum };
  return { ...base, type: SCALARS[t] ?? t, typeName: '' };
}

interface FieldDescriptor {
  name: string;
  number: number;
  label: string;
  type: string;
  typeName: string;
}

function descriptorFields(message: string): FieldDescriptor[] {
  const def = pkg[`tbuild.v1.${message}`];
  if (def === undefined || !('format' in def) || def.format !== 'Protocol Buffer 3 DescriptorProto') throw new Error(`tbuild.proto has no message ${message}`);
  const type: unknown = def.type;
  const fields: unknown = typeof type === 'object' && type !== null ? Reflect.get(type, 'field') : undefined;
  if (!Array.isArray(fields)) throw new Error(`tbuild.proto's ${message} has no field list`);
  return fields.map((f: unknown): FieldDescriptor => {
    const get = (k: string): unknown => (typeof f === 'object' && f !== null ? Reflect.get(f, k) : undefined);
    return { name: String(get('name')), number: Number(get('number')), label: String(get('label')), type: String(get('type')), typeName: String(get('typeName')) };
  });
}

/** sample is a message with every field set to a value other than its default (one oneof member: `kind`). */
function sample(t: AnyMessage, kind?: string): Record<string, unknown> {
  if ('oneof' in t) {
    const k = kind ?? Object.keys(t.oneof)[0] ?? '';
    const spec = t.oneof[k];
    if (spec === undefined) throw new Error(`${t.message} has no member ${k}`);
    return { kind: k, [k]: valueOf(spec.type, spec.no, k) };
  }
  return Object.fromEntries(Object.entries(t.fields).map(([name, spec]) => [name, spec.repeated === true ? [valueOf(spec.type, spec.no, name), valueOf(spec.type, spec.no + 1, name)] : valueOf(spec.type, spec.no, name)]));
}

function valueOf(t: FieldType, no: number, name: string): unknown {
  if (t === 'map') return { a: 'x', [`${name}-${no}`]: 'ü' };
  if (typeof t === 'object') return 'fields' in t ? sample(t) : t.values[t.values.length - 1];
  switch (t) {
    case 'string':
      return `${name}-é-${no}`;
    case 'bytes':
      return Buffer.from([no, 0, 255]);
    case 'bool':
      return true;
    case 'uint32':
      return no * 1000 + 7;
    case 'int32':
      return -no;
    case 'uint64':
      return 2 ** 40 + no;
    case 'int64':
      return -(2 ** 40) - no;
    case 'double':
      return no + 0.5;
  }
}

function kindsOf(t: AnyMessage): (string | undefined)[] {
  return 'oneof' in t ? Object.keys(t.oneof) : [undefined];
}

// The codec is generic: these helpers call it with tables the test walks, whose types it cannot name statically.
const encode = (t: AnyMessage, v: Record<string, unknown>): Buffer => Reflect.apply(encodeMessage, undefined, [t, v]);
const decode = (t: AnyMessage, b: Buffer): unknown => Reflect.apply(decodeMessage, undefined, [t, b]);

describe('the message tables', () => {
  it('declare every message of proto/tbuild.proto with its fields, numbers and types', () => {
    const all = tables();
    const inProto = Object.entries(pkg).flatMap(([name, def]) => ('format' in def && def.format === 'Protocol Buffer 3 DescriptorProto' ? [name.replace('tbuild.v1.', '')] : []));
    expect([...all.keys()].sort()).toEqual(inProto.sort());
    for (const [name, t] of all) {
      const want = Object.entries('oneof' in t ? t.oneof : t.fields).map(([field, spec]) => described(field, spec));
      const got = descriptorFields(name).map((f) => ({ name: f.name, number: f.number, repeated: f.label === 'LABEL_REPEATED', type: f.type, typeName: f.typeName }));
      expect(got, name).toEqual(want);
    }
  });

  it('name every call of the service with its messages and streaming', () => {
    const service = pkg[SERVICE_NAME];
    if (service === undefined || 'format' in service) throw new Error('tbuild.proto has no Builder service');
    expect(Object.keys(BUILDER_CALLS).sort()).toEqual(Object.keys(service).sort());
    for (const [name, call] of Object.entries(BUILDER_CALLS)) {
      const def = service[name];
      expect(Reflect.get(def?.requestType.type ?? {}, 'name'), name).toBe(call.request.message);
      expect(Reflect.get(def?.responseType.type ?? {}, 'name'), name).toBe(call.response.message);
      expect([def?.requestStream, def?.responseStream], name).toEqual([call.streams, call.streams]);
    }
  });
});

describe('the wire codec', () => {
  it('round-trips every message with every field set, and each oneof member', () => {
    for (const t of tables().values()) {
      for (const kind of kindsOf(t)) {
        const value = sample(t, kind);
        expect(decode(t, encode(t, value)), `${t.message} ${kind ?? ''}`).toEqual(value);
      }
    }
  });

  it('leaves out default values and reads them back for a message with no bytes', () => {
    for (const t of tables().values()) {
      if ('oneof' in t) continue;
      const empty = decode(t, Buffer.alloc(0));
      expect(encode(t, Object(empty)).length, t.message).toBe(0);
      expect(decode(t, encode(t, Object(empty))), t.message).toEqual(empty);
    }
  });

  it('reads and writes the same bytes as protobufjs reading proto/tbuild.proto, for every call', () => {
    const service = pkg[SERVICE_NAME];
    if (service === undefined || 'format' in service) throw new Error('tbuild.proto has no Builder service');
    for (const [name, call] of Object.entries(BUILDER_CALLS)) {
      const def: MethodDefinition<object, object> | undefined = service[name];
      if (def === undefined) throw new Error(`tbuild.proto has no call ${name}`);
      const sides = [
        { t: call.request, read: def.requestDeserialize, write: def.requestSerialize },
        { t: call.response, read: def.responseDeserialize, write: def.responseSerialize },
      ];
      for (const { t, read, write } of sides) {
        for (const kind of kindsOf(t)) {
          const value = sample(t, kind);
          // Ours → protobufjs → ours: protobufjs must read every field we write, and write what we read.
          const theirs = read(encode(t, value));
          expect(decode(t, write(theirs)), `${name} ${t.message} ${kind ?? ''}`).toEqual(value);
        }
      }
    }
  });

  it('writes a negative int32 as ten bytes and packs repeated numbers, as protobuf does', () => {
    const level = encodeMessage(OUTPUT, { ...emptyOutput(), compressionLevel: -1 });
    expect(level.toString('hex')).toBe('28ffffffffffffffffff01');
    expect(decodeMessage(OUTPUT, level).compressionLevel).toBe(-1);
    const want = encodeMessage(BUILD_SERVER_MESSAGE, { kind: 'want', want: { indices: [1, 2, 300], last: false } });
    expect(want.toString('hex')).toBe('12060a040102ac02');
    // An unpacked list, as a proto2 peer writes it, reads the same.
    expect(decodeMessage(BUILD_SERVER_MESSAGE, Buffer.from('12070801080208ac02', 'hex'))).toEqual({ kind: 'want', want: { indices: [1, 2, 300], last: false } });
  });

  it('skips fields it does not know and refuses broken messages', () => {
    const known = encodeMessage(OUTPUT, { ...emptyOutput(), type: 'oci' });
    // Field 99 (varint 5) and field 98 (bytes "zz") from a newer peer.
    const withUnknown = Buffer.concat([Buffer.from([0x98, 0x06, 0x05, 0x92, 0x06, 0x02, 0x7a, 0x7a]), known]);
    expect(decodeMessage(OUTPUT, withUnknown).type).toBe('oci');
    expect(() => decodeMessage(OUTPUT, known.subarray(0, known.length - 1))).toThrow(/Cannot decode Output: the message ends early/);
    expect(() => decodeMessage(BUILD_CLIENT_MESSAGE, Buffer.alloc(0))).toThrow(/Cannot decode BuildClientMessage: no message set/);
    // Field 1 (type, a string) sent as a varint.
    expect(() => decodeMessage(OUTPUT, Buffer.from([0x08, 0x01]))).toThrow(/Cannot decode Output.type: wire type 0/);
  });
});

function emptyOutput(): ReturnType<typeof decodeMessage<typeof OUTPUT>> {
  return decodeMessage(OUTPUT, Buffer.alloc(0));
}
