import { ConfigError, UsageError } from '../base/errors.js';
import { parseDuration } from '../base/units.js';
import { readSettingsTable } from '../registry/index.js';
import { DEFAULT_TAG_POLICY, type TagPolicy } from '../solver/ops/index.js';

/**
 * tagPolicyFor is when a build checks stored tag resolutions again: the defaults (after an hour; waiting at most
 * 3 s for the registry), changed by the settings file's `[resolve]` table.
 *
 *   [resolve]
 *   tag-ttl = "24h"         # Go-style duration; "0" checks on every build
 *   check-timeout = "10s"   # how long a check may wait for the registry
 */
export async function tagPolicyFor(configPath: string | undefined): Promise<TagPolicy> {
  const table = await readSettingsTable(configPath, 'resolve', ['tag-ttl', 'check-timeout']);
  if (table === undefined) return DEFAULT_TAG_POLICY;
  const { entries, where } = table;
  const ttl = duration(entries.get('tag-ttl'), where('tag-ttl'), { zero: true });
  const timeout = duration(entries.get('check-timeout'), where('check-timeout'), { zero: false });
  return { ttlMs: ttl ?? DEFAULT_TAG_POLICY.ttlMs, checkTimeoutMs: timeout ?? DEFAULT_TAG_POLICY.checkTimeoutMs };
}

function duration(value: unknown, where: string, o: { zero: boolean }): number | undefined {
  if (value === undefined) return undefined;
  let ms = Number.NaN;
  if (typeof value === 'string') {
    try {
      ms = value === '0' ? 0 : parseDuration(value);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
    }
  }
  if (!Number.isFinite(ms) || ms < 0 || (!o.zero && ms === 0)) {
    const got = typeof value === 'string' ? `"${value}"` : String(value);
    throw new ConfigError(`${where} must be a duration such as "24h", "90m" or "30s"${o.zero ? ' ("0": check on every build)' : ' above 0'}, not ${got}`);
  }
  return ms;
}
