import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseIdMapping, unshareArgs } from '../../../cli/rootless-entry.js';

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

  it('runs the command as root of a new user and mount namespace', () => {
    expect(unshareArgs({ kind: 'subordinate' }, ['node', 'tbuild.js', 'build', '.'])).toEqual(['--user', '--map-auto', '--map-root-user', '--mount', '--', 'node', 'tbuild.js', 'build', '.']);
    expect(unshareArgs({ kind: 'single', reason: 'none' }, ['node'])).toEqual(['--user', '--map-root-user', '--mount', '--', 'node']);
  });
});
