/** TarType is the kind of a tar entry tbuild reads and writes. */
export type TarType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo';

/** TarHeader is one tar entry's metadata in decoded form. */
export interface TarHeader {
  readonly name: string;
  readonly type: TarType;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /** mtime in whole seconds since the epoch. */
  readonly mtime: number;
  readonly linkname?: string;
  readonly devmajor?: number;
  readonly devminor?: number;
  /** xattrs by name, values as raw bytes (PAX SCHILY.xattr.*). */
  readonly xattrs?: ReadonlyMap<string, Uint8Array>;
}

/** TAR_BLOCK is the tar record size. */
export const TAR_BLOCK = 512;

/** TAR_END is the end-of-archive marker: two zero blocks. */
export const TAR_END: Buffer = Buffer.alloc(TAR_BLOCK * 2);

const TYPE_FLAGS: Record<TarType, string> = {
  file: '0',
  link: '1',
  symlink: '2',
  char: '3',
  block: '4',
  directory: '5',
  fifo: '6',
};

const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;

/** tarPadding returns the zero bytes that round `size` up to a whole block. */
export function tarPadding(size: number): Buffer {
  const rest = size % TAR_BLOCK;
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(TAR_BLOCK - rest);
}

/** encodeTarHeader renders a header block, preceded by a PAX extended header when ustar cannot hold a field. */
export function encodeTarHeader(header: TarHeader): Buffer {
  const pax = new Map<string, Uint8Array>();
  const name = header.type === 'directory' && !header.name.endsWith('/') ? `${header.name}/` : header.name;
  const split = splitUstarName(name);
  if (split === undefined) pax.set('path', Buffer.from(name));
  const linkname = header.linkname ?? '';
  if (!fitsAscii(linkname, 100)) pax.set('linkpath', Buffer.from(linkname));
  if (header.uid > MAX_OCTAL_7) pax.set('uid', Buffer.from(String(header.uid)));
  if (header.gid > MAX_OCTAL_7) pax.set('gid', Buffer.from(String(header.gid)));
  if (header.size > MAX_OCTAL_11) pax.set('size', Buffer.from(String(header.size)));
  const mtime = Math.max(0, Math.floor(header.mtime));
  if (mtime > MAX_OCTAL_11) pax.set('mtime', Buffer.from(String(mtime)));
  for (const [key, value] of header.xattrs ?? []) pax.set(`SCHILY.xattr.${key}`, value);

  const block = Buffer.alloc(TAR_BLOCK);
  writeString(block, split?.name ?? asciiPrefix(name, 100), 0, 100);
  writeOctal(block, header.mode & 0o7777, 100, 8);
  writeOctal(block, Math.min(header.uid, MAX_OCTAL_7), 108, 8);
  writeOctal(block, Math.min(header.gid, MAX_OCTAL_7), 116, 8);
  writeOctal(block, Math.min(header.size, MAX_OCTAL_11), 124, 12);
  writeOctal(block, Math.min(mtime, MAX_OCTAL_11), 136, 12);
  block.write(TYPE_FLAGS[header.type], 156, 'ascii');
  writeString(block, asciiPrefix(linkname, 100), 157, 100);
  finishUstar(block, split?.prefix ?? '', header.devmajor ?? 0, header.devminor ?? 0);
  if (pax.size === 0) return block;
  return Buffer.concat([encodePaxHeader(name, mtime, pax), block]);
}

function encodePaxHeader(name: string, mtime: number, records: ReadonlyMap<string, Uint8Array>): Buffer {
  const body = Buffer.concat([...records.keys()].sort().map((key) => paxRecord(key, records.get(key) ?? new Uint8Array())));
  const block = Buffer.alloc(TAR_BLOCK);
  const base = name.replace(/\/$/, '').split('/').pop() ?? '';
  writeString(block, asciiPrefix(`PaxHeaders.0/${base}`, 100), 0, 100);
  writeOctal(block, 0o644, 100, 8);
  writeOctal(block, 0, 108, 8);
  writeOctal(block, 0, 116, 8);
  writeOctal(block, body.length, 124, 12);
  writeOctal(block, Math.min(mtime, MAX_OCTAL_11), 136, 12);
  block.write('x', 156, 'ascii');
  finishUstar(block, '', 0, 0);
  return Buffer.concat([block, body, tarPadding(body.length)]);
}

/** paxRecord encodes "LEN KEY=VALUE\n" where LEN counts the whole record. */
function paxRecord(key: string, value: Uint8Array): Buffer {
  const rest = Buffer.byteLength(key) + value.length + 3; // space, '=', newline
  let len = rest + String(rest).length;
  if (String(len).length !== String(rest).length) len = rest + String(len).length;
  return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from('\n')]);
}

function finishUstar(block: Buffer, prefix: string, devmajor: number, devminor: number): void {
  block.write('ustar\0', 257, 'ascii');
  block.write('00', 263, 'ascii');
  writeOctal(block, devmajor, 329, 8);
  writeOctal(block, devminor, 337, 8);
  writeString(block, prefix, 345, 155);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
}

function splitUstarName(name: string): { name: string; prefix: string } | undefined {
  if (fitsAscii(name, 100)) return { name, prefix: '' };
  if (!fitsAscii(name, 256)) return undefined;
  // The prefix must end at a slash; keep the name part as long as possible.
  for (let i = name.indexOf('/'); i !== -1; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (prefix.length <= 155 && rest.length <= 100 && rest.length > 0) return { name: rest, prefix };
  }
  return undefined;
}

function fitsAscii(value: string, max: number): boolean {
  return value.length <= max && /^[\x01-\x7f]*$/.test(value);
}

function asciiPrefix(value: string, max: number): string {
  return value.replace(/[^\x01-\x7f]/g, '_').slice(0, max);
}

function writeString(block: Buffer, value: string, offset: number, length: number): void {
  block.write(value, offset, length, 'ascii');
}

function writeOctal(block: Buffer, value: number, offset: number, length: number): void {
  block.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'ascii');
}
