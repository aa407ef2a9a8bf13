import { ConfigError } from '../base/errors.js';
import { join } from 'node:path';
import type { Executor, OverlayDecision, OverlaySetting } from '../executor/index.js';
import { readSettingsTable } from '../registry/index.js';
import { overlayProbeMemoOf } from './executor-choice.js';

/** Every overlay setting, each once: the type check fails when OverlaySetting gains a value this does not name. */
const OVERLAY_VALUES = { auto: true, kernel: true, fuse: true } satisfies Record<OverlaySetting, true>;

function isOverlaySetting(value: unknown): value is OverlaySetting {
  return typeof value === 'string' && Object.hasOwn(OVERLAY_VALUES, value);
}

/**
 * overlaySettingFor reads what mounts snapshots from the settings file's `[store]` table:
 *
 *   [store]
 *   overlay = "auto"     # default: the kernel's overlayfs when a trial mount works, else fuse-overlayfs
 *   # overlay = "kernel" | "fuse"
 */
export async function overlaySettingFor(configPath: string | undefined): Promise<OverlaySetting> {
  const table = await readSettingsTable(configPath, 'store', ['overlay']);
  const value = table?.entries.get('overlay');
  if (value === undefined || table === undefined) return 'auto';
  if (!isOverlaySetting(value)) throw new ConfigError(`${table.where('overlay')} must be one of ${Object.keys(OVERLAY_VALUES).map((v) => `"${v}"`).join(', ')}`);
  return value;
}

/** withOverlaySetting gives every run of an executor a build's overlay setting. */
export function withOverlaySetting(executor: () => Promise<Executor>, overlay: OverlaySetting): () => Promise<Executor> {
  return async () => {
    const inner = await executor();
    return { run: (request, options) => inner.run({ ...request, overlay }, options), expect: (network) => inner.expect?.(network) };
  };
}

/**
 * overlayDriverOf is the overlay driver builds of the store at `root` use with the settings file's `[store] overlay`,
 * and why (`tbuild info`): decided as the executor decides it, with the trial mount in the store's exec folder.
 */
export async function overlayDriverOf(root: string, configPath: string | undefined): Promise<OverlayDecision> {
  const setting = await overlaySettingFor(configPath);
  const { detectOverlayDriver } = await import('../executor/index.js');
  return detectOverlayDriver(setting, { probeDir: join(root, 'tmp', 'exec'), probeMemo: overlayProbeMemoOf(root) });
}
