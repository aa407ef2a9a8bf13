import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NativeError } from '../../../base/errors.js';
import { lgetxattr, llistxattr, lremovexattr, lsetxattr, makedev, mknod, S_IFCHR } from '../../../native/index.js';

describe('native system calls', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tbuild-native-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('sets, lists, reads and removes extended attributes without following symlinks', async () => {
    const f = join(dir, 'f');
    await writeFile(f, 'x');
    lsetxattr(f, 'trusted.overlay.opaque', Buffer.from('y'));
    expect(llistxattr(f)).toContain('trusted.overlay.opaque');
    expect(lgetxattr(f, 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect(lgetxattr(f, 'user.absent')).toBeUndefined();
    lremovexattr(f, 'trusted.overlay.opaque');
    expect(llistxattr(f)).not.toContain('trusted.overlay.opaque');
  });

  it('makes a 0/0 character device, the overlayfs whiteout', async () => {
    const wh = join(dir, 'wh');
    mknod(wh, S_IFCHR, makedev(0, 0));
    const st = await stat(wh);
    expect(st.isCharacterDevice()).toBe(true);
    expect(st.rdev).toBe(0);
  });

  it('turns errno into a NativeError naming the call and path', () => {
    let caught: unknown;
    try {
      lsetxattr(join(dir, 'missing'), 'user.x', Buffer.from('1'));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(NativeError);
    expect(caught).toMatchObject({ syscall: 'setxattr', path: join(dir, 'missing') });
    expect((caught as NativeError).message).toMatch(/No such file/);
  });
});
