/*
 * tbuild-sandbox runs one process in a fresh set of namespaces, described by an OCI runtime-spec bundle.
 *
 * Usage: tbuild-sandbox --bundle DIR [--result-fd N] [--parent-pid PID] [--cgroup-procs FILE]...
 *
 * Each --cgroup-procs file (a prepared cgroup's cgroup.procs) gets the init's pid before it starts, so the
 * container and everything it forks are accounted and limited there.
 *
 * Processes: the helper (outside) clones the container init (PID 1 of a new PID namespace, inside a new
 * mount namespace), which sets up the rootfs, forks the container process, reaps orphans, forwards
 * SIGTERM/SIGINT/SIGHUP/SIGQUIT/SIGUSR1/SIGUSR2 and exits when the container process does. The helper
 * forwards the same signals to the init. Both the helper and the init die with SIGKILL when their parent
 * dies (PR_SET_PDEATHSIG), and the namespaces - overlay mount included - die with the init.
 *
 * Without a "pid" namespace in the spec (no process sandbox) the init and the container process live in the
 * caller's PID namespace, which their end does not empty: the init is a child subreaper (orphans of the RUN
 * are its children, reaped as PID 1 would), the container process dies with the init (PR_SET_PDEATHSIG), and
 * the helper, a subreaper too, SIGKILLs whatever is left once the init is gone, before it reports the result.
 *
 * Result protocol, one JSON object per line on --result-fd:
 *   {"type":"started","pid":<host pid of the container init>}
 *   then exactly one of
 *   {"type":"exited","exitCode":<n>}
 *   {"type":"signaled","signal":"SIGKILL","signo":9}
 *   {"type":"error","stage":"config|setup|exec|init","message":"..."}
 *   an error may name its cause for the caller to explain: "reason":"proc-masked" when the kernel refused a new
 *   proc filesystem in a user namespace (the visible /proc is partly covered or read-only)
 * The helper's own exit status is the container's exit code, 128+signo for a signal, 125 for a sandbox
 * setup error and 127 when the process could not be executed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static const int FORWARDED[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
#define NFORWARDED (sizeof(FORWARDED) / sizeof(FORWARDED[0]))

static volatile pid_t init_pid = 0;

struct report {
  char stage[32];
  char message[ERRLEN];
  int has_error, has_exit, has_signal, code, signo;
  int proc_masked; /* the error was a refused proc mount (an 'M' line) */
};

static void write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    buf += n;
    len -= (size_t)n;
  }
}

