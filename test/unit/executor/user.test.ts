import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LayeredTree } from '../../../native/index.js';
import { resolveUser, rootfsTree } from '../../../executor/index.js';

let dir: string;
const signal = new AbortController().signal;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tbuild-user-'));
  for (const d of ['l0/etc', 'l1/etc', 'up/etc', 'w']) await mkdir(path.join(dir, d), { recursive: true });
  await writeFile(path.join(dir, 'l0/etc/passwd'), 'root:x:0:0::/root:/bin/sh\nold:x:5:5::/:/bin/sh\n');
  await writeFile(path.join(dir, 'l1/etc/passwd'), 'root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n');
  await writeFile(path.join(dir, 'l0/etc/group'), 'root:x:0:\napp:x:1001:\nwheel:x:10:app,other\nweb:x:33:\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// A tree per resolution: the tests change the files between them.
const rootfs = (): LayeredTree =>
  rootfsTree({ lowerdirs: [path.join(dir, 'l1'), path.join(dir, 'l0')], upperdir: path.join(dir, 'up'), workdir: path.join(dir, 'w') });

describe('resolveUser', () => {
  it('resolves names, ids and groups like Docker', async () => {
    expect(await resolveUser(rootfs(), '', { signal })).toEqual({ uid: 0, gid: 0, additionalGids: [0], home: '/root' });
    expect(await resolveUser(rootfs(), 'app', { signal })).toEqual({ uid: 1000, gid: 1001, additionalGids: [1001, 10], home: '/home/app' });
    expect(await resolveUser(rootfs(), '1000', { signal })).toEqual({ uid: 1000, gid: 1001, additionalGids: [1001, 10], home: '/home/app' });
    expect(await resolveUser(rootfs(), 'app:web', { signal })).toEqual({ uid: 1000, gid: 33, additionalGids: [33], home: '/home/app' });
    expect(await resolveUser(rootfs(), '4242:7', { signal })).toEqual({ uid: 4242, gid: 7, additionalGids: [7], home: '/' });
    expect(await resolveUser(rootfs(), '4242', { signal })).toEqual({ uid: 4242, gid: 0, additionalGids: [0], home: '/' });
  });

  it('keeps the primary gid among the groups once, first unless /etc/group lists it', async () => {
    await writeFile(path.join(dir, 'up/etc/group'), 'wheel:x:10:app\nstaff:x:50:app,app\napp:x:1001:app\n');
    expect((await resolveUser(rootfs(), 'app', { signal })).additionalGids).toEqual([10, 50, 1001]);
    await writeFile(path.join(dir, 'up/etc/group'), 'wheel:x:10:app\nstaff:x:50:app,app\n');
    expect((await resolveUser(rootfs(), 'app', { signal })).additionalGids).toEqual([1001, 10, 50]);
    await rm(path.join(dir, 'up/etc/group'));
  });

  it('uses the higher layer and rejects unknown names', async () => {
    await expect(resolveUser(rootfs(), 'old', { signal })).rejects.toThrow(
      'unable to find user old: no matching entries in passwd file',
    );
    await expect(resolveUser(rootfs(), 'app:nogroup', { signal })).rejects.toMatchObject({
      code: 'EXEC_START',
      message: 'unable to find group nogroup: no matching entries in group file',
    });
  });

  it('treats a whiteout in the upperdir as deletion', async () => {
    execFileSync('mknod', [path.join(dir, 'up/etc/group'), 'c', '0', '0']);
    expect(await resolveUser(rootfs(), 'app', { signal })).toEqual({ uid: 1000, gid: 1001, additionalGids: [1001], home: '/home/app' });
    await rm(path.join(dir, 'up/etc/group'));
  });
});
