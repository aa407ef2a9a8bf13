import { SnapshotError } from '../../base/errors.js';
import { TAR_BLOCK, type TarHeader, type TarType } from './tar-format.js';

/** TarEntry is a decoded header plus a one-shot reader of its body. */
export interface TarEntry {
  readonly header: TarHeader;
  /** body yields the entry's data; it must be drained (or not started) before the next entry. */
  body(): AsyncGenerator<Buffer>;
}

const MAX_META_SIZE = 16 * 1024 * 1024;

const TYPES: Record<string, TarType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'link',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'directory',
  '6': 'fifo',
};

/** ByteReader pulls exact byte counts from a chunked source. */
class ByteReader {
  readonly #it: AsyncIterator<Buffer>;
  #buf: Buffer = Buffer.alloc(0);
  #eof = false;

  constructor(source: AsyncIterable<Buffer>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    const next = await this.#it.next();
    if (next.done === true) {
      this.#eof = true;
      return false;
    }
    this.#buf = this.#buf.length === 0 ? next.value : Buffer.concat([this.#buf, next.value]);
    return true;
  }

  /** readExact returns n bytes, or undefined at end of input. */
  async readExact(n: number): Promise<Buffer | undefined> {
    while (this.#buf.length < n) if (!(await this.#fill())) return undefined;
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  /** chunks yields exactly n bytes in pieces as they arrive. */
  async *chunks(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.#buf.length === 0 && !(await this.#fill())) throw truncated();
      const take = Math.min(left, this.#buf.length);
      const out = this.#buf.subarray(0, take);
      this.#buf = this.#buf.subarray(take);
      left -= take;
      yield out;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const chunk of this.chunks(n)) void chunk;
  }

  /** drain consumes whatever follows the archive (so the caller's digest covers all bytes). */
  async drain(): Promise<void> {
    this.#buf = Buffer.alloc(0);
    while (await this.#fill()) this.#buf = Buffer.alloc(0);
  }
}

function truncated(): SnapshotError {
  return new SnapshotError('Cannot read layer tar: unexpected end of data');
}

/** readTar parses a tar stream (ustar, GNU long names, PAX) and yields its entries in order. */
export async function* readTar(source: AsyncIterable<Buffer>): AsyncGenerator<TarEntry> {
  const reader = new ByteReader(source);
  let globalPax = new Map<string, Buffer>();
  let pax = new Map<string, Buffer>();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await reader.readExact(TAR_BLOCK);
    if (block === undefined || block.every((b) => b === 0)) break;
    verifyChecksum(block);
    const flag = String.fromCharCode(block[156] ?? 0);
    const size = readNumber(block, 124, 12);
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (size > MAX_META_SIZE) throw new SnapshotError(`Cannot read layer tar: metadata entry of ${size} bytes`);
      const data = (await reader.readExact(padded(size)))?.subarray(0, size);
      if (data === undefined) throw truncated();
      if (flag === 'x') pax = new Map([...pax, ...parsePax(data)]);
      else if (flag === 'g') globalPax = new Map([...globalPax, ...parsePax(data)]);
      else if (flag === 'L') longName = cString(data);
      else longLink = cString(data);
      continue;
    }
    const records = new Map([...globalPax, ...pax]);
    const header = decodeHeader(block, flag, records, longName, longLink);
    pax = new Map();
    longName = undefined;
    longLink = undefined;
    const hasBody = header.type === 'file';
    const bodySize = hasBody ? header.size : 0;
    let read = 0;
    let started = false;
    yield {
      header,
      body: async function* () {
        if (started) throw new SnapshotError(`Cannot read tar entry "${header.name}" twice`);
        started = true;
        for await (const chunk of reader.chunks(bodySize)) {
          read += chunk.length;
          yield chunk;
        }
      },
    };
    // Skip whatever the consumer did not read, then the padding.
    await reader.skip(padded(bodySize) - read);
  }
  await reader.drain();
}

function padded(size: number): number {
  return Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
}

function decodeHeader(
  block: Buffer,
  flag: string,
  pax: ReadonlyMap<string, Buffer>,
  longName: string | undefined,
  longLink: string | undefined,
): TarHeader {
  const type = TYPES[flag];
  if (type === undefined) throw new SnapshotError(`Cannot read layer tar: unsupported entry type "${flag}"`);
  const isUstar = block.subarray(257, 263).toString('latin1') === 'ustar\0';
  const prefix = isUstar ? cString(block.subarray(345, 500)) : '';
  const rawName = cString(block.subarray(0, 100));
  const name = pax.get('path')?.toString('utf8') ?? longName ?? (prefix === '' ? rawName : `${prefix}/${rawName}`);
  const linkname = pax.get('linkpath')?.toString('utf8') ?? longLink ?? cString(block.subarray(157, 257));
  const xattrs = new Map<string, Uint8Array>();
  for (const [key, value] of pax) {
    if (key.startsWith('SCHILY.xattr.')) xattrs.set(key.slice('SCHILY.xattr.'.length), value);
  }
  return {
    name,
    type,
    mode: readNumber(block, 100, 8),
    uid: paxNumber(pax, 'uid') ?? readNumber(block, 108, 8),
    gid: paxNumber(pax, 'gid') ?? readNumber(block, 116, 8),
    size: paxNumber(pax, 'size') ?? readNumber(block, 124, 12),
    mtime: Math.floor(paxNumber(pax, 'mtime') ?? readNumber(block, 136, 12)),
    ...(linkname === '' ? {} : { linkname }),
    devmajor: readNumber(block, 329, 8),
    devminor: readNumber(block, 337, 8),
    ...(xattrs.size === 0 ? {} : { xattrs }),
  };
}

/**
 * paxNumber reads a PAX number: size, uid and gid are whole numbers from 0 up (as Go's archive/tar reads them), mtime
 * is seconds with an optional fraction and sign; anything else (`-512`, `1e300`, `0.5` for a size) is refused.
 */
function paxNumber(pax: ReadonlyMap<string, Buffer>, key: 'size' | 'uid' | 'gid' | 'mtime'): number | undefined {
  const value = pax.get(key);
  if (value === undefined) return undefined;
  const text = value.toString('latin1');
  const n = Number(text);
  const ok = key === 'mtime' ? /^-?[0-9]+(\.[0-9]+)?$/.test(text) && Number.isFinite(n) : /^[0-9]+$/.test(text) && Number.isSafeInteger(n);
  if (!ok) throw new SnapshotError(`Cannot read layer tar: bad PAX ${key} "${text}"`);
  return n;
}

/** parsePax splits PAX records, keeping values as raw bytes (xattr values may be binary). */
function parsePax(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    const len = Number(data.subarray(pos, space).toString('ascii'));
    if (space === -1 || !Number.isInteger(len) || len <= 0 || pos + len > data.length) {
      throw new SnapshotError('Cannot read layer tar: malformed PAX header');
    }
    const record = data.subarray(space + 1, pos + len - 1);
    const eq = record.indexOf(0x3d);
    if (eq === -1) throw new SnapshotError('Cannot read layer tar: malformed PAX record');
    out.set(record.subarray(0, eq).toString('utf8'), Buffer.from(record.subarray(eq + 1)));
    pos += len;
  }
  return out;
}