/* report_line sends one protocol line from the init or container process to the helper. */
static void report_line(int fd, char kind, const char *text) {
  char line[ERRLEN + 64];
  int n = snprintf(line, sizeof(line), "%c%s\n", kind, text);
  if (n > 0) write_all(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void json_escape(char *out, size_t outlen, const char *in) {
  size_t n = 0;
  for (; *in && n + 7 < outlen; in++) {
    unsigned char c = (unsigned char)*in;
    if (c == '"' || c == '\\') { out[n++] = '\\'; out[n++] = (char)c; }
    else if (c < 0x20) n += (size_t)snprintf(out + n, outlen - n, "\\u%04x", c);
    else out[n++] = (char)c;
  }
  out[n] = '\0';
}

static void emit(int fd, const char *json) {
  if (fd >= 0) write_all(fd, json, strlen(json));
}

/* emit_reasoned_error writes an error line; `reason`, when set, names a cause the caller explains (proc-masked). */
static void emit_reasoned_error(int fd, const char *stage, const char *reason, const char *message) {
  char esc[ERRLEN * 6 + 1], line[sizeof(esc) + 160], extra[64] = "";
  json_escape(esc, sizeof(esc), message);
  if (reason != NULL) snprintf(extra, sizeof(extra), ",\"reason\":\"%s\"", reason);
  snprintf(line, sizeof(line), "{\"type\":\"error\",\"stage\":\"%s\"%s,\"message\":\"%s\"}\n", stage, extra, esc);
  emit(fd, line);
}

static void emit_error(int fd, const char *stage, const char *message) {
  emit_reasoned_error(fd, stage, NULL, message);
}

static void forward(int sig) {
  if (init_pid > 0) kill(init_pid, sig);
}

static _Noreturn void container_process(struct sandbox_config *cfg, int report_fd, const sigset_t *old) {
  char err[ERRLEN];
  /* Every disposition back to the default, as runc leaves them: the helper ignores SIGPIPE for its own writes, and an
   * ignored disposition survives execve (`yes | head` would never end). SIGKILL and SIGSTOP refuse: harmless. */
  for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
  sigprocmask(SIG_SETMASK, old, NULL);
  /* Nothing but stdio and the (close-on-exec) report pipe may reach the container process. */
  if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
    for (int fd = 3; fd < 4096; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
  exec_process(cfg, err);
  report_line(report_fd, 'E', err);
  _exit(127);
}

static _Noreturn void init_loop(pid_t child, int report_fd, const sigset_t *set) {
  char text[32];
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(set, &info);
    if (sig < 0) continue;
    if (sig != SIGCHLD) { kill(child, sig); continue; }
    int status;
    pid_t w;
    while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
      if (w != child) continue; /* an orphan: reaped and forgotten */
      if (WIFSIGNALED(status)) {
        snprintf(text, sizeof(text), "%d", WTERMSIG(status));
        report_line(report_fd, 'S', text);
        _exit(128 + WTERMSIG(status));
      }
      snprintf(text, sizeof(text), "%d", WEXITSTATUS(status));
      report_line(report_fd, 'X', text);
      _exit(WEXITSTATUS(status));
    }
  }
}

/* adopt_orphans makes the init, in the caller's PID namespace, reap the RUN's orphans as a namespace's PID 1 does. */
static int adopt_orphans(struct sandbox_config *cfg, char *err) {
  cfg->init_pid = getpid();
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) == 0) return 0;
  snprintf(err, ERRLEN, "become a child subreaper: %s", strerror(errno));
  return -1;
}

static _Noreturn void container_init(struct sandbox_config *cfg, int report_fd, int sync_fd) {
  char err[ERRLEN] = "", b;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  /* The helper writes one byte once it is ready; EOF means it died before the death signal was armed. */
  if (read(sync_fd, &b, 1) != 1) _exit(125);
  close(sync_fd);
  /* Joined to its cgroups now (a cgroup namespace rooted there lets the cgroup filesystem show only them), and
   * without a PID namespace of its own, the adopter of the RUN's orphans. */
  if (!(cfg->namespaces & NS_PID) && adopt_orphans(cfg, err) != 0) {
  } else if (cfg->cgroupfs && unshare(CLONE_NEWCGROUP) != 0) {
    snprintf(err, sizeof(err), "unshare cgroup namespace: %s", strerror(errno));
  } else if (cfg->hostname != NULL && (cfg->namespaces & NS_UTS) && sethostname(cfg->hostname, strlen(cfg->hostname)) != 0) {
    snprintf(err, sizeof(err), "sethostname: %s", strerror(errno));
  } else if ((cfg->namespaces & NS_NET) && loopback_up(err) != 0) {
  } else {
    setup_rootfs(cfg, err);
  }
  if (err[0] != '\0') { report_line(report_fd, cfg->proc_masked ? 'M' : 'E', err); _exit(125); }
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (size_t i = 0; i < NFORWARDED; i++) sigaddset(&set, FORWARDED[i]);
  sigprocmask(SIG_BLOCK, &set, &old);
  pid_t child = fork();
  if (child < 0) {
    snprintf(err, sizeof(err), "fork: %s", strerror(errno));
    report_line(report_fd, 'E', err);
    _exit(125);
  }
  if (child == 0) container_process(cfg, report_fd, &old);
  init_loop(child, report_fd, &set);
}

#define INIT_STACK (1024 * 1024)

struct init_args {
  struct sandbox_config *cfg;
  int *report, *sync, result_fd;
};

static int init_main(void *arg) {
  struct init_args *a = arg;
  close(a->report[0]);
  close(a->sync[1]);
  if (a->result_fd >= 0) close(a->result_fd);
  container_init(a->cfg, a->report[1], a->sync[0]);
}

