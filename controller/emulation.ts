/**
 * Emulation: the platforms this machine can build (its own and those a binfmt_misc emulator runs), the check a build
 * makes before any step runs, and the registration of QEMU's emulators (`tbuild binfmt`).
 */
import { ConfigError } from '../base/errors.js';
import { formatPlatform, hostPlatform, type Platform } from '../base/oci.js';
import { normalizePlatform, samePlatform } from '../base/platform.js';
import type { BinfmtChange, BinfmtPaths, DetectOptions, RunnablePlatforms } from '../executor/index.js';
import { walkVertices, type Vertex } from '../solver/graph/index.js';

export type { BinfmtChange, RunnablePlatforms } from '../executor/index.js';

// The executor (sandbox, runtime spec, binfmt_misc) loads on the first look at the machine's platforms, not with the
// controller: a build whose steps are all for this machine's platform, or all cached, never needs it.
const executor = (): Promise<typeof import('../executor/index.js')> => import('../executor/index.js');

/** installEmulators registers QEMU's emulators for the architectures with binfmt_misc (`tbuild binfmt --install`). */
export async function installEmulators(architectures: readonly string[], paths: BinfmtPaths = {}): Promise<BinfmtChange[]> {
  return (await executor()).installEmulators(architectures, paths);
}

/** uninstallEmulators removes the binfmt_misc handlers of the architectures (`tbuild binfmt --uninstall`). */
export async function uninstallEmulators(architectures: readonly string[], paths: BinfmtPaths = {}): Promise<BinfmtChange[]> {
  return (await executor()).uninstallEmulators(architectures, paths);
}

/** buildablePlatforms detects what RUN steps can run for here, as BuildKit lists a worker's platforms. */
export async function buildablePlatforms(options: DetectOptions = {}): Promise<RunnablePlatforms> {
  return (await executor()).detectRunnablePlatforms(options);
}

/** workerPlatforms lists the platforms RUN steps can run for here, native first, as BuildKit's worker platforms. */
export async function workerPlatforms(options: DetectOptions = {}): Promise<Platform[]> {
  const runnable = await buildablePlatforms(options);
  return [...runnable.native, ...runnable.emulated.map((e) => e.platform)];
}

/** platformNames names the platforms a machine builds, native first: `linux/amd64`, `linux/386`, `linux/arm64`, … */
export function platformNames(runnable: RunnablePlatforms): string[] {
  return [...runnable.native, ...runnable.emulated.map((e) => e.platform)].map(formatPlatform);
}

/** platformList renders the platforms a machine builds as one line, e.g. `linux/amd64, linux/386, linux/arm64`. */
export function platformList(runnable: RunnablePlatforms): string {
  return platformNames(runnable).join(', ');
}

/** unrunnable explains why a platform's steps cannot run here, with the fix when there is one. */
function unrunnable(runnable: RunnablePlatforms, platform: Platform, step: string): ConfigError {
  const name = formatPlatform(platform);
  const supported = `this machine runs ${platformList(runnable)}`;
  if (platform.os !== 'linux') return new ConfigError(`Cannot run "${step}" for ${name}: ${supported}`);
  if (runnable.native.some((p) => p.architecture === platform.architecture)) {
    // amd64/v4 on a CPU without AVX-512: no emulator helps, as BuildKit says.
    return new ConfigError(`Cannot run "${step}" for ${name}: no support for running processes with ${name} platform, supported: ${platformList(runnable)}`);
  }
  const install = `tbuild binfmt --install ${platform.architecture}`;
  const unusable = runnable.unusable.find((u) => u.platform.architecture === platform.architecture);
  if (unusable !== undefined) {
    const why = unusable.reason === 'disabled' ? 'is disabled' : 'has no F flag, so its interpreter is not found inside the sandbox';
    return new ConfigError(`Cannot run "${step}" for ${name}: the binfmt_misc handler "${unusable.handler}" ${why}`, {
      hint: `re-register it: tbuild binfmt --uninstall ${platform.architecture} && ${install}`,
    });
  }
  const where = runnable.binfmt === 'not-mounted' ? 'binfmt_misc is not mounted' : `no emulator for ${platform.architecture} is registered with binfmt_misc`;
  return new ConfigError(`Cannot run "${step}" for ${name}: ${where} (${supported})`, {
    hint: `register QEMU's emulator (Debian's qemu-user-static): ${install}`,
  });
}

/**
 * checkStepPlatforms fails a build before any step runs when one of its RUN steps is for a platform this machine
 * can neither run nor emulate, naming the platform and the fix.
 */
export async function checkStepPlatforms(root: Vertex, options: DetectOptions = {}): Promise<void> {
  const steps = new Map<string, { platform: Platform; name: string }>();
  for (const v of walkVertices([root])) {
    if (v.op.kind !== 'exec') continue;
    const platform = normalizePlatform(v.op.platform);
    const key = formatPlatform(platform);
    if (!steps.has(key)) steps.set(key, { platform, name: v.metadata.name });
  }
  // The common case, every step for this machine's own platform, needs no look at the CPU or binfmt_misc.
  if ([...steps.values()].every((s) => samePlatform(s.platform, hostPlatform()))) return;
  const { detectRunnablePlatforms, runnerOf } = await executor();
  const runnable = await detectRunnablePlatforms(options);
  for (const { platform, name } of steps.values()) {
    if (runnerOf(runnable, platform) === undefined) throw unrunnable(runnable, platform, name);
  }
}
