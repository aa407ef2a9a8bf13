import { ConfigError } from '../base/errors.js';
import { numberSetting } from './gc-settings.js';
import { parseDuration, parseSize } from '../base/units.js';
import type { HistoryPolicy } from '../cache/index.js';
import { readSettingsTable } from '../registry/index.js';

/** DEFAULT_HISTORY_POLICY keeps the last 50 builds of the last 48 hours, as buildkitd's [history] does, within 1 GiB. */
export const DEFAULT_HISTORY_POLICY: HistoryPolicy = { maxEntries: 50, maxAgeMs: 48 * 3600 * 1000, maxBytes: 1024 ** 3 };

/**
 * historyPolicyFor is the build history policy of a settings file's `[history]` table; undefined means
 * `enabled = false`: builds leave no record (and no context listings).
 *
 *   [history]
 *   enabled = true          # record builds (default)
 *   max-entries = 50        # records kept
 *   max-age = "48h"         # Go-style duration
 *   max-storage = "1GB"     # records and their compressed logs
 */
export async function historyPolicyFor(configPath: string | undefined): Promise<HistoryPolicy | undefined> {
  const table = await readSettingsTable(configPath, 'history', ['enabled', 'max-entries', 'max-age', 'max-storage']);
  if (table === undefined) return DEFAULT_HISTORY_POLICY;
  const { entries, where } = table;
  const enabled = entries.get('enabled') ?? true;
  if (typeof enabled !== 'boolean') throw new ConfigError(`${where('enabled')} must be true or false`);
  if (!enabled) return undefined;
  return {
    maxEntries: numberSetting(entries.get('max-entries'), (v) => (typeof v === 'number' ? v : Number.NaN), where('max-entries'), 'a number such as 50') ?? DEFAULT_HISTORY_POLICY.maxEntries,
    maxAgeMs: numberSetting(entries.get('max-age'), (v) => (typeof v === 'number' ? Number.NaN : parseDuration(v)), where('max-age'), 'a duration such as "48h"') ?? DEFAULT_HISTORY_POLICY.maxAgeMs,
    maxBytes: numberSetting(entries.get('max-storage'), (v) => (typeof v === 'number' ? v : parseSize(v)), where('max-storage'), 'a size such as "1GB"') ?? DEFAULT_HISTORY_POLICY.maxBytes,
  };
}
