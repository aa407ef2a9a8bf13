/* Root filesystem setup inside the new mount namespace: pivot_root, special filesystems, binds, masks. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sandbox.h"

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif

static int failf(char *err, const char *what, const char *path) {
  snprintf(err, ERRLEN, "%s %s: %s", what, path ? path : "", strerror(errno));
  return -1;
}

#define MAX_LINKS 40

/* next_component moves the first component of *rest into out (NUL-terminated) and advances *rest past it. */
static int next_component(const char **rest, char *out, size_t outlen) {
  while (**rest == '/') (*rest)++;
  size_t n = strcspn(*rest, "/");
  if (n == 0) return 0;
  if (n >= outlen) return errno = ENAMETOOLONG, -1;
  memcpy(out, *rest, n);
  out[n] = '\0';
  *rest += n;
  return 1;
}

/*
 * mkdir_all creates path and its missing parents with mode 0755. It runs after pivot_root, so "/" is the container's
 * root: a symlink on the way (the image's own, as /mnt -> /data) is followed component by component inside that root,
 * and what it points to is created when missing, as runc's securejoin + MkdirAll do. No link can lead out of the root.
 */
int mkdir_all(const char *path) {
  char todo[PATH_MAX], done[PATH_MAX] = "", name[NAME_MAX + 1], link[PATH_MAX], next[PATH_MAX];
  int links = 0;
  if (snprintf(todo, sizeof(todo), "%s", path) >= (int)sizeof(todo)) return errno = ENAMETOOLONG, -1;
  const char *rest = todo;
  for (;;) {
    int got = next_component(&rest, name, sizeof(name));
    if (got < 0) return -1;
    if (got == 0) return 0;
    if (strcmp(name, ".") == 0) continue;
    if (strcmp(name, "..") == 0) {
      char *slash = strrchr(done, '/');
      if (slash != NULL) *slash = '\0';
      continue;
    }
    char candidate[PATH_MAX];
    if (snprintf(candidate, sizeof(candidate), "%s/%s", done, name) >= (int)sizeof(candidate)) return errno = ENAMETOOLONG, -1;
    struct stat st;
    if (lstat(candidate, &st) != 0) {
      if (errno != ENOENT) return -1;
      if (mkdir(candidate, 0755) != 0 && errno != EEXIST) return -1;
    } else if (S_ISLNK(st.st_mode)) {
      if (++links > MAX_LINKS) return errno = ELOOP, -1;
      ssize_t len = readlink(candidate, link, sizeof(link) - 1);
      if (len < 0) return -1;
      link[len] = '\0';
      /* Continue with the link's target, then what was left; an absolute target starts again at the root. */
      if (snprintf(next, sizeof(next), "%s/%s", link, rest) >= (int)sizeof(next)) return errno = ENAMETOOLONG, -1;
      memcpy(todo, next, sizeof(todo));
      rest = todo;
      if (link[0] == '/') done[0] = '\0';
      continue;
    } else if (!S_ISDIR(st.st_mode)) {
      return errno = ENOTDIR, -1;
    }
    memcpy(done, candidate, sizeof(done));
  }
}

