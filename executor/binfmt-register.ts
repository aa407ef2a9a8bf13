/**
 * Registers Debian's QEMU user-mode emulators (package qemu-user-static) with binfmt_misc, as tonistiigi/binfmt and
 * Debian's update-binfmts do, always with the F flag so the interpreter also runs inside a sandbox's mount namespace.
 * The magic, mask, offset and interpreter come from the format files the package ships in /usr/share/binfmts.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, errnoCode } from '../base/errors.js';
import { hostPlatform } from '../base/oci.js';
import { normalizePlatform } from '../base/platform.js';
import { mount } from '../native/index.js';
import { BINFMT_MISC_DIR, handlerPlatforms, readBinfmtState, type BinfmtHandler, type BinfmtState } from './binfmt.js';

/** BINFMT_FORMATS_DIR is where Debian packages describe the binary formats they handle (update-binfmts). */
export const BINFMT_FORMATS_DIR = '/usr/share/binfmts';

/** QEMU_NAMES maps OCI architectures to QEMU's names for them (qemu-aarch64 emulates arm64). */
const QEMU_NAMES: Readonly<Record<string, string>> = {
  amd64: 'x86_64', '386': 'i386', arm64: 'aarch64', arm: 'arm', ppc64le: 'ppc64le', ppc64: 'ppc64', s390x: 's390x',
  riscv64: 'riscv64', mips64le: 'mips64el', mips64: 'mips64', loong64: 'loongarch64',
};

/** BinfmtFormat is a Debian binfmts format file: what update-binfmts registers. */
export interface BinfmtFormat {
  readonly interpreter: string;
  readonly magic: string;
  readonly mask: string;
  readonly offset: string;
  readonly credentials: boolean;
  readonly preserve: boolean;
}

/** BinfmtPaths point registration at other folders (tests). */
export interface BinfmtPaths {
  readonly binfmtDir?: string;
  readonly formatsDir?: string;
}

/** BinfmtChange is what happened to one architecture. */
export interface BinfmtChange {
  readonly architecture: string;
  readonly handler: string;
  readonly outcome: 'registered' | 'already registered' | 'removed' | 'not registered';
}

/** parseBinfmtFormat reads a format file (`key value` lines); magic and mask keep their \x escapes, which the kernel reads. */
export function parseBinfmtFormat(text: string): BinfmtFormat {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined) fields.set(m[1], m[2]);
  }
  const interpreter = fields.get('interpreter');
  const magic = fields.get('magic');
  if (interpreter === undefined || magic === undefined) throw new ConfigError('Cannot read a binfmts format file: it has no interpreter or magic');
  return {
    interpreter,
    magic,
    mask: fields.get('mask') ?? '',
    offset: fields.get('offset') ?? '0',
    credentials: fields.get('credentials') === 'yes',
    preserve: fields.get('preserve') === 'yes',
  };
}

/** registrationLine is what binfmt_misc's register file takes: `:name:M:offset:magic:mask:interpreter:flags`. */
export function registrationLine(name: string, format: BinfmtFormat): string {
  const flags = `F${format.preserve ? 'P' : ''}${format.credentials ? 'C' : ''}`;
  return `:${name}:M:${format.offset}:${format.magic}:${format.mask}:${format.interpreter}:${flags}`;
}

/** qemuArchitecture turns `arm64`, `linux/arm64` or QEMU's `aarch64` into the OCI architecture and QEMU's name for it. */
export function qemuArchitecture(given: string): { architecture: string; qemu: string } {
  const text = given.trim().toLowerCase();
  const byQemu = Object.entries(QEMU_NAMES).find(([, q]) => q === text);
  if (byQemu !== undefined) return { architecture: byQemu[0], qemu: byQemu[1] };
  const parts = text.split('/');
  const architecture = normalizePlatform({ os: 'linux', architecture: (parts.length > 1 ? parts[1] : parts[0]) ?? '' }).architecture;
  const qemu = QEMU_NAMES[architecture];
  if (qemu === undefined) throw new ConfigError(`Cannot emulate "${given}": expected one of ${Object.keys(QEMU_NAMES).join(', ')}`);
  return { architecture, qemu };
}

