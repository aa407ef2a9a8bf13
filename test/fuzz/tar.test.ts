import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SnapshotError, TbuildError } from '../../base/errors.js';
import { applyLayer, encodeTarHeader, readTar, TAR_BLOCK, TAR_END, tarPadding, type TarType } from '../../cache/layer/index.js';
import { fuzzParams, fuzzTimeout } from './budget.js';

let scratch = '';
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tbuild-fuzz-tar-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

// Names and link targets that try to leave the root, nest, collide, whiteout, or need PAX and GNU-style long forms. The
// layer is applied to root/layer, next to root/outside: a relative link reaches it.
const OUTSIDE = '/OUTSIDE';
const name = fc.constantFrom(
  'a', 'a/b', 'a/b/c', 'dir/', 'l', 'l/x', '../x', './a/../../b', '/abs', 'a/./b', '.wh.a', 'a/.wh..wh..opq', '.wh..wh..opq',
  '.wh...', '.wh..', './', '.', '..', 'é/ü', `${'n'.repeat(120)}/y`, 'p'.repeat(300), 'a//b', 'a\\b',
);
const linkname = fc.constantFrom('a', 'a/b', 'l', '../outside', '../outside/x', '../../outside', OUTSIDE, `${OUTSIDE}/sentinel`, '../../x', 'dir/../a', '', '.', '/');
const type = fc.constantFrom<TarType>('file', 'file', 'directory', 'symlink', 'link', 'fifo');
const entry = fc.record({
  name,
  type,
  linkname,
  body: fc.uint8Array({ maxLength: 1100 }),
  mode: fc.constantFrom(0o644, 0o755, 0o4755, 0o000, 0o7777),
  uid: fc.constantFrom(0, 1, 65534, 0o7777777 + 1),
  mtime: fc.constantFrom(0, 1, 1700000000, 2 ** 33 + 1),
});
// PAX records a writer would never make: negative, fractional, huge and malformed numbers, paths that climb.
const paxRecords = fc.array(
  fc.constantFrom('size=-512', 'size=1e300', 'size=0.5', 'size=', 'uid=-1', 'gid=1.5', 'mtime=-1', 'mtime=1e400', 'path=../../up', 'path=', 'linkpath=/OUTSIDE', 'SCHILY.xattr.user.k=v', 'x', '=', 'size=99999999999999999999'),
  { maxLength: 3 },
);

type Entry = typeof entry extends fc.Arbitrary<infer T> ? T : never;

/** paxRecord is "LEN RECORD\n", LEN counting the whole line. */
function paxRecord(record: string): string {
  const rest = Buffer.byteLength(record) + 2;
  let len = rest + String(rest).length;
  if (String(len).length !== String(rest).length) len = rest + String(len).length;
  return `${len} ${record}\n`;
}

function paxBlock(records: readonly string[]): Buffer {
  if (records.length === 0) return Buffer.alloc(0);
  const body = Buffer.from(records.map(paxRecord).join(''));
  const header = encodeTarHeader({ name: 'pax', type: 'file', mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: 0 });
  header.write('x', 156, 'ascii');
  fixChecksum(header, 0);
  return Buffer.concat([header, body, tarPadding(body.length)]);
}

/** fixChecksum recomputes the checksum of the header block at offset, so a mutation gets past it into the fields. */
function fixChecksum(tar: Buffer, offset: number): void {
  if (offset + TAR_BLOCK > tar.length) return;
  tar.fill(0x20, offset + 148, offset + 156);
  let sum = 0;
  for (let i = offset; i < offset + TAR_BLOCK; i++) sum += tar[i] ?? 0;
  tar.write(`${sum.toString(8).padStart(6, '0')}\0 `, offset + 148, 'ascii');
}

function encode(entries: readonly Entry[], pax: readonly string[][]): { tar: Buffer; headers: number[] } {
  const parts: Buffer[] = [];
  const headers: number[] = [];
  let at = 0;
  entries.forEach((e, i) => {
    const size = e.type === 'file' ? e.body.length : 0;
    const head = Buffer.concat([paxBlock(pax[i] ?? []), encodeTarHeader({ ...e, gid: e.uid, size, linkname: e.linkname })]);
    headers.push(at + head.length - TAR_BLOCK);
    const body = e.type === 'file' ? Buffer.concat([Buffer.from(e.body), tarPadding(size)]) : Buffer.alloc(0);
    parts.push(head, body);
    at += head.length + body.length;
  });
  parts.push(TAR_END);
  return { tar: Buffer.concat(parts), headers };
}

