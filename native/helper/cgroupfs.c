/*
 * The cgroup filesystem at /sys/fs/cgroup (a spec mount of type "cgroup"), as runc mounts it for BuildKit's
 * withCGroup: cgroup2 on a unified host; on a v1 (or hybrid) host a tmpfs with one cgroup mount per hierarchy the
 * process belongs to, each named after its controllers, with a symlink per controller of a co-mounted hierarchy.
 * The init has entered a cgroup namespace rooted at the container's cgroups, so every mount shows only them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox.h"

#define CGROUP_LINE 512
#define FS_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)

static int failc(char *err, const char *what, const char *path) {
  snprintf(err, ERRLEN, "%s %s: %s", what, path ? path : "", strerror(errno));
  return -1;
}

/* mount_hierarchy mounts one v1 hierarchy ("cpu,cpuacct" or "name=systemd") below dir, read-only when asked. */
static int mount_hierarchy(const char *dir, const char *controllers, unsigned long flags, char *err) {
  int named = strncmp(controllers, "name=", 5) == 0;
  char target[CGROUP_LINE], data[CGROUP_LINE + 8];
  if (snprintf(target, sizeof(target), "%s/%s", dir, named ? controllers + 5 : controllers) >= (int)sizeof(target))
    return failc(err, "cgroup mount point too long for", controllers);
  snprintf(data, sizeof(data), "%s%s", named ? "none," : "", controllers);
  if (mkdir(target, 0755) != 0 && errno != EEXIST) return failc(err, "create cgroup mount point", target);
  if (mount("cgroup", target, "cgroup", flags & FS_FLAGS, data) != 0) return failc(err, "mount cgroup", target);
  if (named || strchr(controllers, ',') == NULL) return 0;
  /* Co-mounted controllers: cpu -> cpu,cpuacct and cpuacct -> cpu,cpuacct, as runc links them. */
  char list[CGROUP_LINE];
  snprintf(list, sizeof(list), "%s", controllers);
  for (char *save = NULL, *c = strtok_r(list, ",", &save); c != NULL; c = strtok_r(NULL, ",", &save)) {
    char link[CGROUP_LINE];
    if (snprintf(link, sizeof(link), "%s/%s", dir, c) >= (int)sizeof(link)) return failc(err, "cgroup link too long for", c);
    if (symlink(controllers, link) != 0 && errno != EEXIST) return failc(err, "link cgroup controller", link);
  }
  return 0;
}

int mount_cgroupfs(const struct mount_entry *m, char *err) {
  FILE *f = fopen("/proc/self/cgroup", "re");
  if (f == NULL) return failc(err, "read", "/proc/self/cgroup");
  char line[CGROUP_LINE];
  int v1 = 0, rc = 0;
  /* First pass: a v1 hierarchy anywhere means the v1 layout (the unified line of a hybrid host is left out). */
  while (fgets(line, sizeof(line), f) != NULL) {
    char *ctl = strchr(line, ':');
    if (ctl != NULL && ctl[1] != ':') v1 = 1;
  }
  if (!v1) {
    fclose(f);
    return mount("cgroup2", m->destination, "cgroup2", m->flags & FS_FLAGS, NULL) == 0 ? 0 : failc(err, "mount cgroup2", m->destination);
  }
  if (mount("tmpfs", m->destination, "tmpfs", (m->flags & FS_FLAGS) & ~MS_RDONLY, "mode=755") != 0) {
    fclose(f);
    return failc(err, "mount tmpfs", m->destination);
  }
  rewind(f);
  while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
    char *ctl = strchr(line, ':');
    char *end = ctl == NULL ? NULL : strchr(ctl + 1, ':');
    if (end == NULL || end == ctl + 1) continue;
    *end = '\0';
    rc = mount_hierarchy(m->destination, ctl + 1, m->flags, err);
  }
  fclose(f);
  if (rc != 0) return rc;
  if ((m->flags & MS_RDONLY) && mount(NULL, m->destination, NULL, MS_REMOUNT | MS_BIND | (m->flags & FS_FLAGS), NULL) != 0)
    return failc(err, "make read-only", m->destination);
  return 0;
}
