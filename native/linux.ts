import koffi from 'koffi';
import { constants } from 'node:os';
import { NativeError } from '../base/errors.js';

const libc = koffi.load('libc.so.6');

const errnoLocation = libc.func('int *__errno_location(void)');
const strerror = libc.func('const char *strerror(int errnum)');
const cMount = libc.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)');
const cUmount2 = libc.func('int umount2(const char *target, int flags)');
const cMknod = libc.func('int mknod(const char *path, uint32_t mode, uint64_t dev)');
const cLsetxattr = libc.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)');
const cLgetxattr = libc.func('intptr_t lgetxattr(const char *path, const char *name, _Out_ void *value, size_t size)');
const cLlistxattr = libc.func('intptr_t llistxattr(const char *path, _Out_ void *list, size_t size)');
const cLremovexattr = libc.func('int lremovexattr(const char *path, const char *name)');

// One buffer for every xattr read: these calls are synchronous, and a layer of 20,000 files would
// otherwise allocate a 64 KiB buffer per file.
const scratch = Buffer.alloc(65536);

function lastErrno(): number {
  return koffi.decode(errnoLocation(), 'int') as number;
}

function fail(syscall: string, path: string | undefined): never {
  const errno = lastErrno();
  const text = strerror(errno) as string;
  throw new NativeError(`Cannot ${syscall}${path ? ` "${path}"` : ''}: ${text}`, {
    syscall,
    errno,
    ...(path === undefined ? {} : { path }),
  });
}

/** MOUNT_FLAGS are the Linux mount(2) flags tbuild uses. */
export const MOUNT_FLAGS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  REMOUNT: 0x20,
  BIND: 0x1000,
  REC: 0x4000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
} as const;

/** UMOUNT_FLAGS are the umount2(2) flags tbuild uses. */
export const UMOUNT_FLAGS = { FORCE: 1, DETACH: 2 } as const;

/** mount calls mount(2). */
export function mount(source: string, target: string, fstype: string | null, flags: number, data: string | null): void {
  if (cMount(source, target, fstype, flags, data) !== 0) fail('mount', target);
}

/** umount2 calls umount2(2). */
export function umount2(target: string, flags = 0): void {
  if (cUmount2(target, flags) !== 0) fail('unmount', target);
}

/** mknod calls mknod(2); `dev` is makedev(major, minor). */
export function mknod(path: string, mode: number, dev: number): void {
  if (cMknod(path, mode, dev) !== 0) fail('mknod', path);
}

/** makedev combines a device major and minor number as glibc does. */
export function makedev(major: number, minor: number): number {
  return ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12);
}

/** S_IFCHR is the character-device file type bit for mknod. */
export const S_IFCHR = 0o020000;

/** lsetxattr sets an extended attribute without following symlinks. */
export function lsetxattr(path: string, name: string, value: Uint8Array): void {
  if (cLsetxattr(path, name, value, value.length, 0) !== 0) fail('setxattr', path);
}

/** lgetxattr reads an extended attribute, or undefined when it is absent. */
export function lgetxattr(path: string, name: string): Buffer | undefined {
  const buf = scratch;
  const n = Number(cLgetxattr(path, name, buf, buf.length));
  if (n < 0) {
    const errno = lastErrno();
    if (errno === constants.errno.ENODATA || errno === constants.errno.ENOTSUP) return undefined;
    fail('getxattr', path);
  }
  return Buffer.from(buf.subarray(0, n));
}

/** llistxattr lists extended attribute names without following symlinks. */
export function llistxattr(path: string): string[] {
  const buf = scratch;
  const n = Number(cLlistxattr(path, buf, buf.length));
  if (n < 0) {
    if (lastErrno() === constants.errno.ENOTSUP) return [];
    fail('listxattr', path);
  }
  return buf.subarray(0, n).toString('utf8').split('\0').filter((s) => s.length > 0);
}

/** lremovexattr removes an extended attribute. */
export function lremovexattr(path: string, name: string): void {
  if (cLremovexattr(path, name) !== 0) fail('removexattr', path);
}
