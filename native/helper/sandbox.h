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
/* read_small_file reads up to size - 1 bytes of a file (a /proc entry) into buf, NUL-terminated; -1 when it cannot. */
int read_small_file(const char *path, char *buf, size_t size);
/* mkdir_all creates path and its missing parents with mode 0755. */
int mkdir_all(const char *path);

#endif
