/**
 * The kernel's binfmt_misc handlers (/proc/sys/fs/binfmt_misc): which interpreter runs a binary whose first bytes
 * match a magic under a mask. QEMU's user-mode emulators registered there let RUN steps of another architecture run.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../base/errors.js';
import type { Platform } from '../base/oci.js';

/** BINFMT_MISC_DIR is where the kernel lists binfmt_misc handlers (once binfmt_misc is mounted there). */
export const BINFMT_MISC_DIR = '/proc/sys/fs/binfmt_misc';

/** BinfmtHandler is one registered magic handler. */
export interface BinfmtHandler {
  readonly name: string;
  readonly enabled: boolean;
  readonly interpreter: string;
  /** Flags as the kernel lists them: F (the interpreter was opened at registration, so it runs in any mount namespace), P, C, O. */
  readonly flags: string;
  readonly offset: number;
  readonly magic: Uint8Array;
  readonly mask: Uint8Array | undefined;
}

/** BinfmtState is what binfmt_misc says: whether it is mounted, enabled, and its magic handlers. */
export interface BinfmtState {
  readonly mounted: boolean;
  readonly enabled: boolean;
  readonly handlers: readonly BinfmtHandler[];
}

/** BINFMT_CONTROL_FILES are the entries of binfmt_misc that are not handlers. */
export const BINFMT_CONTROL_FILES: ReadonlySet<string> = new Set(['register', 'status']);

function hexBytes(text: string): Uint8Array {
  return Uint8Array.from(text.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
}

/** parseBinfmtHandler reads a handler's file; undefined for an extension handler (matched by file name, not magic). */
export function parseBinfmtHandler(name: string, text: string): BinfmtHandler | undefined {
  const lines = text.split('\n');
  const field = (key: string): string | undefined => {
    const line = lines.find((l) => l.startsWith(`${key} `) || l.startsWith(`${key}:`));
    return line?.slice(key.length + 1).trim();
  };
  const magic = field('magic');
  if (magic === undefined) return undefined;
  const mask = field('mask');
  return {
    name,
    enabled: lines[0]?.trim() === 'enabled',
    interpreter: field('interpreter') ?? '',
    flags: field('flags') ?? '',
    offset: Number(field('offset') ?? '0'),
    magic: hexBytes(magic),
    mask: mask === undefined ? undefined : hexBytes(mask),
  };
}

/** readBinfmtState lists binfmt_misc's magic handlers; an unmounted binfmt_misc has none. */
export async function readBinfmtState(dir: string = BINFMT_MISC_DIR): Promise<BinfmtState> {
  let status: string;
  try {
    status = await readFile(join(dir, 'status'), 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return { mounted: false, enabled: false, handlers: [] };
    throw err;
  }
  const handlers: BinfmtHandler[] = [];
  for (const name of (await readdir(dir)).sort()) {
    if (BINFMT_CONTROL_FILES.has(name)) continue;
    let text: string;
    try {
      text = await readFile(join(dir, name), 'utf8');
    } catch (err) {
      // A handler removed while the folder was listed.
      if (errnoCode(err) === 'ENOENT') continue;
      throw err;
    }
    const handler = parseBinfmtHandler(name, text);
    if (handler !== undefined) handlers.push(handler);
  }
  return { mounted: true, enabled: status.trim() === 'enabled', handlers };
}

/** ElfMachine is the ELF identity of an architecture's executables: class (1: 32-bit, 2: 64-bit), byte order (1: little, 2: big) and e_machine. */
interface ElfMachine {
  readonly platforms: readonly Platform[];
  readonly elfClass: 1 | 2;
  readonly byteOrder: 1 | 2;
  readonly machine: number;
}

const linux = (architecture: string, variant?: string): Platform => (variant === undefined ? { os: 'linux', architecture } : { os: 'linux', architecture, variant });

/** ELF_MACHINES maps the OCI architectures BuildKit can emulate to their ELF identity. */
const ELF_MACHINES: readonly ElfMachine[] = [
  { platforms: [linux('amd64')], elfClass: 2, byteOrder: 1, machine: 62 },
  { platforms: [linux('386')], elfClass: 1, byteOrder: 1, machine: 3 },
  { platforms: [linux('arm64')], elfClass: 2, byteOrder: 1, machine: 183 },
  // QEMU's arm emulator runs v7 and older code, as BuildKit lists it (linux/arm, linux/arm/v6).
  { platforms: [linux('arm', 'v7'), linux('arm', 'v6')], elfClass: 1, byteOrder: 1, machine: 40 },
  { platforms: [linux('ppc64le')], elfClass: 2, byteOrder: 1, machine: 21 },
  { platforms: [linux('ppc64')], elfClass: 2, byteOrder: 2, machine: 21 },
  { platforms: [linux('s390x')], elfClass: 2, byteOrder: 2, machine: 22 },
  { platforms: [linux('riscv64')], elfClass: 2, byteOrder: 1, machine: 243 },
  { platforms: [linux('mips64le')], elfClass: 2, byteOrder: 1, machine: 8 },
  { platforms: [linux('mips64')], elfClass: 2, byteOrder: 2, machine: 8 },
  { platforms: [linux('loong64')], elfClass: 2, byteOrder: 1, machine: 258 },
];

/** elfHeader is the first 20 bytes of a statically linked executable of that machine. */
function elfHeader(m: ElfMachine): Uint8Array {
  const h = new Uint8Array(20);
  h.set([0x7f, 0x45, 0x4c, 0x46, m.elfClass, m.byteOrder, 1]);
  const view = new DataView(h.buffer);
  const little = m.byteOrder === 1;
  view.setUint16(16, 2, little); // ET_EXEC
  view.setUint16(18, m.machine, little);
  return h;
}

/** matchesHeader applies a handler's magic and mask to the start of a file, as the kernel does. */
function matchesHeader(handler: BinfmtHandler, header: Uint8Array): boolean {
  if (handler.magic.length === 0 || handler.offset + handler.magic.length > header.length) return false;
  return handler.magic.every((byte, i) => {
    const mask = handler.mask?.[i] ?? 0xff;
    return ((header[handler.offset + i] ?? 0) & mask) === (byte & mask);
  });
}

/** handlerPlatforms lists the platforms whose executables a handler takes (none for a handler of scripts or other formats). */
export function handlerPlatforms(handler: BinfmtHandler): Platform[] {
  return ELF_MACHINES.filter((m) => matchesHeader(handler, elfHeader(m))).flatMap((m) => [...m.platforms]);
}
