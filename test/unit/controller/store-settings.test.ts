import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../base/errors.js';
import { overlaySettingFor } from '../../../controller/store-settings.js';
import { makeTempDir } from '../../helpers/cli.js';

describe('[store] overlay of the settings file', () => {
  it('is auto without a file or a value, takes each driver by name, and refuses anything else naming the file and line', async () => {
    await using tmp = await makeTempDir();
    const file = join(tmp.path, 'tbuild.toml');
    expect(await overlaySettingFor(undefined)).toBe('auto');
    await writeFile(file, '[gc]\nkeep-storage = "1GB"\n');
    expect(await overlaySettingFor(file)).toBe('auto');
    for (const value of ['auto', 'kernel', 'fuse']) {
      await writeFile(file, `[store]\noverlay = "${value}"\n`);
      expect(await overlaySettingFor(file)).toBe(value);
    }
    await writeFile(file, '# the drivers\n[store]\noverlay = "native"\n');
    const err: unknown = await overlaySettingFor(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(String(err)).toContain('must be one of "auto", "kernel", "fuse"');
    expect(String(err)).toContain(file);
  });
});
