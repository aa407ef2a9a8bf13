/* The container process: identity, rlimits, capabilities, working directory, then execve. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static int failf(char *err, const char *what) {
  snprintf(err, ERRLEN, "%s: %s", what, strerror(errno));
  return -1;
}

static int apply_rlimits(const struct sandbox_config *cfg, char *err) {
  for (size_t i = 0; i < cfg->nrlimits; i++) {
    const struct rlimit_entry *r = &cfg->rlimits[i];
    struct rlimit want = {(rlim_t)r->soft, (rlim_t)r->hard}, cur;
    if (setrlimit(r->resource, &want) == 0) continue;
    /* Without CAP_SYS_RESOURCE the hard limit cannot grow: clamp to what the host allows. */
    if (errno != EPERM || getrlimit(r->resource, &cur) != 0) return failf(err, "setrlimit");
    if (want.rlim_max > cur.rlim_max) want.rlim_max = cur.rlim_max;
    if (want.rlim_cur > want.rlim_max) want.rlim_cur = want.rlim_max;
    if (setrlimit(r->resource, &want) != 0) return failf(err, "setrlimit");
  }
  return 0;
}

static int capset_all(const struct capsets *c) {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  for (int i = 0; i < 2; i++) {
    data[i].effective = (__u32)(c->effective >> (32 * i));
    data[i].permitted = (__u32)(c->permitted >> (32 * i));
    data[i].inheritable = (__u32)(c->inheritable >> (32 * i));
  }
  return (int)syscall(SYS_capset, &hdr, data);
}

static int drop_bounding(uint64_t keep, char *err) {
  for (int cap = 0; cap < 64; cap++) {
    if (keep & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      if (errno == EINVAL) break; /* past the kernel's last capability */
      return failf(err, "drop bounding capability");
    }
  }
  return 0;
}

/* setgroups_denied tells whether this user namespace forbids setgroups: one whose gid map was written by its
 * unprivileged creator (rootless tbuild with no subordinate ids maps the user alone this way). */
static int setgroups_denied(void) {
  char state[16];
  return read_small_file("/proc/self/setgroups", state, sizeof(state)) == 0 && strncmp(state, "deny", 4) == 0;
}

static int set_groups(const struct sandbox_config *cfg, char *err) {
  if (setgroups(cfg->ngroups, cfg->groups) == 0) return 0;
  if (errno != EPERM || !setgroups_denied()) return failf(err, "setgroups");
  /* The process keeps the groups it has; only groups it would be given beyond its own gid are refused. */
  for (size_t i = 0; i < cfg->ngroups; i++) {
    if (cfg->groups[i] != cfg->gid) {
      snprintf(err, ERRLEN, "setgroups: the user namespace maps one id and denies supplementary groups (group %u)", (unsigned)cfg->groups[i]);
      return -1;
    }
  }
  return 0;
}

static int set_identity(const struct sandbox_config *cfg, char *err) {
  if (set_groups(cfg, err) != 0) return -1;
  if (setresgid(cfg->gid, cfg->gid, cfg->gid) != 0) return failf(err, "setgid");
  if (drop_bounding(cfg->caps.bounding, err) != 0) return -1;
  /* Keep the permitted set across setuid so the spec's sets can be applied afterwards. */
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return failf(err, "keepcaps");
  if (setresuid(cfg->uid, cfg->uid, cfg->uid) != 0) return failf(err, "setuid");
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return failf(err, "keepcaps");
  if (capset_all(&cfg->caps) != 0) return failf(err, "capset");
  for (int cap = 0; cap < 64; cap++) {
    if (!(cfg->caps.ambient & (1ULL << cap))) continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) return failf(err, "raise ambient capability");
  }
  return 0;
}

/*
 * fix_stdio_owner gives the stdio pipes to the container user, as runc does, so a process that is not root can
 * reopen them through /dev/stdout or /dev/stderr (a pipe is mode 0600, owned by whoever created it). Only the
 * owner changes; descriptors on /dev/null or already owned by the user are left alone, and an owner the user
 * namespace cannot map (EINVAL, EPERM) is not an error.
 */
