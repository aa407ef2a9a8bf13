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
#include <unistd.h>

#include "sandbox.h"

int fail_path(char *err, const char *what, const char *path) {
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
        return fail_path(err, "mount staged", m->stage);
      m->bind = 1;
      m->readonly_bind = (m->flags & MS_RDONLY) != 0;
    }
    if (!m->bind || strcmp(m->destination, "/") == 0) continue;
    unsigned flags = OPEN_TREE_CLONE | O_CLOEXEC | (m->bind == 2 ? AT_RECURSIVE : 0);
    m->tree_fd = (int)syscall(SYS_open_tree, AT_FDCWD, m->source, flags);
    if (m->tree_fd < 0) return fail_path(err, "open bind source", m->source);
  }
  return 0;
}

static int mount_root(struct sandbox_config *cfg, char *err) {
  for (size_t i = 0; i < cfg->nmounts; i++) {
    struct mount_entry *m = &cfg->mounts[i];
    if (strcmp(m->destination, "/") != 0) continue;
    /* The overlay is mounted here, inside the private namespace, so it vanishes with it. */
    if (m->basedir != NULL && chdir(m->basedir) != 0) return fail_path(err, "chdir to overlay base", m->basedir);
    int rc = m->bind ? mount(m->source, cfg->root_path, NULL, MS_BIND | (m->bind == 2 ? MS_REC : 0), NULL)
                     : mount(m->source ? m->source : m->type, cfg->root_path, m->type, m->flags, m->data);
    return rc == 0 ? 0 : fail_path(err, "mount rootfs on", cfg->root_path);
  }
  /* pivot_root needs a mount point: bind the prepared directory onto itself. */
  if (mount(cfg->root_path, cfg->root_path, NULL, MS_BIND | MS_REC, NULL) != 0) return fail_path(err, "bind rootfs", cfg->root_path);
  return 0;
}

static int pivot(const char *root, char *err) {
  if (chdir(root) != 0) return fail_path(err, "chdir", root);
  /* Stack the old root on top of the new one, then detach it: no put_old directory needed. */
  if (syscall(SYS_pivot_root, ".", ".") != 0) return fail_path(err, "pivot_root", root);
  if (umount2(".", MNT_DETACH) != 0) return fail_path(err, "detach old root", "/");
  if (chdir("/") != 0) return fail_path(err, "chdir", "/");
  return 0;
}

static unsigned long kept_flags(const char *p);

static int mount_one(struct mount_entry *m, char *err) {
  struct stat st;
  int is_file = m->bind && fstat(m->tree_fd, &st) == 0 && !S_ISDIR(st.st_mode);
  if (ensure_target(m->destination, is_file) != 0) return fail_path(err, "create mount point", m->destination);
  if (m->bind) {
    if (syscall(SYS_move_mount, m->tree_fd, "", AT_FDCWD, m->destination, MOVE_MOUNT_F_EMPTY_PATH) != 0)
      return fail_path(err, "bind mount", m->destination);
    close(m->tree_fd);
    m->tree_fd = -1;
    unsigned long flags = m->flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_RELATIME);
    if (flags != 0 && mount(NULL, m->destination, NULL, MS_BIND | MS_REMOUNT | flags, NULL) != 0)
      return fail_path(err, "remount bind", m->destination);
  } else if (m->type != NULL && strcmp(m->type, "cgroup") == 0) {
    if (mount_cgroupfs(m, err) != 0) return -1;
  } else {
    const char *type = m->type != NULL ? m->type : "none";
    const char *source = m->source != NULL ? m->source : type;
    if (mount(source, m->destination, type, m->flags, (m->data != NULL && m->data[0]) ? m->data : NULL) != 0)
      return fail_path(err, "mount", m->destination);
    if (strcmp(m->destination, "/dev") == 0 && strcmp(type, "tmpfs") == 0 && make_devices(err) != 0) return -1;
  }
  if (m->propagation != 0 && mount(NULL, m->destination, NULL, m->propagation, NULL) != 0)
    return fail_path(err, "set propagation", m->destination);
  return 0;
}

static int mask_paths(const struct sandbox_config *cfg, char *err) {
  for (size_t i = 0; i < cfg->nmasked; i++) {
    struct stat st;
    const char *p = cfg->masked[i];
    if (stat(p, &st) != 0) { if (errno == ENOENT) continue; return fail_path(err, "stat masked path", p); }
    int rc = S_ISDIR(st.st_mode) ? mount("tmpfs", p, "tmpfs", MS_RDONLY, NULL) : mount("/dev/null", p, NULL, MS_BIND, NULL);
    if (rc != 0) return fail_path(err, "mask", p);
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
    if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) != 0) { if (errno == ENOENT) continue; return fail_path(err, "bind", p); }
    if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | kept_flags(p), NULL) != 0)
      return fail_path(err, "make read-only", p);
  }
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
    if (snprintf(target, sizeof(target), "%s%s", cfg->root_path, m->destination) >= (int)sizeof(target)) return errno = ENAMETOOLONG, fail_path(err, "mount", m->destination);
    /* Made by tbuild in the rootfs; a symlink there (leading out of the root) is refused. */
    if (lstat(target, &st) != 0 || !S_ISDIR(st.st_mode)) return errno = ENOTDIR, fail_path(err, "mount", m->destination);
    int rc = mount(m->type, target, m->type, m->flags, (m->data != NULL && m->data[0]) ? m->data : NULL);
    if (rc != 0 && errno == EPERM && strcmp(m->type, "sysfs") == 0) {
      rc = mount("/sys", target, NULL, MS_BIND | MS_REC, NULL);
      if (rc == 0 && (m->flags & MS_RDONLY)) rc = mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | kept_flags(target), NULL);
    }
    /* mount_too_revealing: a user namespace gets a new proc only while an uncovered one is visible to it. */
    if (rc != 0 && errno == EPERM && strcmp(m->type, "proc") == 0) cfg->proc_masked = 1;
    if (rc != 0) return fail_path(err, "mount", m->destination);
    m->premounted = 1;
  }
  return 0;
}

int setup_rootfs(struct sandbox_config *cfg, char *err) {
  /* Nothing done here may propagate back to the host. */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) return fail_path(err, "make mounts private", "/");
  if (open_bind_sources(cfg, err) != 0 || mount_root(cfg, err) != 0) return -1;
  if (in_user_namespace() && (open_device_trees(err) != 0 || premount_special(cfg, err) != 0)) return -1;
  if (pivot(cfg->root_path, err) != 0) return -1;
  for (size_t i = 0; i < cfg->nmounts; i++) {
    if (strcmp(cfg->mounts[i].destination, "/") == 0 || cfg->mounts[i].premounted) continue;
    if (mount_one(&cfg->mounts[i], err) != 0) return -1;
  }
  if (mask_paths(cfg, err) != 0 || readonly_paths(cfg, err) != 0) return -1;
  if (cfg->root_readonly && mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) != 0)
    return fail_path(err, "make rootfs read-only", "/");
  /* Like runc, a missing working directory is created (owned by root). */
  if (mkdir_all(cfg->cwd) != 0) return fail_path(err, "create working directory", cfg->cwd);
  return 0;
}

int loopback_up(char *err) {
  struct ifreq ifr;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail_path(err, "socket", "lo");
  memset(&ifr, 0, sizeof(ifr));
  strcpy(ifr.ifr_name, "lo");
  int rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
  if (rc == 0) {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
  }
  if (rc != 0) { fail_path(err, "bring up", "lo"); close(fd); return -1; }
  close(fd);
  return 0;
}
