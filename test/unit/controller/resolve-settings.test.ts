import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../base/errors.js';
import { tagPolicyFor } from '../../../controller/resolve-settings.js';
import { DEFAULT_TAG_POLICY } from '../../../solver/ops/index.js';
import { makeTempDir } from '../../helpers/cli.js';

describe('base tag check settings', () => {
  it('reads [resolve] tag-ttl and check-timeout, keeping defaults for what is not set', async () => {
    await using tmp = await makeTempDir();
    const file = join(tmp.path, 'tbuild.toml');
    expect(DEFAULT_TAG_POLICY).toEqual({ ttlMs: 3_600_000, checkTimeoutMs: 3000 });
    await writeFile(file, '[resolve]\ntag-ttl = "24h"\ncheck-timeout = "10s"\n');
    expect(await tagPolicyFor(file)).toEqual({ ttlMs: 24 * 3_600_000, checkTimeoutMs: 10_000 });
    await writeFile(file, '[resolve]\ntag-ttl = "0"\n');
    expect(await tagPolicyFor(file)).toEqual({ ttlMs: 0, checkTimeoutMs: 3000 });
    await writeFile(file, '[resolve]\ntag-ttl = "1h30m"\n');
    expect((await tagPolicyFor(file)).ttlMs).toBe(90 * 60_000);
    await writeFile(file, '[registry."docker.io"]\nmirrors = ["127.0.0.1:5000"]\n');
    expect(await tagPolicyFor(file)).toEqual(DEFAULT_TAG_POLICY);
  });

  it('names the file and the setting when a value is wrong', async () => {
    await using tmp = await makeTempDir();
    const file = join(tmp.path, 'tbuild.toml');
    const cases: readonly [string, RegExp][] = [
      ['[resolve]\ntag-ttl = "soon"\n', /\[resolve\] tag-ttl must be a duration such as "24h".*not "soon"/],
      ['[resolve]\ntag-ttl = 3600\n', /\[resolve\] tag-ttl must be a duration .*not 3600/],
      ['[resolve]\ntag-ttl = "-1h"\n', /\[resolve\] tag-ttl must be a duration/],
      ['[resolve]\ncheck-timeout = "0s"\n', /\[resolve\] check-timeout must be a duration such as .* above 0, not "0s"/],
      ['[resolve]\ntagttl = "1h"\n', /\[resolve\] tagttl is not a setting \(tag-ttl, check-timeout\)/],
      ['resolve = "1h"\n', /\[resolve\] must be a table/],
    ];
    for (const [text, message] of cases) {
      await writeFile(file, text);
      const err = await tagPolicyFor(file).catch((e: unknown) => e);
      expect(err, text).toBeInstanceOf(ConfigError);
      expect(err, text).toMatchObject({ message: expect.stringMatching(message) });
      expect(err, text).toMatchObject({ message: expect.stringContaining(`Cannot load config "${file}"`) });
    }
  });
});
