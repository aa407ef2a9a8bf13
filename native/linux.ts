import type * as Koffi from 'koffi';
import { createRequire } from 'node:module';
import { closeSync, constants as fsConstants, openSync } from 'node:fs';
import { constants } from 'node:os';
import { InternalError, NativeError } from '../base/errors.js';

type CFunction = ReturnType<Koffi.LibraryHandle['func']>;

/** Libc is the C library functions tbuild calls, bound on first use so a cached build never loads koffi. */
interface Libc {
  readonly koffi: typeof Koffi;
  readonly errnoLocation: CFunction;
  readonly strerror: CFunction;
  readonly mount: CFunction;
  readonly umount2: CFunction;
  readonly mknod: CFunction;
  readonly lsetxattr: CFunction;
  readonly lgetxattr: CFunction;
  readonly llistxattr: CFunction;
  readonly lremovexattr: CFunction;
  readonly pipe2: CFunction;
  readonly unshare: CFunction;
  readonly setns: CFunction;
  readonly posixOpenpt: CFunction;
  readonly grantpt: CFunction;
  readonly unlockpt: CFunction;
  readonly ptsnameR: CFunction;
  readonly ioctlWinsize: CFunction;
}

let bound: Libc | undefined;

function libc(): Libc {
  if (bound !== undefined) return bound;
  const koffi = createRequire(import.meta.url)('koffi') as typeof Koffi;
  const lib = koffi.load('libc.so.6');
  bound = {
    koffi,
    errnoLocation: lib.func('int *__errno_location(void)'),
    strerror: lib.func('const char *strerror(int errnum)'),
    mount: lib.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)'),
    umount2: lib.func('int umount2(const char *target, int flags)'),
    mknod: lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
    lsetxattr: lib.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
    lgetxattr: lib.func('intptr_t lgetxattr(const char *path, const char *name, _Out_ void *value, size_t size)'),
    llistxattr: lib.func('intptr_t llistxattr(const char *path, _Out_ void *list, size_t size)'),
    lremovexattr: lib.func('int lremovexattr(const char *path, const char *name)'),
    pipe2: lib.func('int pipe2(int *fds, int flags)'),
    unshare: lib.func('int unshare(int flags)'),
    setns: lib.func('int setns(int fd, int nstype)'),
    posixOpenpt: lib.func('int posix_openpt(int flags)'),
    grantpt: lib.func('int grantpt(int fd)'),
    unlockpt: lib.func('int unlockpt(int fd)'),
    ptsnameR: lib.func('int ptsname_r(int fd, _Out_ char *buf, size_t buflen)'),
    // ioctl is variadic; TIOCSWINSZ takes one pointer, passed the same way as a fixed third argument on Linux ABIs.
    ioctlWinsize: lib.func('int ioctl(int fd, unsigned long request, const void *arg)'),
  };
  return bound;
}

// One buffer for every xattr read: these calls are synchronous, and a layer of 20,000 files would
// otherwise allocate a 64 KiB buffer per file.
const scratch = Buffer.alloc(65536);

function lastErrno(): number {
  const c = libc();
  return c.koffi.decode(c.errnoLocation(), 'int') as number;
}

function fail(syscall: string, path: string | undefined): never {
  failWith(lastErrno(), syscall, path);
}

function failWith(errno: number, syscall: string, path: string | undefined): never {
  const text = libc().strerror(errno) as string;
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
  if (libc().mount(source, target, fstype, flags, data) !== 0) fail('mount', target);
}

/** umount2 calls umount2(2). */
export function umount2(target: string, flags = 0): void {
  if (libc().umount2(target, flags) !== 0) fail('unmount', target);
}

/** mknod calls mknod(2); `dev` is makedev(major, minor). */
export function mknod(path: string, mode: number, dev: number): void {
  if (libc().mknod(path, mode, dev) !== 0) fail('mknod', path);
}

/** makedev combines a device major and minor number as glibc does. */
export function makedev(major: number, minor: number): number {
  return ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12);
}

/** S_IFCHR is the character-device file type bit for mknod. */
export const S_IFCHR = 0o020000;

/** lsetxattr sets an extended attribute without following symlinks. */
export function lsetxattr(path: string, name: string, value: Uint8Array): void {
  if (libc().lsetxattr(path, name, value, value.length, 0) !== 0) fail('setxattr', path);
}

