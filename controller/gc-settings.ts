import { ConfigError, UsageError } from '../base/errors.js';
import { parseDuration, parseSize } from '../base/units.js';
import { readSettingsTable } from '../registry/index.js';
import { defaultGcPolicy, type GcPolicy } from './auto-gc.js';

/**
 * gcPolicyFor is the automatic collection policy of a store: the defaults (a tenth of the filesystem, at least 2 GiB;
 * nothing unused for 60 days), changed by the settings file's `[gc]` table. undefined means `enabled = false`.
 *
 *   [gc]
 *   enabled = true            # collect after builds (default)
 *   keep-storage = "20GB"     # or a number of bytes
 *   keep-duration = "720h"    # Go-style duration
 */
export async function gcPolicyFor(root: string, configPath: string | undefined): Promise<GcPolicy | undefined> {
  const defaults = await defaultGcPolicy(root);
  const table = await readSettingsTable(configPath, 'gc', ['enabled', 'keep-storage', 'keep-duration']);
  if (table === undefined) return defaults;
  const { entries, where } = table;
  const enabled = entries.get('enabled') ?? true;
  if (typeof enabled !== 'boolean') throw new ConfigError(`${where('enabled')} must be true or false`);
  if (!enabled) return undefined;
  return {
    keepBytes: numberSetting(entries.get('keep-storage'), (v) => (typeof v === 'number' ? v : parseSize(v)), where('keep-storage')) ?? defaults.keepBytes,
    keepDurationMs: numberSetting(entries.get('keep-duration'), (v) => (typeof v === 'number' ? Number.NaN : parseDuration(v)), where('keep-duration')) ?? defaults.keepDurationMs,
  };
}

/** numberSetting reads a count, size or duration of a settings table; `shape` says what is expected when it is not one. */
export function numberSetting(
  value: unknown,
  read: (v: string | number) => number,
  where: string,
  shape = 'a size such as "20GB" (keep-storage) or a duration such as "720h" (keep-duration)',
): number | undefined {
  if (value === undefined) return undefined;
  let n = Number.NaN;
  if (typeof value === 'string' || typeof value === 'number') {
    try {
      n = read(value);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
    }
  }
  if (!Number.isSafeInteger(n) || n < 0) throw new ConfigError(`${where} must be ${shape}`);
  return n;
}
