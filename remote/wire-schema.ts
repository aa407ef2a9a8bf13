/**
 * The protocol's messages are declared once, as field tables (number, name, type, repeated); the TypeScript type of
 * each message is derived from its table, and one codec (wire-codec.ts) encodes and decodes them all.
 * proto/tbuild.proto documents the same messages for other clients; a test checks the tables against it.
 */

/** ScalarType is a protobuf scalar the protocol uses; int64 kinds are read as numbers. */
export type ScalarType = 'string' | 'bytes' | 'bool' | 'uint32' | 'int32' | 'uint64' | 'int64' | 'double';

/** EnumType is a protobuf enum whose values are numbered by their position. */
export interface EnumType<V extends string = string> {
  readonly enum: string;
  readonly values: readonly V[];
}

/** FieldType is what one field holds: a scalar, an enum, a nested message, or a map<string, string>. */
export type FieldType = ScalarType | EnumType | MessageType | 'map';

/** FieldSpec is one field of a table: its number on the wire and its type. */
export interface FieldSpec {
  readonly no: number;
  readonly type: FieldType;
  readonly repeated?: boolean;
}

/** FieldTable maps the fields' names (camelCase of the .proto's) to their specs. */
export type FieldTable = { readonly [name: string]: FieldSpec };

/** MessageType is a message of plain fields. */
export interface MessageType<F extends FieldTable = FieldTable> {
  readonly message: string;
  readonly fields: F;
}

/** OneofType is a message that holds exactly one of its fields, decoded as a union tagged by `kind`. */
export interface OneofType<O extends FieldTable = FieldTable> {
  readonly message: string;
  readonly oneof: O;
}

/** AnyMessage is any message table. */
export type AnyMessage = MessageType | OneofType;

type NumberType = 'uint32' | 'int32' | 'uint64' | 'int64' | 'double';

/** ValueOf is the TypeScript type of one value of a field type. */
export type ValueOf<T> = T extends 'string'
  ? string
  : T extends 'bytes'
    ? Buffer
    : T extends 'bool'
      ? boolean
      : T extends NumberType
        ? number
        : T extends 'map'
          ? Readonly<Record<string, string>>
          : T extends EnumType<infer V>
            ? V
            : T extends MessageType<infer F>
              ? FieldsOf<F>
              : never;

/** FieldValue is a field's TypeScript type: a readonly list when repeated, undefined when a nested message is unset. */
export type FieldValue<S extends FieldSpec> = S extends { readonly repeated: true }
  ? readonly ValueOf<S['type']>[]
  : S['type'] extends MessageType
    ? ValueOf<S['type']> | undefined
    : ValueOf<S['type']>;

/** FieldsOf is the TypeScript type of a message of plain fields. */
export type FieldsOf<F extends FieldTable> = { readonly [K in keyof F]: FieldValue<F[K]> };

/** OneofOf is the TypeScript type of a oneof message: `{kind: 'name', name: value}` for each of its fields. */
export type OneofOf<O extends FieldTable> = { [K in keyof O & string]: { readonly kind: K } & { readonly [P in K]: ValueOf<O[K]['type']> } }[keyof O & string];

/** MessageOf is the TypeScript type a message table describes. */
export type MessageOf<M> = M extends OneofType<infer O> ? OneofOf<O> : M extends MessageType<infer F> ? FieldsOf<F> : never;

/** message declares a message of plain fields. */
export function message<const F extends FieldTable>(name: string, fields: F): MessageType<F> {
  return { message: name, fields };
}

/** oneofMessage declares a message holding one of its fields (the .proto's `oneof`). */
export function oneofMessage<const O extends FieldTable>(name: string, oneof: O): OneofType<O> {
  return { message: name, oneof };
}

/** enumType declares an enum; its values are numbered 0, 1, … in the order given. */
export function enumType<const V extends string>(name: string, values: readonly V[]): EnumType<V> {
  return { enum: name, values };
}
