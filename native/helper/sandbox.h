/* Shared declarations of the sandbox helper's stages. */
#ifndef TBUILD_SANDBOX_H
#define TBUILD_SANDBOX_H

#include <stddef.h>

#include "config.h"

#define ERRLEN 1024

/* open_bind_sources opens every bind source as a detached mount tree, before pivot_root hides them. */
int open_bind_sources(struct sandbox_config *cfg, char *err);
/* setup_rootfs mounts the root, pivots into it and mounts everything the config lists. */
int setup_rootfs(struct sandbox_config *cfg, char *err);
/* mount_cgroupfs mounts the process's cgroups read-only (or writable) at a "cgroup" mount's destination. */
int mount_cgroupfs(const struct mount_entry *m, char *err);
/* loopback_up brings the lo interface of a new network namespace up. */
int loopback_up(char *err);
/* exec_process applies identity, limits and capabilities, then execs; returns only on failure. */
int exec_process(struct sandbox_config *cfg, char *err);
/* install_seccomp loads the filter compiled from linux.seccomp. */
int install_seccomp(const struct sandbox_config *cfg, char *err);
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif

/* fail_path fills err with "what path: strerror(errno)" and returns -1. */
int fail_path(char *err, const char *what, const char *path);
/* in_user_namespace tells whether this process's user namespace maps only part of the ids (tbuild runs rootless). */
int in_user_namespace(void);
/* open_device_trees opens the host's device nodes before pivot_root, to bind them where mknod is refused (rootless). */
int open_device_trees(char *err);
/* make_devices makes the container's device nodes (or binds the opened host ones) and links in its /dev. */
int make_devices(char *err);
/* read_small_file reads up to size - 1 bytes of a file (a /proc entry) into buf, NUL-terminated; -1 when it cannot. */
int read_small_file(const char *path, char *buf, size_t size);
/* kill_leftovers SIGKILLs and reaps every process left to this child subreaper, until none is left. */
void kill_leftovers(void);
/* mkdir_all creates path and its missing parents with mode 0755. */
int mkdir_all(const char *path);

#endif