/* ensure_target creates a missing mount point: a directory, or an empty file for file binds. */
static int ensure_target(const char *dest, int is_file) {
  struct stat st;
  if (stat(dest, &st) == 0) return 0;
  if (!is_file) return mkdir_all(dest);
  char parent[PATH_MAX];
  snprintf(parent, sizeof(parent), "%s", dest);
  char *slash = strrchr(parent, '/');
  if (slash != NULL && slash != parent) { *slash = '\0'; if (mkdir_all(parent) != 0) return -1; }
  int fd = open(dest, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return -1;
  close(fd);
  return 0;
}

int open_bind_sources(struct sandbox_config *cfg, char *err) {
  for (size_t i = 0; i < cfg->nmounts; i++) {
    struct mount_entry *m = &cfg->mounts[i];
    if (m->stage != NULL && strcmp(m->destination, "/") != 0) {
      /* Mount on the stage directory in this private namespace, then clone (stage + subpath) like a bind source. */
      if (mount(m->type, m->stage, m->type, m->flags & ~(unsigned long)MS_RDONLY, m->data) != 0)
        return failf(err, "mount staged", m->stage);
      m->bind = 1;
      m->readonly_bind = (m->flags & MS_RDONLY) != 0;
    }
    if (!m->bind || strcmp(m->destination, "/") == 0) continue;
    unsigned flags = OPEN_TREE_CLONE | O_CLOEXEC | (m->bind == 2 ? AT_RECURSIVE : 0);
    m->tree_fd = (int)syscall(SYS_open_tree, AT_FDCWD, m->source, flags);
    if (m->tree_fd < 0) return failf(err, "open bind source", m->source);
  }
  return 0;
}

static int mount_root(struct sandbox_config *cfg, char *err) {
  for (size_t i = 0; i < cfg->nmounts; i++) {
    struct mount_entry *m = &cfg->mounts[i];
    if (strcmp(m->destination, "/") != 0) continue;
    /* The overlay is mounted here, inside the private namespace, so it vanishes with it. */
    if (m->basedir != NULL && chdir(m->basedir) != 0) return failf(err, "chdir to overlay base", m->basedir);
    int rc = m->bind ? mount(m->source, cfg->root_path, NULL, MS_BIND | (m->bind == 2 ? MS_REC : 0), NULL)
                     : mount(m->source ? m->source : m->type, cfg->root_path, m->type, m->flags, m->data);
    return rc == 0 ? 0 : failf(err, "mount rootfs on", cfg->root_path);
  }
  /* pivot_root needs a mount point: bind the prepared directory onto itself. */
  if (mount(cfg->root_path, cfg->root_path, NULL, MS_BIND | MS_REC, NULL) != 0) return failf(err, "bind rootfs", cfg->root_path);
  return 0;
}

static int pivot(const char *root, char *err) {
  if (chdir(root) != 0) return failf(err, "chdir", root);
  /* Stack the old root on top of the new one, then detach it: no put_old directory needed. */
  if (syscall(SYS_pivot_root, ".", ".") != 0) return failf(err, "pivot_root", root);
  if (umount2(".", MNT_DETACH) != 0) return failf(err, "detach old root", "/");
  if (chdir("/") != 0) return failf(err, "chdir", "/");
  return 0;
}

static int make_devices(char *err);
static unsigned long kept_flags(const char *p);

static int mount_one(struct mount_entry *m, char *err) {
  struct stat st;
  int is_file = m->bind && fstat(m->tree_fd, &st) == 0 && !S_ISDIR(st.st_mode);
  if (ensure_target(m->destination, is_file) != 0) return failf(err, "create mount point", m->destination);
  if (m->bind) {
    if (syscall(SYS_move_mount, m->tree_fd, "", AT_FDCWD, m->destination, MOVE_MOUNT_F_EMPTY_PATH) != 0)
      return failf(err, "bind mount", m->destination);
    close(m->tree_fd);
    m->tree_fd = -1;
    unsigned long flags = m->flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_RELATIME);
    if (flags != 0 && mount(NULL, m->destination, NULL, MS_BIND | MS_REMOUNT | flags, NULL) != 0)
      return failf(err, "remount bind", m->destination);
  } else if (m->type != NULL && strcmp(m->type, "cgroup") == 0) {
    if (mount_cgroupfs(m, err) != 0) return -1;
  } else {
    const char *type = m->type != NULL ? m->type : "none";
    const char *source = m->source != NULL ? m->source : type;
    if (mount(source, m->destination, type, m->flags, (m->data != NULL && m->data[0]) ? m->data : NULL) != 0)
      return failf(err, "mount", m->destination);
    if (strcmp(m->destination, "/dev") == 0 && strcmp(type, "tmpfs") == 0 && make_devices(err) != 0) return -1;
  }
  if (m->propagation != 0 && mount(NULL, m->destination, NULL, m->propagation, NULL) != 0)
    return failf(err, "set propagation", m->destination);
  return 0;
}

static int mask_paths(const struct sandbox_config *cfg, char *err) {
  for (size_t i = 0; i < cfg->nmasked; i++) {
    struct stat st;
    const char *p = cfg->masked[i];
    if (stat(p, &st) != 0) { if (errno == ENOENT) continue; return failf(err, "stat masked path", p); }
    int rc = S_ISDIR(st.st_mode) ? mount("tmpfs", p, "tmpfs", MS_RDONLY, NULL) : mount("/dev/null", p, NULL, MS_BIND, NULL);
    if (rc != 0) return failf(err, "mask", p);
  }
  return 0;
}

static unsigned long kept_flags(const char *p) {
  struct statvfs sv;
  unsigned long out = 0;
  if (statvfs(p, &sv) != 0) return 0;
  if (sv.f_flag & ST_NOSUID) out |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) out |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) out |= MS_NOEXEC;
  return out;
}

static int readonly_paths(const struct sandbox_config *cfg, char *err) {
  for (size_t i = 0; i < cfg->nreadonly; i++) {
    const char *p = cfg->readonly[i];
    if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) != 0) { if (errno == ENOENT) continue; return failf(err, "bind", p); }
    if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | kept_flags(p), NULL) != 0)
      return failf(err, "make read-only", p);
  }
  return 0;
}

/* The devices every container gets in /dev: made with mknod, or bound from the host's in a user namespace. */
static const struct { const char *name; unsigned major, minor; } devs[] = {
  {"/dev/null", 1, 3}, {"/dev/zero", 1, 5}, {"/dev/full", 1, 7},
  {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};
#define NDEVS (sizeof(devs) / sizeof(devs[0]))
/* In a user namespace (rootless) mknod of a device is refused: the host's nodes, opened before pivot_root, are bound. */
static int dev_trees[NDEVS] = {-1, -1, -1, -1, -1, -1};

/* in_user_namespace tells whether this process's user namespace maps only part of the ids (tbuild runs rootless). */
int read_small_file(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "re");
  if (f == NULL) return -1;
  size_t n = fread(buf, 1, size - 1, f);
  fclose(f);
  buf[n] = '\0';
  return 0;
}

