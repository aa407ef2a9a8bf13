import koffi from 'koffi';
import { constants } from 'node:os';

/**
 * nativeFallback binds the few system calls the layer tests need, for use only when native/index.ts cannot load
 * (koffi 3.3 does not know the `ssize_t` type name used there).
 */
export function nativeFallback(): Record<string, unknown> {
  const libc = koffi.load('libc.so.6');
  const errnoLocation = libc.func('int *__errno_location(void)');
  const cMknod = libc.func('int mknod(const char *path, uint32_t mode, uint64_t dev)');
  const cSet = libc.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)');
  const cGet = libc.func('intptr_t lgetxattr(const char *path, const char *name, _Out_ void *value, size_t size)');
  const cList = libc.func('intptr_t llistxattr(const char *path, _Out_ void *list, size_t size)');
  const errno = (): number => koffi.decode(errnoLocation(), 'int') as number;
  const fail = (call: string, path: string): never => {
    throw new Error(`${call} "${path}" failed: errno ${errno()}`);
  };
  return {
    S_IFCHR: 0o020000,
    makedev: (major: number, minor: number): number => ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12),
    mknod: (path: string, mode: number, dev: number): void => {
      if (cMknod(path, mode, dev) !== 0) fail('mknod', path);
    },
    lsetxattr: (path: string, name: string, value: Uint8Array): void => {
      if (cSet(path, name, value, value.length, 0) !== 0) fail('lsetxattr', path);
    },
    lgetxattr: (path: string, name: string): Buffer | undefined => {
      const buf = Buffer.alloc(65536);
      const n = Number(cGet(path, name, buf, buf.length));
      if (n >= 0) return buf.subarray(0, n);
      const e = errno();
      if (e === constants.errno.ENODATA || e === constants.errno.ENOTSUP) return undefined;
      return fail('lgetxattr', path);
    },
    llistxattr: (path: string): string[] => {
      const buf = Buffer.alloc(65536);
      const n = Number(cList(path, buf, buf.length));
      if (n < 0) return errno() === constants.errno.ENOTSUP ? [] : fail('llistxattr', path);
      return buf.subarray(0, n).toString('utf8').split('\0').filter((s) => s.length > 0);
    },
  };
}