static void parse_report(char *buf, struct report *r) {
  for (char *line = strtok(buf, "\n"); line != NULL; line = strtok(NULL, "\n")) {
    if ((line[0] == 'E' || line[0] == 'M') && !r->has_error) {
      r->has_error = 1;
      r->proc_masked = line[0] == 'M';
      snprintf(r->message, sizeof(r->message), "%s", line + 1);
      snprintf(r->stage, sizeof(r->stage), "%s", r->has_exit ? "exec" : "setup");
    } else if (line[0] == 'X') { r->has_exit = 1; r->code = atoi(line + 1); }
    else if (line[0] == 'S') { r->has_signal = 1; r->signo = atoi(line + 1); }
  }
}

static int finish(int result_fd, struct report *r, int status) {
  char line[256];
  if (r->has_error) {
    /* An error line followed by the init's exit record came from the container process's exec. */
    int exec_stage = r->has_exit && r->code == 127;
    emit_reasoned_error(result_fd, exec_stage ? "exec" : "setup", r->proc_masked ? "proc-masked" : NULL, r->message);
    return exec_stage ? 127 : 125;
  }
  int signo = r->has_signal ? r->signo : (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  if (signo != 0) {
    const char *abbrev = sigabbrev_np(signo);
    snprintf(line, sizeof(line), "{\"type\":\"signaled\",\"signal\":\"SIG%s\",\"signo\":%d}\n", abbrev ? abbrev : "UNKNOWN", signo);
    emit(result_fd, line);
    return 128 + signo;
  }
  if (r->has_exit) {
    snprintf(line, sizeof(line), "{\"type\":\"exited\",\"exitCode\":%d}\n", r->code);
    emit(result_fd, line);
    return r->code;
  }
  snprintf(line, sizeof(line), "sandbox init exited with status %d before reporting", WEXITSTATUS(status));
  emit_error(result_fd, "init", line);
  return 125;
}

static int supervise(pid_t pid, int report_fd, int sync_fd, int result_fd, int shared_pids) {
  char line[128], buf[4 * ERRLEN];
  size_t used = 0;
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = forward;
  sa.sa_flags = SA_RESTART;
  init_pid = pid;
  for (size_t i = 0; i < NFORWARDED; i++) sigaction(FORWARDED[i], &sa, NULL);
  snprintf(line, sizeof(line), "{\"type\":\"started\",\"pid\":%d}\n", (int)pid);
  emit(result_fd, line);
  write_all(sync_fd, "1", 1);
  close(sync_fd);
  for (;;) {
    ssize_t n = read(report_fd, buf + used, sizeof(buf) - 1 - used);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    used += (size_t)n;
    if (used == sizeof(buf) - 1) break;
  }
  buf[used] = '\0';
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  /* Reported once nothing of the RUN runs any more, as when its PID namespace goes. */
  if (shared_pids) kill_leftovers();
  struct report r;
  memset(&r, 0, sizeof(r));
  parse_report(buf, &r);
  return finish(result_fd, &r, status);
}

/* join_cgroups writes the init's pid to each cgroup.procs file while the init still waits for its sync byte. */
static int join_cgroups(pid_t pid, const char *const *files, size_t n, char *err) {
  char text[32];
  int len = snprintf(text, sizeof(text), "%d", (int)pid);
  for (size_t i = 0; i < n; i++) {
    int fd = open(files[i], O_WRONLY | O_CLOEXEC);
    ssize_t w = fd < 0 ? -1 : write(fd, text, (size_t)len);
    int saved = errno;
    if (fd >= 0) close(fd);
    if (w != len) {
      snprintf(err, ERRLEN, "join cgroup %s: %s", files[i], strerror(saved));
      return -1;
    }
  }
  return 0;
}

/* parse_number reads a whole decimal argument in [min, max]; anything else is a usage error. */
static int parse_number(const char *flag, const char *text, long min, long max, long *out) {
  char *end = NULL;
  errno = 0;
  long value = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < min || value > max) {
    fprintf(stderr, "tbuild-sandbox: %s needs a number from %ld to %ld, not \"%s\"\n", flag, min, max, text);
    return -1;
  }
  *out = value;
  return 0;
}

