import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../base/errors.js';
import { defaultGcPolicy } from '../../../controller/auto-gc.js';
import { gcPolicyFor } from '../../../controller/gc-settings.js';
import { makeTempDir } from '../../helpers/cli.js';

describe('automatic collection settings', () => {
  it('reads [gc] keep-storage and keep-duration, keeping defaults for what is not set', async () => {
    await using tmp = await makeTempDir();
    const file = join(tmp.path, 'tbuild.toml');
    const defaults = await defaultGcPolicy(tmp.path);
    await writeFile(file, '[gc]\nkeep-storage = "20GB"\nkeep-duration = "720h"\n');
    expect(await gcPolicyFor(tmp.path, file)).toEqual({ keepBytes: 20e9, keepDurationMs: 720 * 3_600_000 });
    await writeFile(file, '[gc]\nkeep-storage = 5000\n');
    expect(await gcPolicyFor(tmp.path, file)).toEqual({ keepBytes: 5000, keepDurationMs: defaults.keepDurationMs });
    await writeFile(file, '[registry."docker.io"]\nmirrors = ["127.0.0.1:5000"]\n');
    expect(await gcPolicyFor(tmp.path, file)).toEqual(defaults);
    await writeFile(file, '[gc]\nenabled = false\n');
    expect(await gcPolicyFor(tmp.path, file)).toBeUndefined();
  });

  it('names the file and the setting when a value is wrong', async () => {
    await using tmp = await makeTempDir();
    const file = join(tmp.path, 'tbuild.toml');
    await writeFile(file, '[gc]\nkeep-storage = "lots"\n');
    await expect(gcPolicyFor(tmp.path, file)).rejects.toThrow(new RegExp(`${file}.*\\[gc\\] keep-storage must be a size`));
    await writeFile(file, '[gc]\nkeep-duration = 10\n');
    await expect(gcPolicyFor(tmp.path, file)).rejects.toThrow(/\[gc\] keep-duration/);
    await writeFile(file, '[gc]\nkeepstorage = "1GB"\n');
    await expect(gcPolicyFor(tmp.path, file)).rejects.toThrow(ConfigError);
    await writeFile(file, '[gc]\nenabled = "no"\n');
    await expect(gcPolicyFor(tmp.path, file)).rejects.toThrow(/enabled must be true or false/);
  });
});