/** lgetxattr reads an extended attribute, or undefined when it is absent. */
export function lgetxattr(path: string, name: string): Buffer | undefined {
  const buf = scratch;
  const n = Number(libc().lgetxattr(path, name, buf, buf.length));
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
  const n = Number(libc().llistxattr(path, buf, buf.length));
  if (n < 0) {
    if (lastErrno() === constants.errno.ENOTSUP) return [];
    fail('listxattr', path);
  }
  return buf.subarray(0, n).toString('utf8').split('\0').filter((s) => s.length > 0);
}

/** lremovexattr removes an extended attribute. */
export function lremovexattr(path: string, name: string): void {
  if (libc().lremovexattr(path, name) !== 0) fail('removexattr', path);
}

/** O_CLOEXEC is the close-on-exec flag of pipe2(2) and open(2). */
export const O_CLOEXEC = 0o2000000;

/** pipe2 calls pipe2(2) and returns the read and write ends. */
export function pipe2(flags: number): [read: number, write: number] {
  const fds = new Int32Array(2);
  if (libc().pipe2(fds, flags) !== 0) fail('pipe2', undefined);
  return [fds[0] ?? -1, fds[1] ?? -1];
}

const CLONE_NEWNET = 0x40000000;
const THREAD_NETNS = '/proc/thread-self/ns/net';

/**
 * openNewNetworkNamespace creates an empty network namespace and returns a close-on-exec descriptor that holds it: the
 * namespace lives until the descriptor is closed, or this process ends. `/proc/<pid>/fd/<fd>` names it for setns
 * and runtime specs. No child process is needed: the calling thread enters a new namespace, opens it and goes back
 * to its own. Nothing else runs on the thread meanwhile (the calls are synchronous), and a network namespace is per
 * thread, so the rest of the process never sees the new one.
 */
export function openNewNetworkNamespace(): number {
  const c = libc();
  const own = openSync(THREAD_NETNS, fsConstants.O_RDONLY | O_CLOEXEC);
  try {
    if (c.unshare(CLONE_NEWNET) !== 0) fail('create a network namespace', undefined);
    let fd = -1;
    let openError: unknown;
    try {
      fd = openSync(THREAD_NETNS, fsConstants.O_RDONLY | O_CLOEXEC);
    } catch (err) {
      openError = err;
    }
    if (c.setns(own, CLONE_NEWNET) !== 0) {
      throw new InternalError(`Cannot return to the process's network namespace: errno ${lastErrno()}`);
    }
    if (openError !== undefined) throw new NativeError('Cannot open the new network namespace', { syscall: 'open', errno: 0, cause: openError });
    return fd;
  } finally {
    closeSync(own);
  }
}

const O_RDWR = 2;
const O_NOCTTY = 0o400;
const TIOCSWINSZ = 0x5414;

/** Pty is a pseudo-terminal pair: the master the caller reads and writes, the slave a process gets as its terminal. */
export interface Pty {
  readonly master: number;
  readonly slave: number;
}

/**
 * openPty opens a new pseudo-terminal pair (posix_openpt, grantpt, unlockpt, then the slave by name). Both descriptors
 * are close-on-exec and never become this process's controlling terminal; the caller closes them.
 */
export function openPty(): Pty {
  const c = libc();
  const master = c.posixOpenpt(O_RDWR | O_NOCTTY | O_CLOEXEC) as number;
  if (master < 0) fail('open a pseudo-terminal', '/dev/ptmx');
  try {
    if (c.grantpt(master) !== 0) fail('grant a pseudo-terminal', undefined);
    if (c.unlockpt(master) !== 0) fail('unlock a pseudo-terminal', undefined);
    const name = Buffer.alloc(128);
    const rc = c.ptsnameR(master, name, name.length) as number;
    if (rc !== 0) failWith(rc, 'name a pseudo-terminal', undefined);
    const path = name.subarray(0, name.indexOf(0)).toString('utf8');
    return { master, slave: openSync(path, O_RDWR | O_NOCTTY | O_CLOEXEC) };
  } catch (err) {
    closeSync(master);
    throw err;
  }
}

/** setWindowSize sets a terminal's size (TIOCSWINSZ); on a pty master, the slave's foreground process gets SIGWINCH. */
export function setWindowSize(fd: number, size: { readonly columns: number; readonly rows: number }): void {
  const ws = Buffer.alloc(8);
  ws.writeUInt16LE(size.rows, 0);
  ws.writeUInt16LE(size.columns, 2);
  if (libc().ioctlWinsize(fd, TIOCSWINSZ, ws) !== 0) fail('set the terminal size', undefined);
}
