import { createHash } from 'node:crypto';

/** TarEntryType is the kind of one tar entry, as a layer tarball records it. */
export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

/** TarEntry is one entry of a tarball: its header (after PAX and GNU extensions) and the sha256 of its content. */
export interface TarEntry {
  readonly path: string;
  readonly type: TarEntryType;
  /** Permission bits with setuid, setgid and sticky (mode & 0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /** Link target for symlinks and hard links. */
  readonly linkname: string;
  /** Extended attributes from PAX `SCHILY.xattr.*` records, values in base64 (they are binary). */
  readonly xattrs: Readonly<Record<string, string>>;
  readonly devmajor: number;
  readonly devminor: number;
  /** sha256 hex of the content (regular files only, else ''). */
  readonly sha256: string;
}

const BLOCK = 512;
const TYPES: Readonly<Record<string, TarEntryType>> = {
  '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo',
};

/** Reads exact byte counts from an async iterable of chunks. */
class ChunkReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private done = false;
  constructor(private readonly source: AsyncIterator<Buffer>) {}

  private async fill(n: number): Promise<boolean> {
    while (this.pendingBytes < n && !this.done) {
      const next = await this.source.next();
      if (next.done === true) {
        this.done = true;
      } else {
        this.pending.push(next.value);
        this.pendingBytes += next.value.length;
      }
    }
    return this.pendingBytes >= n;
  }

  /** Returns the next n bytes, or undefined at the end of the input. */
  async read(n: number): Promise<Buffer | undefined> {
    if (!(await this.fill(n))) return undefined;
    // One buffered chunk is sliced, not copied: headers are read 512 bytes at a time out of large chunks.
    const first = this.pending[0];
    const all = this.pending.length === 1 && first !== undefined ? first : Buffer.concat(this.pending);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
    return out;
  }

  /** Passes the next n bytes to sink piece by piece (without holding them all). */
  async consume(n: number, sink: (piece: Buffer) => void): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.pendingBytes === 0 && !(await this.fill(1))) throw new Error(`Cannot read tar entry: input ends ${left} bytes early`);
      const head = this.pending.shift();
      if (head === undefined) throw new Error('Cannot read tar entry: no buffered input');
      const take = Math.min(left, head.length);
      sink(head.subarray(0, take));
      if (take < head.length) this.pending.unshift(head.subarray(take));
      this.pendingBytes -= take;
      left -= take;
    }
  }
}

function readString(buf: Buffer, offset: number, length: number): string {
  const slice = buf.subarray(offset, offset + length);
  const end = slice.indexOf(0);
  return slice.subarray(0, end === -1 ? slice.length : end).toString('utf8');
}

function readNumber(buf: Buffer, offset: number, length: number): number {
  const slice = buf.subarray(offset, offset + length);
  // GNU base-256: the high bit of the first byte is set.
  if (((slice[0] ?? 0) & 0x80) !== 0) {
    let value = (slice[0] ?? 0) & 0x7f;
    for (let i = 1; i < slice.length; i++) value = value * 256 + (slice[i] ?? 0);
    return value;
  }
  const text = readString(buf, offset, length).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

/** Parses PAX records ("LEN key=value\n"), keeping values as raw bytes. */
function parsePax(data: Buffer): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space === -1) break;
    const length = parseInt(data.subarray(pos, space).toString('ascii'), 10);
    if (!Number.isFinite(length) || length <= 0) break;
    const record = data.subarray(space + 1, pos + length - 1);
    const eq = record.indexOf(0x3d);
    if (eq !== -1) records.set(record.subarray(0, eq).toString('utf8'), record.subarray(eq + 1));
    pos += length;
  }
  return records;
}

interface Extensions {
  pax: Map<string, Buffer>;
  longName: string | undefined;
  longLink: string | undefined;
}

function toEntry(header: Buffer, ext: Extensions, typeflag: string): Omit<TarEntry, 'sha256'> {
  const prefix = header.subarray(257, 262).toString('ascii') === 'ustar' ? readString(header, 345, 155) : '';
  const name = readString(header, 0, 100);
  const paxText = (key: string): string | undefined => ext.pax.get(key)?.toString('utf8');
  const paxNumber = (key: string, fallback: number): number => {
    const v = paxText(key);
    return v === undefined ? fallback : Number(v);
  };
  const xattrs: Record<string, string> = {};
  for (const [key, value] of ext.pax) {
    if (key.startsWith('SCHILY.xattr.')) xattrs[key.slice('SCHILY.xattr.'.length)] = value.toString('base64');
  }
  return {
    path: paxText('path') ?? ext.longName ?? (prefix !== '' ? `${prefix}/${name}` : name),
    type: TYPES[typeflag] ?? 'file',
    mode: readNumber(header, 100, 8) & 0o7777,
    uid: paxNumber('uid', readNumber(header, 108, 8)),
    gid: paxNumber('gid', readNumber(header, 116, 8)),
    size: paxNumber('size', readNumber(header, 124, 12)),
    linkname: paxText('linkpath') ?? ext.longLink ?? readString(header, 157, 100),
    xattrs,
    devmajor: readNumber(header, 329, 8),
    devminor: readNumber(header, 337, 8),
  };
}

/** readTar parses a tar stream and calls onEntry for each entry, hashing file contents as they stream by. */
export async function readTar(source: AsyncIterable<Buffer>, onEntry: (entry: TarEntry) => void): Promise<void> {
  const reader = new ChunkReader(source[Symbol.asyncIterator]());
  let ext: Extensions = { pax: new Map(), longName: undefined, longLink: undefined };
  let globalPax = new Map<string, Buffer>();
  for (;;) {
    const header = await reader.read(BLOCK);
    if (header === undefined || header.every((b) => b === 0)) return;
    const typeflag = String.fromCharCode(header[156] ?? 0);
    const size = readNumber(header, 124, 12);
    const padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      const data = (await reader.read(size + padding))?.subarray(0, size);
      if (data === undefined) throw new Error('Cannot read tar extension header: input ends early');
      if (typeflag === 'x') ext.pax = new Map([...globalPax, ...parsePax(data)]);
      if (typeflag === 'g') globalPax = parsePax(data);
      if (typeflag === 'L') ext.longName = readString(data, 0, data.length);
      if (typeflag === 'K') ext.longLink = readString(data, 0, data.length);
      continue;
    }
    if (ext.pax.size === 0 && globalPax.size > 0) ext.pax = new Map(globalPax);
    const entry = toEntry(header, ext, typeflag);
    const hash = createHash('sha256');
    const contentSize = entry.type === 'file' ? entry.size : 0;
    await reader.consume(contentSize, (piece) => hash.update(piece));
    // Non-file entries may still carry a size field; their data (if any) is skipped.
    const dataSize = entry.type === 'file' ? entry.size : size;
    await reader.consume(dataSize - contentSize + ((BLOCK - (dataSize % BLOCK)) % BLOCK), () => undefined);
    onEntry({ ...entry, sha256: entry.type === 'file' ? hash.digest('hex') : '' });
    ext = { pax: new Map(), longName: undefined, longLink: undefined };
  }
}