/** openBinfmt mounts binfmt_misc where it belongs when it is not mounted yet, as systemd does at boot. */
async function openBinfmt(dir: string): Promise<BinfmtState> {
  const state = await readBinfmtState(dir);
  if (state.mounted) return state;
  mount('binfmt_misc', dir, 'binfmt_misc', 0, null);
  return readBinfmtState(dir);
}

async function readFormat(formatsDir: string, architecture: string, qemu: string): Promise<BinfmtFormat> {
  const path = join(formatsDir, `qemu-${qemu}`);
  try {
    return parseBinfmtFormat(await readFile(path, 'utf8'));
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
    throw new ConfigError(`Cannot register an emulator for ${architecture}: ${path} is missing`, {
      cause: err,
      hint: 'install Debian\'s qemu-user-static package (apt-get install qemu-user-static)',
    });
  }
}

/** EmulatorTarget is one architecture asked for, with the handlers that emulate it now. */
interface EmulatorTarget {
  readonly architecture: string;
  readonly qemu: string;
  readonly serving: readonly BinfmtHandler[];
}

/** openTargets mounts binfmt_misc if needed and pairs each architecture (once) with the handlers serving it. */
async function openTargets(dir: string, architectures: readonly string[]): Promise<EmulatorTarget[]> {
  const state = await openBinfmt(dir);
  const targets = new Map<string, EmulatorTarget>();
  for (const given of architectures) {
    const { architecture, qemu } = qemuArchitecture(given);
    const serving = state.handlers.filter((h) => handlerPlatforms(h).some((p) => p.architecture === architecture));
    targets.set(architecture, { architecture, qemu, serving });
  }
  return [...targets.values()];
}

/** installEmulators registers QEMU for each architecture that has no F-flag handler yet; existing handlers are kept. */
export async function installEmulators(architectures: readonly string[], paths: BinfmtPaths = {}): Promise<BinfmtChange[]> {
  if (architectures.length === 0) return [];
  const dir = paths.binfmtDir ?? BINFMT_MISC_DIR;
  const changes: BinfmtChange[] = [];
  for (const { architecture, qemu, serving } of await openTargets(dir, architectures)) {
    if (architecture === hostPlatform().architecture) throw new ConfigError(`Cannot register an emulator for ${architecture}: this machine runs it natively`);
    const usable = serving.find((h) => h.enabled && h.flags.includes('F'));
    if (usable !== undefined) {
      changes.push({ architecture, handler: usable.name, outcome: 'already registered' });
      continue;
    }
    const blocking = serving[0];
    if (blocking !== undefined) {
      const why = blocking.enabled ? 'without the F flag, so it cannot run inside a sandbox' : 'and disabled';
      throw new ConfigError(`Cannot register an emulator for ${architecture}: handler "${blocking.name}" is registered ${why}`, {
        hint: `remove it first (tbuild binfmt --uninstall ${architecture}), then run tbuild binfmt --install ${architecture}`,
      });
    }
    const handler = `qemu-${qemu}`;
    const format = await readFormat(paths.formatsDir ?? BINFMT_FORMATS_DIR, architecture, qemu);
    try {
      await writeFile(join(dir, 'register'), registrationLine(handler, format));
    } catch (err) {
      throw new ConfigError(`Cannot register ${format.interpreter} for ${architecture} with binfmt_misc`, { cause: err });
    }
    changes.push({ architecture, handler, outcome: 'registered' });
  }
  return changes;
}

/** uninstallEmulators removes the handlers that emulate each architecture. */
export async function uninstallEmulators(architectures: readonly string[], paths: BinfmtPaths = {}): Promise<BinfmtChange[]> {
  if (architectures.length === 0) return [];
  const dir = paths.binfmtDir ?? BINFMT_MISC_DIR;
  const changes: BinfmtChange[] = [];
  for (const { architecture, qemu, serving } of await openTargets(dir, architectures)) {
    if (serving.length === 0) changes.push({ architecture, handler: `qemu-${qemu}`, outcome: 'not registered' });
    for (const h of serving) {
      await writeFile(join(dir, h.name), '-1');
      changes.push({ architecture, handler: h.name, outcome: 'removed' });
    }
  }
  return changes;
}
