import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../base/errors.js';
import { hostConfigFor, parseRegistryConfig } from '../../../registry/config.js';
import { sharedCacheSettingsOf } from '../../../registry/shared-cache-settings.js';
import { parseSettings } from '../../../registry/config.js';

const settingsOf = (text: string): ReturnType<typeof sharedCacheSettingsOf> => sharedCacheSettingsOf(parseSettings(text, 'tbuild.toml'), 'tbuild.toml');

describe('[cache] of the settings file', () => {
  it('reads the shared repository, mode max by default, and nothing without the table', () => {
    expect(settingsOf('[gc]\nenabled = false\n')).toBeUndefined();
    expect(settingsOf('[cache]\nregistry = "reg.example:5000/tbuild-cache"\n')).toEqual({ repository: 'reg.example:5000/tbuild-cache', host: 'reg.example:5000', mode: 'max' });
    expect(settingsOf('[cache]\nregistry = "team/cache"\nmode = "min"\n')).toEqual({ repository: 'docker.io/team/cache', host: 'docker.io', mode: 'min' });
  });

  it('refuses a tag, a digest, an unknown setting, a bad mode or a bad host setting, naming it', () => {
    const refused = (text: string): string => {
      try {
        settingsOf(text);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return err instanceof Error ? err.message : '';
      }
      throw new Error(`accepted: ${text}`);
    };
    expect(refused('[cache]\nregistry = "reg:5000/c:v1"\n')).toContain('[cache] registry must name a repository without tag or digest, not "reg:5000/c:v1"');
    expect(refused(`[cache]\nregistry = "reg:5000/c@sha256:${'a'.repeat(64)}"\n`)).toContain('without tag or digest');
    expect(refused('[cache]\nregistry = "reg:5000/Upper"\n')).toContain('[cache] registry is not a repository');
    expect(refused('[cache]\nmode = "max"\n')).toContain('[cache] registry must be a repository');
    expect(refused('[cache]\nregistry = "reg:5000/c"\nmode = "all"\n')).toContain('[cache] mode must be "min" or "max"');
    expect(refused('[cache]\nregistry = "reg:5000/c"\nref = "x"\n')).toContain('[cache] ref is not a setting (registry, mode, http, insecure, ca)');
    expect(refused('[cache]\nregistry = "reg:5000/c"\ninsecure = "yes"\n')).toContain('[cache] insecure must be true or false');
    expect(refused('[cache]\nregistry = "reg:5000/c"\nca = "ca.pem"\n')).toContain('[cache] ca must be an array of strings');
    expect(refused('cache = 1\n')).toContain('[cache] must be a table');
  });

  it('gives http, insecure and ca to the cache registry host, as a [registry."host"] table', () => {
    const config = parseRegistryConfig('[registry."docker.io"]\nmirrors = ["m:5000"]\n[cache]\nregistry = "reg:5000/c"\nhttp = true\ninsecure = true\nca = ["/ca.pem"]\n', 'tbuild.toml');
    expect(hostConfigFor(config, 'reg:5000')).toEqual({ mirrors: [], http: true, insecure: true, ca: ['/ca.pem'] });
    expect(hostConfigFor(config, 'docker.io').mirrors).toEqual(['m:5000']);
    // Without host settings, [cache] leaves the registry settings as they are.
    expect(hostConfigFor(parseRegistryConfig('[cache]\nregistry = "reg:5000/c"\n', 'tbuild.toml'), 'reg:5000')).toEqual({ mirrors: [], insecure: false, ca: [] });
    expect(() => parseRegistryConfig('[registry."reg:5000"]\nhttp = true\n[cache]\nregistry = "reg:5000/c"\ninsecure = true\n', 'tbuild.toml')).toThrow(
      '[cache] http, insecure or ca set what [registry."reg:5000"] sets',
    );
  });
});
