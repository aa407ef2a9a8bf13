import { open, type FileHandle } from 'node:fs/promises';
import { formatPackageUrl } from '../purl.js';
import type { FoundPackage } from './package.js';

/** Folders whose executables are read for Go build information; the rest of the image is not opened. */
const BINARY_DIRS = /^(usr\/local\/bin|usr\/local\/sbin|usr\/bin|usr\/sbin|bin|sbin|go\/bin|usr\/local\/go\/bin|app|opt\/[^/]+\/bin)\/[^/]+$/;

/** isGoBinaryCandidate tells whether an executable's path is one the Go reader opens (the usual binary folders). */
export function isGoBinaryCandidate(path: string): boolean {
  return BINARY_DIRS.test(path);
}

const BUILDINFO_MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const MODINFO_START = Buffer.from('3077af0c9274080241e1c107e6d618e6', 'hex');
const MODINFO_END = Buffer.from('f932433186182072008242104116d8f2', 'hex');
const MAX_SECTION_BYTES = 4 * 1024 * 1024;
const MAX_SECTIONS = 4096;

async function readAt(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await file.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

/** goBuildInfoSection finds the `.go.buildinfo` section of an ELF file through its section headers, if it has one. */
async function goBuildInfoSection(file: FileHandle): Promise<Buffer | undefined> {
  const ident = await readAt(file, 0, 64);
  if (ident.length < 52 || ident.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const is64 = ident[4] === 2;
  const le = ident[5] === 1;
  const u16 = (b: Buffer, o: number): number => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const word = (b: Buffer, o: number): number => (is64 ? Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o)) : u32(b, o));
  if (is64 && ident.length < 64) return undefined;
  const shoff = word(ident, is64 ? 0x28 : 0x20);
  const shentsize = u16(ident, is64 ? 0x3a : 0x2e);
  const shnum = u16(ident, is64 ? 0x3c : 0x30);
  const shstrndx = u16(ident, is64 ? 0x3e : 0x32);
  if (shoff === 0 || shnum === 0 || shnum > MAX_SECTIONS || shstrndx >= shnum || shentsize < (is64 ? 0x28 : 0x18)) return undefined;
  const headers = await readAt(file, shoff, shentsize * shnum);
  if (headers.length < shentsize * shnum) return undefined;
  const section = (i: number): { name: number; offset: number; size: number } => {
    const base = i * shentsize;
    return { name: u32(headers, base), offset: word(headers, base + (is64 ? 0x18 : 0x10)), size: word(headers, base + (is64 ? 0x20 : 0x14)) };
  };
  const names = section(shstrndx);
  if (names.size > MAX_SECTION_BYTES) return undefined;
  const strtab = await readAt(file, names.offset, names.size);
  const wanted = Buffer.from('.go.buildinfo\0', 'latin1');
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (strtab.subarray(s.name, s.name + wanted.length).equals(wanted)) {
      return s.size > MAX_SECTION_BYTES ? undefined : readAt(file, s.offset, s.size);
    }
  }
  return undefined;
}

/** readVarBytes reads a uvarint length and that many bytes. */
function readVarBytes(buf: Buffer, at: number): { value: Buffer; next: number } | undefined {
  let length = 0;
  let shift = 0;
  let i = at;
  for (; i < buf.length && shift < 35; i++, shift += 7) {
    const b = buf[i] ?? 0;
    length += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
  }
  const start = i + 1;
  if (start + length > buf.length) return undefined;
  return { value: buf.subarray(start, start + length), next: start + length };
}

/**
 * parseGoBuildInfo reads the Go version and module information of a `.go.buildinfo` section as Go 1.18 and later
 * write it (strings inline after the 32-byte header). Older layouts, which point into the data segment, give nothing.
 */
export function parseGoBuildInfo(section: Buffer): { goVersion: string; modinfo: string } | undefined {
  if (section.length < 32 || !section.subarray(0, BUILDINFO_MAGIC.length).equals(BUILDINFO_MAGIC)) return undefined;
  const flags = section[15] ?? 0;
  if ((flags & 0x2) === 0) return undefined;
  const version = readVarBytes(section, 32);
  if (version === undefined) return undefined;
  const mod = readVarBytes(section, version.next);
  if (mod === undefined) return undefined;
  let raw = mod.value;
  if (raw.length >= 33 && raw.subarray(0, 16).equals(MODINFO_START) && raw.subarray(raw.length - 16).equals(MODINFO_END)) raw = raw.subarray(16, raw.length - 16);
  return { goVersion: version.value.toString('utf8'), modinfo: raw.toString('utf8') };
}

/** goPackageUrl names a Go module: `pkg:golang/github.com/x/y@v1.2.3`. */
function goPackageUrl(path: string, version: string): string {
  const slash = path.lastIndexOf('/');
  return formatPackageUrl({ type: 'golang', ...(slash < 0 ? {} : { namespace: path.slice(0, slash) }), name: path.slice(slash + 1), version });
}

/**
 * goModulePackages lists what a binary's build information names: the main module (unless built from a checkout,
 * "(devel)"), each dependency (its replacement when replaced), and the Go standard library as `stdlib`.
 */
export function goModulePackages(info: { goVersion: string; modinfo: string }, foundIn: string): FoundPackage[] {
  const modules: { path: string; version: string }[] = [];
  for (const line of info.modinfo.split('\n')) {
    const [kind, path, version] = line.split('\t');
    if (path === undefined || version === undefined) continue;
    if (kind === 'mod' || kind === 'dep') modules.push({ path, version });
    // A replacement line follows the module it replaces.
    else if (kind === '=>' && modules.length > 0) modules[modules.length - 1] = { path, version };
  }
  const pkg = (name: string, version: string): FoundPackage => ({ kind: 'go', name, version, purl: goPackageUrl(name, version), foundIn });
  const out = modules.filter((m) => m.version !== '(devel)' && m.version !== '').map((m) => pkg(m.path, m.version));
  const goVersion = info.goVersion.replace(/^go/, '').split(' ')[0] ?? '';
  if (goVersion !== '') out.push({ kind: 'go', name: 'stdlib', version: goVersion, purl: formatPackageUrl({ type: 'golang', name: 'stdlib', version: goVersion }), foundIn });
  return out;
}

/** readGoBuildInfo lists the Go modules an executable was built from; nothing for a file that is no Go binary. */
export async function readGoBuildInfo(hostPath: string, foundIn: string, options: { signal: AbortSignal }): Promise<FoundPackage[]> {
  options.signal.throwIfAborted();
  const file = await open(hostPath, 'r');
  try {
    const section = await goBuildInfoSection(file);
    const info = section === undefined ? undefined : parseGoBuildInfo(section);
    return info === undefined ? [] : goModulePackages(info, foundIn);
  } finally {
    await file.close();
  }
}