static int in_user_namespace(void) {
  char map[128];
  if (read_small_file("/proc/self/uid_map", map, sizeof(map)) != 0) return 0;
  unsigned long inside = 1, outside = 1, count = 0;
  int lines = 0;
  for (const char *c = map; *c; c++) lines += *c == '\n';
  if (sscanf(map, "%lu %lu %lu", &inside, &outside, &count) != 3) return 1;
  return !(lines == 1 && inside == 0 && outside == 0 && count == 4294967295UL);
}

static int open_device_trees(char *err) {
  for (size_t i = 0; i < NDEVS; i++) {
    dev_trees[i] = (int)syscall(SYS_open_tree, AT_FDCWD, devs[i].name, OPEN_TREE_CLONE | O_CLOEXEC);
    if (dev_trees[i] < 0) return failf(err, "open host device", devs[i].name);
  }
  return 0;
}

static int make_device(size_t i, char *err) {
  if (dev_trees[i] < 0) {
    if (mknod(devs[i].name, S_IFCHR | 0666, makedev(devs[i].major, devs[i].minor)) != 0 && errno != EEXIST) return failf(err, "mknod", devs[i].name);
    return 0;
  }
  int fd = open(devs[i].name, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0666);
  if (fd < 0) return failf(err, "create device mount point", devs[i].name);
  close(fd);
  if (syscall(SYS_move_mount, dev_trees[i], "", AT_FDCWD, devs[i].name, MOVE_MOUNT_F_EMPTY_PATH) != 0)
    return failf(err, "bind host device", devs[i].name);
  close(dev_trees[i]);
  dev_trees[i] = -1;
  return 0;
}

static int make_devices(char *err) {
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
    if (symlink(links[i][0], links[i][1]) != 0 && errno != EEXIST) return failf(err, "symlink", links[i][1]);
  return 0;
}

/*
 * premount_special mounts proc and sysfs below the new root before pivot_root, in a user namespace: the kernel lets a
 * user namespace mount them only while the host's are visible in its mount namespace (mount_too_revealing). sysfs
 * also needs a network namespace of the user namespace's own: with the host's network (RUN --network=host) the
 * host's /sys is bound read-only instead, as rootless runc does.
 */
static int premount_special(struct sandbox_config *cfg, char *err) {
  for (size_t i = 0; i < cfg->nmounts; i++) {
    struct mount_entry *m = &cfg->mounts[i];
    if (m->bind || m->type == NULL || (strcmp(m->type, "proc") != 0 && strcmp(m->type, "sysfs") != 0)) continue;
    char target[PATH_MAX];
    struct stat st;
    if (snprintf(target, sizeof(target), "%s%s", cfg->root_path, m->destination) >= (int)sizeof(target)) return errno = ENAMETOOLONG, failf(err, "mount", m->destination);
    /* Made by tbuild in the rootfs; a symlink there (leading out of the root) is refused. */
    if (lstat(target, &st) != 0 || !S_ISDIR(st.st_mode)) return errno = ENOTDIR, failf(err, "mount", m->destination);
    int rc = mount(m->type, target, m->type, m->flags, (m->data != NULL && m->data[0]) ? m->data : NULL);
    if (rc != 0 && errno == EPERM && strcmp(m->type, "sysfs") == 0) {
      rc = mount("/sys", target, NULL, MS_BIND | MS_REC, NULL);
      if (rc == 0 && (m->flags & MS_RDONLY)) rc = mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | kept_flags(target), NULL);
    }
    if (rc != 0) return failf(err, "mount", m->destination);
    m->premounted = 1;
  }
  return 0;
}

int setup_rootfs(struct sandbox_config *cfg, char *err) {
  /* Nothing done here may propagate back to the host. */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) return failf(err, "make mounts private", "/");
  if (open_bind_sources(cfg, err) != 0 || mount_root(cfg, err) != 0) return -1;
  if (in_user_namespace() && (open_device_trees(err) != 0 || premount_special(cfg, err) != 0)) return -1;
  if (pivot(cfg->root_path, err) != 0) return -1;
  for (size_t i = 0; i < cfg->nmounts; i++) {
    if (strcmp(cfg->mounts[i].destination, "/") == 0 || cfg->mounts[i].premounted) continue;
    if (mount_one(&cfg->mounts[i], err) != 0) return -1;
  }
  if (mask_paths(cfg, err) != 0 || readonly_paths(cfg, err) != 0) return -1;
  if (cfg->root_readonly && mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) != 0)
    return failf(err, "make rootfs read-only", "/");
  /* Like runc, a missing working directory is created (owned by root). */
  if (mkdir_all(cfg->cwd) != 0) return failf(err, "create working directory", cfg->cwd);
  return 0;
}

int loopback_up(char *err) {
  struct ifreq ifr;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return failf(err, "socket", "lo");
  memset(&ifr, 0, sizeof(ifr));
  strcpy(ifr.ifr_name, "lo");
  int rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
  if (rc == 0) {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
  }
  if (rc != 0) { failf(err, "bring up", "lo"); close(fd); return -1; }
  close(fd);
  return 0;
}
