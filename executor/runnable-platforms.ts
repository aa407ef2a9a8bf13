/**
 * Which platforms this machine can run RUN steps for: its own (with the amd64 micro-architecture levels its CPU
 * has, and 386 when the kernel runs 32-bit x86 code), and those a binfmt_misc emulator handles with the F flag.
 * Without F the kernel looks the interpreter up inside the sandbox's mount namespace, where it is missing.
 */
import { pathExists, readTextIfExists } from '../base/fs.js';
import { formatPlatform, hostPlatform, type Platform } from '../base/oci.js';
import { normalizePlatform, platformRank } from '../base/platform.js';
import { BINFMT_MISC_DIR, handlerPlatforms, readBinfmtState } from './binfmt.js';

/** EmulatedPlatform is a platform a binfmt_misc handler runs. */
export interface EmulatedPlatform {
  readonly platform: Platform;
  readonly handler: string;
  readonly interpreter: string;
}

/** UnusableEmulator is a handler for a platform that cannot serve RUN steps, and why. */
export interface UnusableEmulator extends EmulatedPlatform {
  readonly reason: 'disabled' | 'no-fix-binary';
}

/** RunnablePlatforms says which platforms RUN steps can run for on this machine. */
export interface RunnablePlatforms {
  readonly native: readonly Platform[];
  readonly emulated: readonly EmulatedPlatform[];
  readonly unusable: readonly UnusableEmulator[];
  /** binfmt_misc's state: not mounted, mounted but switched off, or on. */
  readonly binfmt: 'not-mounted' | 'disabled' | 'enabled';
}

/** DetectOptions point detection at other files (tests). */
export interface DetectOptions {
  readonly binfmtDir?: string;
  readonly cpuinfo?: string;
  /** A file that exists when the kernel runs 32-bit x86 code (the vsyscall32 setting comes with IA32 emulation). */
  readonly ia32Marker?: string;
}

/** x86-64 micro-architecture levels by the CPU flags /proc/cpuinfo lists, as Go's GOAMD64 levels define them. */
const AMD64_LEVELS: readonly (readonly [string, readonly string[]])[] = [
  ['v2', ['cx16', 'lahf_lm', 'popcnt', 'sse4_1', 'sse4_2', 'ssse3']],
  ['v3', ['avx', 'avx2', 'bmi1', 'bmi2', 'f16c', 'fma', 'abm', 'movbe', 'xsave']],
  ['v4', ['avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl']],
];

/** amd64Levels lists the levels above v1 a CPU has, from the flags line of /proc/cpuinfo. */
export function amd64Levels(cpuinfo: string): string[] {
  const line = cpuinfo.split('\n').find((l) => l.startsWith('flags'));
  const flags = new Set((line?.slice(line.indexOf(':') + 1) ?? '').trim().split(/\s+/));
  const levels: string[] = [];
  for (const [level, needed] of AMD64_LEVELS) {
    if (!needed.every((f) => flags.has(f))) break;
    levels.push(level);
  }
  return levels;
}

async function nativePlatforms(options: DetectOptions): Promise<Platform[]> {
  const host = hostPlatform();
  if (host.architecture !== 'amd64') return [host];
  const out = [host, ...amd64Levels((await readTextIfExists(options.cpuinfo ?? '/proc/cpuinfo')) ?? '').map((variant) => ({ ...host, variant }))];
  if (await pathExists(options.ia32Marker ?? '/proc/sys/abi/vsyscall32')) out.push({ os: 'linux', architecture: '386' });
  return out;
}

/** detectRunnablePlatforms reads what this machine runs natively and what its binfmt_misc handlers emulate. */
export async function detectRunnablePlatforms(options: DetectOptions = {}): Promise<RunnablePlatforms> {
  const native = await nativePlatforms(options);
  const state = await readBinfmtState(options.binfmtDir ?? BINFMT_MISC_DIR);
  const emulated: EmulatedPlatform[] = [];
  const unusable: UnusableEmulator[] = [];
  for (const handler of state.handlers) {
    for (const platform of handlerPlatforms(handler)) {
      if (native.some((p) => platformRank(p, platform) !== undefined)) continue;
      const entry = { platform, handler: handler.name, interpreter: handler.interpreter };
      if (!handler.enabled || !state.enabled) unusable.push({ ...entry, reason: 'disabled' });
      else if (!handler.flags.includes('F')) unusable.push({ ...entry, reason: 'no-fix-binary' });
      else if (!emulated.some((e) => formatPlatform(e.platform) === formatPlatform(platform))) emulated.push(entry);
    }
  }
  return { native, emulated, unusable, binfmt: !state.mounted ? 'not-mounted' : state.enabled ? 'enabled' : 'disabled' };
}

/** runnerOf tells how a platform's steps run here: natively, by an emulator, or not at all (undefined). */
export function runnerOf(runnable: RunnablePlatforms, platform: Platform): 'native' | EmulatedPlatform | undefined {
  const wanted = normalizePlatform(platform);
  if (runnable.native.some((p) => platformRank(p, wanted) !== undefined)) return 'native';
  // An emulator runs its own architecture only: qemu-aarch64 takes no 32-bit arm code, though an arm64 CPU may.
  return runnable.emulated.find((e) => e.platform.architecture === wanted.architecture && platformRank(e.platform, wanted) !== undefined);
}
