import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultSettingsFile, dockerConfigDir, settingsFileOf } from '../../../cli/command-io.js';
import { makeTempDir } from '../../helpers/cli.js';

describe("the caller's settings file and Docker config, as the CLI hands them to the controller", () => {
  it('picks the default settings file by user and environment', () => {
    const expected = process.getuid?.() === 0 ? '/etc/tbuild/tbuild.toml' : '/xdg/tbuild/tbuild.toml';
    expect(defaultSettingsFile({ XDG_CONFIG_HOME: '/xdg', HOME: '/home/u' })).toBe(expected);
    if (process.getuid?.() !== 0) expect(defaultSettingsFile({ HOME: '/home/u' })).toBe('/home/u/.config/tbuild/tbuild.toml');
  });

  it('gives --config as it is, the default file only when it exists, and none otherwise', async () => {
    await using tmp = await makeTempDir();
    expect(await settingsFileOf({}, '/given/tbuild.toml')).toBe('/given/tbuild.toml');
    if (process.getuid?.() === 0) {
      // As root the default is /etc/tbuild/tbuild.toml, which the environment does not move.
      expect(await settingsFileOf({ XDG_CONFIG_HOME: tmp.path }, undefined)).toBe(existsSync('/etc/tbuild/tbuild.toml') ? '/etc/tbuild/tbuild.toml' : undefined);
      return;
    }
    const env = { XDG_CONFIG_HOME: tmp.path };
    expect(await settingsFileOf(env, undefined)).toBeUndefined();
    await mkdir(join(tmp.path, 'tbuild'));
    await writeFile(join(tmp.path, 'tbuild', 'tbuild.toml'), '[gc]\nenabled = false\n');
    expect(await settingsFileOf(env, undefined)).toBe(join(tmp.path, 'tbuild', 'tbuild.toml'));
  });

  it('reads the Docker config folder from DOCKER_CONFIG, else HOME', () => {
    expect(dockerConfigDir({ DOCKER_CONFIG: '/cfg', HOME: '/home/u' })).toBe('/cfg');
    expect(dockerConfigDir({ HOME: '/home/u' })).toBe('/home/u/.docker');
  });
});
