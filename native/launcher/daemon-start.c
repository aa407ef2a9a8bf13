/* Where the resident tbuild process listens, and starting it detached when nobody does. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon-start.h"

/* socket_path picks $TBUILD_DAEMON_SOCKET, /run/tbuild (root), $XDG_RUNTIME_DIR/tbuild or /tmp/tbuild-UID. */
int socket_path(char *out, size_t size) {
  const char *given = getenv("TBUILD_DAEMON_SOCKET");
  const char *xdg = getenv("XDG_RUNTIME_DIR");
  int n;
  if (given != NULL && given[0] != '\0') n = snprintf(out, size, "%s", given);
  else if (geteuid() == 0) n = snprintf(out, size, "/run/tbuild/daemon.sock");
  else if (xdg != NULL && xdg[0] == '/') n = snprintf(out, size, "%s/tbuild/daemon.sock", xdg);
  else n = snprintf(out, size, "/tmp/tbuild-%u/daemon.sock", (unsigned)geteuid());
  return n > 0 && (size_t)n < size && strchr(out, '/') != NULL ? 0 : -1;
}

/* private_dir creates the socket's folder (0700) and checks nobody else can plant a socket in it. */
int private_dir(const char *sock, char *dir, size_t size) {
  if ((size_t)snprintf(dir, size, "%s", sock) >= size) return -1;
  char *slash = strrchr(dir, '/');
  if (slash == NULL) return -1;
  if (slash == dir) slash[1] = '\0';
  else *slash = '\0';
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) return -1;
  struct stat st;
  if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) return -1;
  if (st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
    fprintf(stderr, "tbuild: not using the resident builder: %s is writable by others or not owned by this user\n", dir);
    return -1;
  }
  return 0;
}

#define STARTING_GRACE_SECONDS 10
#define LOG_LIMIT (1024 * 1024)

/* claim_start tells whether this launcher should start the resident process: not when another launcher started one
 * moments ago that is still loading (its daemon.starting marker is fresh; the daemon removes it once listening). */
static int claim_start(const char *dir) {
  char marker[PATH_MAX];
  struct stat st;
  if ((size_t)snprintf(marker, sizeof marker, "%s/daemon.starting", dir) >= sizeof marker) return 0;
  if (lstat(marker, &st) == 0 && time(NULL) - st.st_mtime < STARTING_GRACE_SECONDS) return 0;
  int fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return 0;
  close(fd);
  return 1;
}

/* start_daemon starts `tbuild daemon` detached (double fork, new session), logging to daemon.log beside the socket. */
void start_daemon(const char *sock, const char *dir, const char *node, const char *entry) {
  if (!claim_start(dir)) return;
  pid_t pid = fork();
  if (pid < 0) return;
  if (pid == 0) {
    if (setsid() < 0) _exit(1);
    pid_t again = fork();
    if (again != 0) _exit(again < 0 ? 1 : 0);
    char log[PATH_MAX];
    struct stat st;
    int nul = open("/dev/null", O_RDWR);
    int out = -1;
    if ((size_t)snprintf(log, sizeof log, "%s/daemon.log", dir) < sizeof log) {
      int trim = lstat(log, &st) == 0 && st.st_size > LOG_LIMIT ? O_TRUNC : 0;
      out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | trim, 0600);
    }
    if (nul < 0 || chdir("/") != 0) _exit(1);
    dup2(nul, 0);
    dup2(out >= 0 ? out : nul, 1);
    dup2(out >= 0 ? out : nul, 2);
    /* Nothing the caller holds open (pipes of a shell's $(…), a test harness) may stay open in the daemon. */
    if (syscall(SYS_close_range, 3u, ~0u, 0u) != 0) {
      for (int fd = 3; fd < 65536; fd++) close(fd);
    }
    char *args[] = {(char *)node, (char *)entry, "daemon", "--socket", (char *)sock, NULL};
    execv(node, args);
    _exit(127);
  }
  waitpid(pid, NULL, 0);
}
