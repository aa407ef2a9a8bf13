import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../cli/command-table.js';
import { REPO_ROOT, runTbuild } from '../helpers/cli.js';

let root = '';
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tbuild-cli-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('tbuild commands', () => {
  it('takes global options before or after the command', async () => {
    const before = await runTbuild(['--root', root, 'images']);
    const after = await runTbuild(['images', '--root', root]);
    expect([before.code, before.stderr]).toEqual([0, '']);
    expect(before.stdout).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID/);
    expect(after).toEqual(before);
  });

  it('refuses unknown options and arguments of every command with exit 2', async () => {
    for (const args of [['images', '--bogus'], ['du', '--bogus'], ['prune', '--bogus'], ['info', '--bogus'], ['du', 'extra'], ['--root', root, 'binfmt', '--bogus']]) {
      const res = await runTbuild(args);
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr, args.join(' ')).toMatch(/^ERROR: Cannot run tbuild \w+: (unknown option "--bogus"|unexpected argument "extra")\nhint: /);
      expect(res.stderr).not.toContain('internal error');
    }
  });

  it('answers --help for every command and lists each option of its table', async () => {
    for (const [name, spec] of Object.entries(COMMANDS)) {
      const res = await runTbuild([name, '--help']);
      expect(res.code, name).toBe(0);
      expect(res.stdout, name).toMatch(/^Usage: tbuild /);
      for (const flag of Object.keys(spec.options)) if (flag !== 'help' && flag !== 'debug') expect(res.stdout, `${name} --${flag}`).toContain(`--${flag}`);
      for (const [sub, s] of Object.entries(spec.subcommands ?? {})) {
        const subHelp = await runTbuild([name, sub, '--help']);
        expect(subHelp.code, `${name} ${sub}`).toBe(0);
        for (const flag of Object.keys(s.options)) if (flag !== 'debug') expect(subHelp.stdout, `${name} ${sub} --${flag}`).toContain(`--${flag}`);
      }
    }
  });

  it('prunes without asking off a terminal and with correct plurals', async () => {
    const res = await runTbuild(['prune', '--root', root, '-f']);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe('Deleted 0 cache records, 0 snapshots, 0 blobs\nTotal:\t0B\n');
  });

  it('asks on a terminal before pruning, and --force does not ask', async () => {
    const script = (args: string) => `printf 'n\\n' | script -qec "${process.execPath} ${join(process.cwd(), 'bin/tbuild.js')} prune --root ${root} ${args}" /dev/null`;
    const asked = await promisify(execFile)('sh', ['-c', script('')]).catch((err: { stdout: string; code: number }) => err);
    expect(asked.stdout).toContain('WARNING! This will remove all build cache not in use.');
    expect(asked.stdout).toContain('Build cache prune cancelled');
    const forced = await promisify(execFile)('sh', ['-c', script('--force')]);
    expect(forced.stdout).not.toContain('WARNING!');
    expect(forced.stdout).toContain('Deleted 0 cache records');
  });

  it('prints a bash completion script whose compgen gives the commands and options', async () => {
    const res = await runTbuild(['completion', 'bash']);
    expect(res.code).toBe(0);
    // The script is sourced from the environment, then _tbuild runs on COMP_WORDS as bash's complete -F would.
    const withScript = async (line: string): Promise<string[]> => {
      const words = line.split(' ');
      const probe = `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _tbuild; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const { stdout } = await promisify(execFile)('bash', ['-c', `eval "$TBUILD_COMPLETION"; ${probe}`], { env: { ...process.env, TBUILD_COMPLETION: res.stdout } });
      return stdout.split('\n').filter((l) => l !== '');
    };
    expect(await withScript('tbuild im')).toEqual(['images', 'imagetools']);
    expect(await withScript('tbuild --root /x pr')).toEqual(['prune']);
    // The value of a global option before the command is a path, not a command.
    expect((await withScript(`tbuild --root ${REPO_ROOT}/packag`)).sort()).toEqual([`${REPO_ROOT}/package-lock.json`, `${REPO_ROOT}/package.json`]);
    expect(await withScript('tbuild prune --f')).toEqual(['--filter', '--force']);
    expect(await withScript('tbuild build --no-cache')).toEqual(['--no-cache', '--no-cache-filter']);
    expect(await withScript('tbuild imagetools ')).toEqual(['create', 'inspect']);
    expect(await withScript('tbuild imagetools inspect --r')).toEqual(['--raw']);
    expect(await withScript('tbuild completion ')).toEqual(['bash', 'zsh', 'fish']);
  });
});
