/* The subset of the OCI runtime-spec config.json the sandbox applies. */
#ifndef TBUILD_CONFIG_H
#define TBUILD_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NS_MOUNT 0x1
#define NS_PID 0x2
#define NS_UTS 0x4
#define NS_IPC 0x8
#define NS_NET 0x10

struct mount_entry {
  const char *destination;
  const char *type;   /* may be NULL for plain binds */
  const char *source; /* may be NULL */
  unsigned long flags;
  unsigned long propagation;
  int bind;           /* 1 = bind, 2 = recursive bind */
  int readonly_bind;  /* ro requested on a bind: needs a remount */
  char *data;         /* remaining options joined by ',' */
  int tree_fd;        /* binds: detached mount tree opened before pivot_root */
  const char *stage;  /* extra overlays: host directory to mount on before pivot_root (option x-stage=) */
  const char *basedir; /* relative paths in data resolve here: the mount is made from this cwd (option x-basedir=) */
  int premounted;     /* proc and sysfs in a user namespace: mounted below the root before pivot_root */
};

struct rlimit_entry {
  int resource;
  uint64_t soft;
  uint64_t hard;
};

struct capsets {
  uint64_t bounding, effective, inheritable, permitted, ambient;
};

/* A compiled seccomp filter: len classic BPF instructions (struct sock_filter). */
struct seccomp_program {
  void *filter;
  unsigned short len;
};

struct sandbox_config {
  const char *root_path;
  int root_readonly;
  const char *hostname;
  unsigned namespaces; /* NS_* bits: namespaces to create */
  const char *netns_path; /* a network namespace to join instead (linux.namespaces entry with a path) */
  char **args;
  char **env;
  const char *cwd;
  uid_t uid;
  gid_t gid;
  gid_t *groups;
  size_t ngroups;
  struct capsets caps;
  int no_new_privileges;
  int terminal; /* process.terminal: stdin is a terminal the process takes as its controlling terminal */
  struct rlimit_entry *rlimits;
  size_t nrlimits;
  struct mount_entry *mounts;
  size_t nmounts;
  int cgroupfs; /* a mount of type cgroup: the init enters a cgroup namespace first */
  const char **masked;
  size_t nmasked;
  const char **readonly;
  size_t nreadonly;
  int seccomp; /* 1 when linux.seccomp is present */
  pid_t init_pid; /* without a pid namespace: the init's pid, the container process's parent */
  int proc_masked; /* set by the rootfs setup when the kernel refused a new proc mount in a user namespace */
  struct seccomp_program seccomp_prog;
};

/* config_load reads bundle/config.json; returns 0 or -1 with err filled. */
int config_load(const char *bundle, struct sandbox_config *cfg, char *err, size_t errlen);

#endif
