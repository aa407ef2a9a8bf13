import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../base/errors.js';
import { EMPTY_REGISTRY_CONFIG, hostConfigFor, loadRegistryConfig, parseRegistryConfig, readSettings } from '../../../registry/config.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tbuild-config-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('registry config', () => {
  it('reads buildkitd.toml-shaped registry tables', () => {
    const config = parseRegistryConfig(
      [
        'debug = true',
        '[registry."docker.io"]',
        'mirrors = ["127.0.0.1:5000", "mirror.example.com/prefix"]',
        '[registry."build.local:5000"]',
        'http = true',
        'insecure = true',
        'ca = ["/etc/ssl/local.pem"]',
        '',
      ].join('\n'),
      'tbuild.toml',
    );
    expect(hostConfigFor(config, 'docker.io')).toEqual({ mirrors: ['127.0.0.1:5000', 'mirror.example.com/prefix'], insecure: false, ca: [] });
    expect(hostConfigFor(config, 'build.local:5000')).toEqual({ mirrors: [], http: true, insecure: true, ca: ['/etc/ssl/local.pem'] });
    expect(hostConfigFor(config, 'quay.io')).toEqual({ mirrors: [], insecure: false, ca: [] });
  });

  it('reports malformed TOML with file, line and column', () => {
    let error: unknown;
    try {
      parseRegistryConfig('[registry."docker.io"]\nmirrors = [\n', '/etc/tbuild/tbuild.toml');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error instanceof Error ? error.message : '').toMatch(/^Cannot parse config "\/etc\/tbuild\/tbuild.toml" at line \d+, column \d+: /);
  });

  it('rejects wrongly typed settings', () => {
    expect(() => parseRegistryConfig('[registry."x"]\nmirrors = "a"\n', 'f.toml')).toThrow(
      'Cannot load config "f.toml": [registry."x"] mirrors must be an array of strings',
    );
    expect(() => parseRegistryConfig('[registry."x"]\nhttp = "yes"\n', 'f.toml')).toThrow(ConfigError);
  });

  it('loads a file and fails on an explicit missing one', async () => {
    const file = join(dir, 'tbuild.toml');
    await writeFile(file, '[registry."docker.io"]\nmirrors = ["127.0.0.1:5000"]\n');
    expect(hostConfigFor(await loadRegistryConfig(file), 'docker.io').mirrors).toEqual(['127.0.0.1:5000']);
    await expect(loadRegistryConfig(join(dir, 'missing.toml'))).rejects.toThrow(ConfigError);
  });

  it('parses a settings file once while it is unchanged, and again once it changes or goes', async () => {
    const file = join(dir, 'tbuild.toml');
    await writeFile(file, '[gc]\nenabled = true\n');
    const first = await readSettings(file);
    const again = await readSettings(file);
    expect(again?.doc).toBe(first?.doc);
    await writeFile(file, '[gc]\nenabled = false\n');
    expect((await readSettings(file))?.doc).toEqual({ gc: { enabled: false } });
    await writeFile(file, '[gc\n');
    await expect(readSettings(file)).rejects.toThrow(/Cannot parse config/);
    await rm(file);
    await expect(readSettings(file)).rejects.toThrow(/Cannot read config .*ENOENT/);
  });

  it('reads no settings when no file is given, whatever files the user has', async () => {
    expect(await loadRegistryConfig(undefined)).toBe(EMPTY_REGISTRY_CONFIG);
  });
});