static int usage(const char *why, const char *arg) {
  fprintf(stderr, "tbuild-sandbox: %s%s\nusage: tbuild-sandbox --bundle DIR [--result-fd N] [--parent-pid PID] [--cgroup-procs FILE]...\n",
          why, arg ? arg : "");
  return 125;
}

/* join_netns enters the network namespace bound at path. */
static int join_netns(const char *path, char *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
    snprintf(err, ERRLEN, "join network namespace %s: %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  close(fd);
  return 0;
}

int main(int argc, char **argv) {
  const char *bundle = NULL;
  /* Every other argument at most is a cgroup.procs file: none is ever dropped. */
  const char **cgroups = calloc((size_t)argc, sizeof(*cgroups));
  size_t ncgroups = 0;
  int result_fd = -1;
  long parent = 0, number = 0;
  char err[ERRLEN];
  if (cgroups == NULL) return usage("out of memory", NULL);
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc) return usage("missing value for ", argv[i]);
    if (strcmp(argv[i], "--bundle") == 0) bundle = argv[i + 1];
    else if (strcmp(argv[i], "--result-fd") == 0) {
      if (parse_number(argv[i], argv[i + 1], 0, INT_MAX, &number) != 0) return 125;
      result_fd = (int)number;
    } else if (strcmp(argv[i], "--parent-pid") == 0) {
      if (parse_number(argv[i], argv[i + 1], 1, INT_MAX, &parent) != 0) return 125;
    } else if (strcmp(argv[i], "--cgroup-procs") == 0) cgroups[ncgroups++] = argv[i + 1];
    else return usage("unknown argument ", argv[i]);
  }
  if (bundle == NULL) return usage("--bundle is required", NULL);
  signal(SIGPIPE, SIG_IGN);
  if (result_fd >= 0) fcntl(result_fd, F_SETFD, FD_CLOEXEC);
  /* Die with the caller; if it is already gone, stop here. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (parent > 0 && getppid() != (pid_t)parent) return 125;
  struct sandbox_config cfg;
  if (config_load(bundle, &cfg, err, sizeof(err)) != 0) { emit_error(result_fd, "config", err); return 125; }
  int report[2], sync[2];
  if (pipe2(report, O_CLOEXEC) != 0 || pipe2(sync, O_CLOEXEC) != 0) {
    snprintf(err, sizeof(err), "pipe: %s", strerror(errno));
    emit_error(result_fd, "setup", err);
    return 125;
  }
  /* The init inherits a joined network namespace; the helper itself makes no connection. */
  if (cfg.netns_path != NULL && join_netns(cfg.netns_path, err) != 0) { emit_error(result_fd, "setup", err); return 125; }
  int shared_pids = !(cfg.namespaces & NS_PID);
  /* The RUN's processes that outlive the init become the helper's, to be ended (see kill_leftovers). */
  if (shared_pids && prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    snprintf(err, sizeof(err), "become a child subreaper: %s", strerror(errno));
    emit_error(result_fd, "setup", err);
    return 125;
  }
  unsigned long flags = CLONE_NEWNS | (shared_pids ? 0 : CLONE_NEWPID);
  if (cfg.namespaces & NS_UTS) flags |= CLONE_NEWUTS;
  if (cfg.namespaces & NS_IPC) flags |= CLONE_NEWIPC;
  if (cfg.namespaces & NS_NET) flags |= CLONE_NEWNET;
  struct init_args args = {&cfg, report, sync, result_fd};
  /* Without CLONE_VM the child gets a copy-on-write copy of memory; it only needs its own stack. */
  char *stack = malloc(INIT_STACK);
  pid_t pid = stack == NULL ? -1 : clone(init_main, stack + INIT_STACK, (int)flags | SIGCHLD, &args);
  if (pid < 0) {
    snprintf(err, sizeof(err), "clone: %s", strerror(errno));
    emit_error(result_fd, "setup", err);
    return 125;
  }
  close(report[1]);
  close(sync[0]);
  if (join_cgroups(pid, cgroups, ncgroups, err) != 0) {
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    emit_error(result_fd, "setup", err);
    return 125;
  }
  return supervise(pid, report[0], sync[1], result_fd, shared_pids);
}