// A tar made of generated entries, then mutated: bytes of a header set (its checksum fixed or not), cut short, or
// random bytes appended; or random bytes alone.
const mutation = fc.record({ block: fc.nat(), offset: fc.nat({ max: TAR_BLOCK - 1 }), byte: fc.nat({ max: 255 }), fix: fc.boolean() });
const tarArb = fc.oneof(
  fc
    .tuple(fc.array(entry, { maxLength: 8 }), fc.array(paxRecords, { maxLength: 8 }), fc.array(mutation, { maxLength: 4 }), fc.option(fc.nat()), fc.uint8Array({ maxLength: 600 }))
    .map(([entries, pax, mutations, cut, tail]) => {
      const { tar, headers } = encode(entries, pax);
      for (const m of mutations) {
        const at = headers.length === 0 ? 0 : (headers[m.block % headers.length] ?? 0);
        if (at + m.offset < tar.length) tar[at + m.offset] = m.byte;
        if (m.fix) fixChecksum(tar, at);
      }
      const cutAt = cut === null ? tar.length : cut % (tar.length + 1);
      return Buffer.concat([tar.subarray(0, cutAt), cut === null ? Buffer.from(tail) : Buffer.alloc(0)]);
    }),
  fc.uint8Array({ maxLength: 3 * TAR_BLOCK }).map((b) => Buffer.from(b)),
);

async function* chunked(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function readAll(tar: Buffer): Promise<unknown> {
  const out = [];
  for await (const e of readTar(chunked(tar, 512))) out.push(e.header);
  return out;
}

/** withField sets a header field of a one-file tar to raw bytes and fixes the checksum. */
function withField(offset: number, bytes: Buffer): Buffer {
  const { tar, headers } = encode([{ name: 'f', type: 'file', linkname: '', body: new Uint8Array(), mode: 0o644, uid: 0, mtime: 0 }], []);
  bytes.copy(tar, (headers[0] ?? 0) + offset);
  fixChecksum(tar, headers[0] ?? 0);
  return tar;
}

describe('the layer tar reader on inputs the fuzzer found', () => {
  it('refuses a base-256 number beyond 2^53 (a device major of 2^56 was read as an unsafe integer)', async () => {
    await expect(readAll(withField(329, Buffer.from([0x81, 0, 0, 0, 0, 0, 0, 0])))).rejects.toThrow(/number field too large/);
  });

  it('refuses a negative base-256 number', async () => {
    await expect(readAll(withField(108, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe])))).rejects.toThrow(/negative number field/);
  });

  it('refuses octal fields with other characters instead of reading their leading digits', async () => {
    await expect(readAll(withField(100, Buffer.from('0644x\0')))).rejects.toThrow(/bad number field "0644x"/);
  });

  it('refuses PAX sizes and ids that are negative, fractional or out of range', async () => {
    for (const record of ['size=-512', 'size=0.5', 'size=1e300', 'uid=-1', 'gid=1.5', 'mtime=1e400']) {
      const { tar } = encode([{ name: 'f', type: 'file', linkname: '', body: new Uint8Array(), mode: 0o644, uid: 0, mtime: 0 }], [[record]]);
      await expect(readAll(tar), record).rejects.toThrow(/bad PAX/);
    }
    const { tar } = encode([{ name: 'f', type: 'file', linkname: '', body: new Uint8Array(), mode: 0o644, uid: 0, mtime: 0 }], [['mtime=-1.5']]);
    expect(await readAll(tar)).toMatchObject([{ name: 'f', mtime: -2 }]);
  });
});

describe('the layer tar reader under random and mutated tars', () => {
  it('yields well-formed entries or fails with a SnapshotError, whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(tarArb, fc.integer({ min: 1, max: 700 }), fc.boolean(), async (tar, chunk, readBodies) => {
        try {
          for await (const e of readTar(chunked(tar, chunk))) {
            const h = e.header;
            for (const n of [h.size, h.mode, h.uid, h.gid, h.devmajor ?? 0, h.devminor ?? 0]) {
              expect(Number.isSafeInteger(n) && n >= 0).toBe(true);
            }
            expect(Number.isFinite(h.mtime)).toBe(true);
            if (!readBodies) continue;
            let read = 0;
            for await (const c of e.body()) read += c.length;
            expect(read).toBe(h.type === 'file' ? h.size : 0);
          }
        } catch (err) {
          if (!(err instanceof SnapshotError)) throw err;
        }
      }),
      fuzzParams(500, { timeout: 5000 }),
    );
  }, fuzzTimeout(60_000));

  it('applies a layer inside its folder only: nothing is written, linked or made outside it', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(tarArb, async (tar) => {
        const root = join(scratch, String(n++));
        const layer = join(root, 'layer');
        const outside = join(root, 'outside');
        await mkdir(layer, { recursive: true });
        await mkdir(outside);
        await writeFile(join(outside, 'sentinel'), 'kept');
        try {
          await applyLayer(Readable.from([tar]), layer, { signal: new AbortController().signal });
        } catch (err) {
          if (!(err instanceof TbuildError)) throw err;
        }
        expect((await readdir(root)).sort()).toEqual(['layer', 'outside']);
        expect(await readdir(outside)).toEqual(['sentinel']);
        expect(await readFile(join(outside, 'sentinel'), 'utf8')).toBe('kept');
        expect((await lstat(join(outside, 'sentinel'))).nlink).toBe(1);
        await rm(root, { recursive: true, force: true });
      }),
      fuzzParams(200, { timeout: 10_000 }),
    );
  }, fuzzTimeout(60_000));
});
