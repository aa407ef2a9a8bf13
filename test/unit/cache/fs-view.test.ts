import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLayeredView } from '../../../cache/fs-view.js';
import { lsetxattr, makedev, mknod, S_IFCHR } from '../../../native/index.js';
import { makeTempDir, type TempDir } from '../../helpers/cli.js';

describe('layered view of snapshots', () => {
  let tmp: TempDir;
  let lower: string;
  let upper: string;
  beforeEach(async () => {
    tmp = await makeTempDir();
    lower = join(tmp.path, 'lower');
    upper = join(tmp.path, 'upper');
    await mkdir(join(lower, 'etc'), { recursive: true });
    await mkdir(join(lower, 'opaque'), { recursive: true });
    await mkdir(join(lower, 'usr/bin'), { recursive: true });
    await writeFile(join(lower, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
    await writeFile(join(lower, 'etc/deleted'), 'gone');
    await writeFile(join(lower, 'opaque/old'), 'hidden');
    await writeFile(join(lower, 'usr/bin/tool'), 'tool');
    await symlink('usr/bin', join(lower, 'bin'));
    await mkdir(join(upper, 'etc'), { recursive: true });
    await mkdir(join(upper, 'opaque'), { recursive: true });
    mknod(join(upper, 'etc/deleted'), S_IFCHR, makedev(0, 0));
    lsetxattr(join(upper, 'opaque'), 'trusted.overlay.opaque', Buffer.from('y'));
    await writeFile(join(upper, 'opaque/new'), 'new');
    await writeFile(join(upper, 'etc/hostname'), 'box');
  });
  afterEach(async () => {
    await tmp[Symbol.asyncDispose]();
  });

  it('shows the upper layer over the lower one, honouring whiteouts and opaque directories', async () => {
    const view = createLayeredView([upper, lower]);
    expect([...(await view.list('/etc')).keys()].sort()).toEqual(['hostname', 'passwd']);
    expect([...(await view.list('/opaque')).keys()]).toEqual(['new']);
    expect(await view.lookup('/etc/deleted', { followLast: false })).toBeUndefined();
    expect(await view.lookup('/opaque/old', { followLast: false })).toBeUndefined();
    expect((await view.lookup('/etc/passwd', { followLast: false }))?.hostPath).toBe(join(lower, 'etc/passwd'));
  });

  it('resolves symlinks inside the tree, never on the host', async () => {
    const view = createLayeredView([upper, lower]);
    expect((await view.lookup('/bin/tool', { followLast: true }))?.hostPath).toBe(join(lower, 'usr/bin/tool'));
    expect(await view.resolvePath('/bin/new-file')).toBe('/usr/bin/new-file');
    await symlink('/../../../../etc', join(upper, 'escape'));
    expect(await view.resolvePath('/escape/passwd')).toBe('/etc/passwd');
  });
});