/**
 * readNumber reads a numeric header field: octal digits, or GNU base-256 for values too large for octal. A negative
 * base-256 value, one beyond 2^53, or octal with other characters (parseInt would read `12x` as 10) is refused.
 */
function readNumber(block: Buffer, offset: number, length: number): number {
  const field = block.subarray(offset, offset + length);
  const first = field[0] ?? 0;
  if ((first & 0x80) !== 0) {
    if ((first & 0x40) !== 0) throw new SnapshotError('Cannot read layer tar: negative number field');
    let n = first & 0x3f;
    for (let i = 1; i < field.length; i++) n = n * 256 + (field[i] ?? 0);
    if (!Number.isSafeInteger(n)) throw new SnapshotError('Cannot read layer tar: number field too large');
    return n;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new SnapshotError(`Cannot read layer tar: bad number field "${text}"`);
  return parseInt(text, 8);
}

function cString(data: Buffer): string {
  const end = data.indexOf(0);
  return data.subarray(0, end === -1 ? data.length : end).toString('utf8');
}

function verifyChecksum(block: Buffer): void {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < TAR_BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  const stored = readNumber(block, 148, 8);
  if (stored !== unsigned && stored !== signed) throw new SnapshotError('Cannot read layer tar: header checksum mismatch');
}
