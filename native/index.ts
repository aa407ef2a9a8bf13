/** native exposes the Linux system calls tbuild needs, through koffi. */
export {
  mount,
  umount2,
  mknod,
  makedev,
  lsetxattr,
  lgetxattr,
  llistxattr,
  lremovexattr,
  pipe2,
  O_CLOEXEC,
  MOUNT_FLAGS,
  UMOUNT_FLAGS,
  S_IFCHR,
} from './linux.js';