static int fix_stdio_owner(const struct sandbox_config *cfg, char *err) {
  struct stat null_st;
  int have_null = stat("/dev/null", &null_st) == 0;
  for (int fd = 0; fd < 3; fd++) {
    struct stat st;
    if (fstat(fd, &st) != 0) continue;
    if (st.st_uid == cfg->uid || (have_null && S_ISCHR(st.st_mode) && st.st_rdev == null_st.st_rdev)) continue;
    if (fchown(fd, cfg->uid, st.st_gid) != 0 && errno != EINVAL && errno != EPERM) return failf(err, "chown stdio");
  }
  return 0;
}

static const char *env_path(char **env) {
  for (char **e = env; *e != NULL; e++)
    if (strncmp(*e, "PATH=", 5) == 0) return *e + 5;
  return DEFAULT_PATH;
}

/* exec_search runs argv[0] from the container's own PATH, like execvp with an explicit environment. */
static int exec_search(char **args, char **env, char *err) {
  if (strchr(args[0], '/') != NULL) {
    execve(args[0], args, env);
    snprintf(err, ERRLEN, "exec \"%s\": %s", args[0], strerror(errno));
    return -1;
  }
  const char *path = env_path(env);
  int saw_eacces = 0;
  char full[PATH_MAX];
  while (*path != '\0') {
    const char *colon = strchr(path, ':');
    size_t len = colon ? (size_t)(colon - path) : strlen(path);
    if (len == 0) snprintf(full, sizeof(full), "%s", args[0]);
    else snprintf(full, sizeof(full), "%.*s/%s", (int)len, path, args[0]);
    execve(full, args, env);
    if (errno == EACCES) saw_eacces = 1;
    path += len + (colon ? 1 : 0);
  }
  if (saw_eacces) snprintf(err, ERRLEN, "exec \"%s\": permission denied", args[0]);
  else snprintf(err, ERRLEN, "exec: \"%s\": executable file not found in $PATH", args[0]);
  return -1;
}

/*
 * take_terminal makes the process the leader of a new session whose controlling terminal is its stdin (the pty the
 * caller made for process.terminal), so the shell gets job control and the terminal's signals (Ctrl-C, SIGWINCH).
 */
static int take_terminal(char *err) {
  if (!isatty(0)) {
    snprintf(err, ERRLEN, "process.terminal is set but stdin is not a terminal");
    return -1;
  }
  if (setsid() < 0) return failf(err, "setsid");
  if (ioctl(0, TIOCSCTTY, 0) != 0) return failf(err, "set the controlling terminal");
  return 0;
}

/*
 * die_with_init makes the process die with the sandbox init, as it would with its PID namespace's PID 1, when it
 * shares the caller's PID namespace. Set after the identity change, which clears it; an init already gone fails.
 */
static int die_with_init(const struct sandbox_config *cfg, char *err) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) return failf(err, "set the parent-death signal");
  if (getppid() != cfg->init_pid) {
    snprintf(err, ERRLEN, "the sandbox init ended before the process started");
    return -1;
  }
  return 0;
}

int exec_process(struct sandbox_config *cfg, char *err) {
  if (cfg->terminal && take_terminal(err) != 0) return -1;
  if (apply_rlimits(cfg, err) != 0) return -1;
  if (chdir(cfg->cwd) != 0) return failf(err, "chdir to working directory");
  /* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: do it before dropping capabilities. */
  if (cfg->seccomp && !cfg->no_new_privileges && install_seccomp(cfg, err) != 0) return -1;
  if (fix_stdio_owner(cfg, err) != 0) return -1;
  if (set_identity(cfg, err) != 0) return -1;
  if (!(cfg->namespaces & NS_PID) && die_with_init(cfg, err) != 0) return -1;
  if (cfg->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return failf(err, "no_new_privs");
  if (cfg->seccomp && cfg->no_new_privileges && install_seccomp(cfg, err) != 0) return -1;
  return exec_search(cfg->args, cfg->env, err);
}
