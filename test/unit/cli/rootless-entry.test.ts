import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { splitCommandLine } from '../../../cli/command-line.js';
import { chooseIdMapping, needsNamespace, unshareArgs } from '../../../cli/rootless-entry.js';

describe('rootless entry', () => {
  it('maps the subordinate ranges only when both files grant the user some', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tbuild-subid-'));
    try {
      const files = { subuid: join(dir, 'subuid'), subgid: join(dir, 'subgid') };
      const { username } = userInfo();
      await writeFile(files.subuid, `${username}:100000:65536\n`);
      await writeFile(files.subgid, 'someone-else:100000:65536\n');
      expect(await chooseIdMapping({ PATH: process.env['PATH'] }, files)).toEqual({
        kind: 'single',
        reason: `${files.subgid} grants user "${username}" no subordinate ids`,
      });
      await writeFile(files.subgid, `${userInfo().uid}:100000:65536\n`);
      expect(await chooseIdMapping({ PATH: process.env['PATH'] }, files)).toEqual({ kind: 'subordinate' });
      expect(await chooseIdMapping({ PATH: dir }, files)).toEqual({ kind: 'single', reason: 'newuidmap is not installed (Debian: apt-get install uidmap)' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('needs no namespace for help, the version, an unknown command or the commands that touch no store', () => {
    const needs = (...argv: string[]): boolean => {
      const line = splitCommandLine(argv);
      return needsNamespace(line.command, line.args);
    };
    for (const argv of [['serve', '--help'], ['build', '-h'], ['--root', '/r', 'build', '--help', '.'], ['history', 'ls', '--help'], ['debug', 'shell', '-h'], ['--version'], ['version'], ['--help'], [], ['biuld'], ['imagetools', 'inspect', 'x'], ['login', 'r']]) {
      expect(needs(...argv), argv.join(' ')).toBe(false);
    }
    // A --help that is a value, or after --, asks for nothing.
    for (const argv of [['build', '.'], ['serve'], ['history', 'ls'], ['build', '-t', '--help', '.'], ['build', '.', '--', '--help'], ['daemon', '--socket', 's'], ['du']]) {
      expect(needs(...argv), argv.join(' ')).toBe(true);
    }
  });

  it('runs the command as root of a new user and mount namespace', () => {
    expect(unshareArgs({ kind: 'subordinate' }, ['node', 'tbuild.js', 'build', '.'])).toEqual(['--user', '--map-auto', '--map-root-user', '--mount', '--', 'node', 'tbuild.js', 'build', '.']);
    expect(unshareArgs({ kind: 'single', reason: 'none' }, ['node'])).toEqual(['--user', '--map-root-user', '--mount', '--', 'node']);
  });
});
