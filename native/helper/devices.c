/* /dev of the container: the device nodes every container gets, and its standard links. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sandbox.h"

/* The devices every container gets in /dev: made with mknod, or bound from the host's in a user namespace. */
static const struct { const char *name; unsigned major, minor; } devs[] = {
  {"/dev/null", 1, 3}, {"/dev/zero", 1, 5}, {"/dev/full", 1, 7},
  {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};
#define NDEVS (sizeof(devs) / sizeof(devs[0]))
/* In a user namespace (rootless) mknod of a device is refused: the host's nodes, opened before pivot_root, are bound. */
static int dev_trees[NDEVS] = {-1, -1, -1, -1, -1, -1};

int read_small_file(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "re");
  if (f == NULL) return -1;
  size_t n = fread(buf, 1, size - 1, f);
  fclose(f);
  buf[n] = '\0';
  return 0;
}

int in_user_namespace(void) {
  char map[128];
  if (read_small_file("/proc/self/uid_map", map, sizeof(map)) != 0) return 0;
  unsigned long inside = 1, outside = 1, count = 0;
  int lines = 0;
  for (const char *c = map; *c; c++) lines += *c == '\n';
  if (sscanf(map, "%lu %lu %lu", &inside, &outside, &count) != 3) return 1;
  return !(lines == 1 && inside == 0 && outside == 0 && count == 4294967295UL);
}

int open_device_trees(char *err) {
  for (size_t i = 0; i < NDEVS; i++) {
    dev_trees[i] = (int)syscall(SYS_open_tree, AT_FDCWD, devs[i].name, OPEN_TREE_CLONE | O_CLOEXEC);
    if (dev_trees[i] < 0) return fail_path(err, "open host device", devs[i].name);
  }
  return 0;
}

static int make_device(size_t i, char *err) {
  if (dev_trees[i] < 0) {
    if (mknod(devs[i].name, S_IFCHR | 0666, makedev(devs[i].major, devs[i].minor)) != 0 && errno != EEXIST) return fail_path(err, "mknod", devs[i].name);
    return 0;
  }
  int fd = open(devs[i].name, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0666);
  if (fd < 0) return fail_path(err, "create device mount point", devs[i].name);
  close(fd);
  if (syscall(SYS_move_mount, dev_trees[i], "", AT_FDCWD, devs[i].name, MOVE_MOUNT_F_EMPTY_PATH) != 0)
    return fail_path(err, "bind host device", devs[i].name);
  close(dev_trees[i]);
  dev_trees[i] = -1;
  return 0;
}

int make_devices(char *err) {
  static const char *const links[][2] = {
    {"/proc/self/fd", "/dev/fd"}, {"/proc/self/fd/0", "/dev/stdin"}, {"/proc/self/fd/1", "/dev/stdout"},
    {"/proc/self/fd/2", "/dev/stderr"}, {"pts/ptmx", "/dev/ptmx"},
  };
  mode_t old = umask(0);
  for (size_t i = 0; i < NDEVS; i++) {
    if (make_device(i, err) != 0) {
      umask(old);
      return -1;
    }
  }
  umask(old);
  for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
    if (symlink(links[i][0], links[i][1]) != 0 && errno != EEXIST) return fail_path(err, "symlink", links[i][1]);
  return 0;
}
