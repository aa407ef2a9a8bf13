import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, UsageError } from '../../../base/errors.js';
import { processSandboxFor } from '../../../controller/executor-choice.js';
import { makeTempDir } from '../../helpers/cli.js';

// These tests run as root (not rootless): a mode without a process sandbox is refused there, as BuildKit refuses it.
describe('process sandbox choice', () => {
  it('keeps the process sandbox by default, and when the settings file keeps it', async () => {
    await using tmp = await makeTempDir();
    expect(await processSandboxFor(undefined, undefined, undefined)).toBe(true);
    const file = join(tmp.path, 'keep.toml');
    await writeFile(file, '[executor]\nprocess-sandbox = true\n');
    expect(await processSandboxFor(file, undefined, undefined)).toBe(true);
    const other = join(tmp.path, 'other.toml');
    await writeFile(other, '[gc]\nenabled = true\n');
    expect(await processSandboxFor(other, undefined, 'runc')).toBe(true);
  });

  it('refuses to run without a process sandbox as root, naming the flag or the setting that asked', async () => {
    await using tmp = await makeTempDir();
    const flag = processSandboxFor(undefined, false, undefined);
    await expect(flag).rejects.toBeInstanceOf(UsageError);
    await expect(flag).rejects.toThrow('Cannot use --no-process-sandbox: tbuild runs as root, where RUN steps could signal any process of the host');
    const file = join(tmp.path, 'off.toml');
    await writeFile(file, '[executor]\nprocess-sandbox = false\n');
    await expect(processSandboxFor(file, undefined, undefined)).rejects.toThrow('Cannot use [executor] process-sandbox = false: tbuild runs as root');
    // The flag wins over the file either way.
    expect(await processSandboxFor(file, true, undefined)).toBe(true);
    await expect(processSandboxFor(undefined, false, 'crun')).rejects.toThrow("Cannot use --no-process-sandbox with --oci-runtime crun: only tbuild's own sandbox");
  });

  it('names the file and the setting when a value or a key is wrong', async () => {
    await using tmp = await makeTempDir();
    const file = join(tmp.path, 'bad.toml');
    await writeFile(file, '[executor]\nprocess-sandbox = "no"\n');
    const wrong = processSandboxFor(file, undefined, undefined);
    await expect(wrong).rejects.toBeInstanceOf(ConfigError);
    await expect(wrong).rejects.toThrow(`Cannot load config "${file}": [executor] process-sandbox must be true or false`);
    const unknown = join(tmp.path, 'unknown.toml');
    await writeFile(unknown, '[executor]\nsandbox = false\n');
    await expect(processSandboxFor(unknown, undefined, undefined)).rejects.toThrow('[executor] sandbox is not a setting (process-sandbox)');
  });
});
