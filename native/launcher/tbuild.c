/*
 * tbuild launcher: the `tbuild` command users run.
 *
 * `tbuild build …` is forwarded over a unix socket to a resident tbuild process (`tbuild daemon`), which keeps
 * Node, the bundle and its native modules loaded, so a cached build costs milliseconds instead of a Node start-up.
 * Anything else — other commands, TBUILD_DAEMON=0, arguments that read the terminal or standard input, a busy or
 * stale resident process, or any failure before the resident process accepts the request — runs
 * `node <repo>/bin/tbuild.js ARGS…` in this process with execv, so behaviour is the same, only slower.
 *
 * Frames on the socket: 1 byte type, 4 bytes big-endian length, payload.
 *   client → daemon: 'R' request (JSON), 'C' cancel, 'W' resize (columns, rows of stdout then stderr: 4 × uint16)
 *   daemon → client: 'A' accepted, 'B' busy, 'S' stale (the daemon exits), 'O' stdout bytes, 'E' stderr bytes,
 *                    'X' exit status (4 bytes big-endian)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "daemon-start.h"
#include "frames.h"
#include "request.h"

#define MAX_FRAME (64u * 1024u * 1024u)

static char repo[PATH_MAX];
static char entry[PATH_MAX];
static char node[PATH_MAX];

static volatile sig_atomic_t signals_seen;
static volatile sig_atomic_t resized;
static int signal_pipe[2] = {-1, -1};

static void die(const char *msg) {
  fprintf(stderr, "tbuild: %s\n", msg);
  exit(1);
}

/* run_direct replaces this process with `node bin/tbuild.js ARGS…`: the path every fallback takes. */
static void run_direct(int argc, char **argv) {
  char **args = calloc((size_t)argc + 2, sizeof(char *));
  if (args == NULL) die("out of memory");
  args[0] = node;
  args[1] = entry;
  for (int i = 1; i < argc; i++) args[i + 1] = argv[i];
  execv(node, args);
  fprintf(stderr, "tbuild: cannot run %s: %s\n", node, strerror(errno));
  exit(127);
}

/* find_repo derives the checkout from this executable's path: <repo>/native/build/tbuild. */
static void find_repo(void) {
  ssize_t n = readlink("/proc/self/exe", repo, sizeof repo - 1);
  if (n <= 0) die("cannot read /proc/self/exe");
  repo[n] = '\0';
  for (int i = 0; i < 3; i++) {
    char *slash = strrchr(repo, '/');
    if (slash == NULL || slash == repo) die("cannot find the tbuild checkout from the launcher's path");
    *slash = '\0';
  }
  if ((size_t)snprintf(entry, sizeof entry, "%s/bin/tbuild.js", repo) >= sizeof entry) die("path too long");
  if (access(entry, R_OK) != 0) {
    fprintf(stderr, "tbuild: cannot find %s: %s\n", entry, strerror(errno));
    exit(1);
  }
}

static int is_executable(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* find_node takes $TBUILD_NODE, else the first `node` on PATH; the result is canonical (realpath). */
static void find_node(void) {
  const char *given = getenv("TBUILD_NODE");
  char candidate[PATH_MAX];
  int found = 0;
  if (given != NULL && given[0] != '\0') {
    found = is_executable(given) && snprintf(candidate, sizeof candidate, "%s", given) < (int)sizeof candidate;
  } else {
    const char *path = getenv("PATH");
    if (path == NULL) path = "/usr/local/bin:/usr/bin:/bin";
    while (!found && *path != '\0') {
      const char *end = strchrnul(path, ':');
      int len = (int)(end - path);
      if (len > 0 && snprintf(candidate, sizeof candidate, "%.*s/node", len, path) < (int)sizeof candidate) {
        found = is_executable(candidate);
      }
      path = *end == ':' ? end + 1 : end;
    }
  }
  if (!found || realpath(candidate, node) == NULL) {
    fprintf(stderr, "tbuild: cannot find node: %s\n", given != NULL && given[0] != '\0' ? "TBUILD_NODE is not executable" : "not on PATH (or set TBUILD_NODE)");
    exit(127);
  }
}

/* reads_client_stdio tells whether an argument names this process's stdin/stdout/terminal, or asks for a shell on
 * it (--on-error): the resident process has other ones, so such builds run directly. */
static int reads_client_stdio(int argc, char **argv) {
  static const char *const names[] = {"/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/fd/", "/dev/tty", "/proc/self/"};
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    size_t len = strlen(a);
    if (strncmp(a, "--on-error", 10) == 0) return 1;
    if (strcmp(a, "-") == 0 || strcmp(a, "-f-") == 0 || (len >= 2 && strcmp(a + len - 2, "=-") == 0)) return 1;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
      if (strstr(a, names[k]) != NULL) return 1;
    }
  }
  return 0;
}

static void on_signal(int sig) {
  int saved = errno;
  if (sig == SIGWINCH) resized = 1;
  else signals_seen++;
  if (write(signal_pipe[1], "s", 1) < 0) { /* the pipe is full: a wake-up is already pending */ }
  errno = saved;
}

static void put_size(unsigned char *out, int fd) {
  struct winsize ws = {0};
  if (isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) != 0) memset(&ws, 0, sizeof ws);
  out[0] = ws.ws_col >> 8;
  out[1] = ws.ws_col & 0xff;
  out[2] = ws.ws_row >> 8;
  out[3] = ws.ws_row & 0xff;
}

/* forward_signals sends a cancel frame for the first SIGINT/SIGTERM/SIGHUP (a second one exits at once) and a
 * resize frame when the terminal changed size. */
static void forward_signals(int sock, int *cancelled) {
  char drain[16];
  while (read(signal_pipe[0], drain, sizeof drain) > 0) {}
  if (signals_seen > 1) _exit(130);
  if (signals_seen == 1 && !*cancelled) {
    *cancelled = 1;
    send_frame(sock, 'C', "", 0);
  }
  if (resized) {
    resized = 0;
    unsigned char sizes[8];
    put_size(sizes, 1);
    put_size(sizes + 4, 2);
    send_frame(sock, 'W', sizes, sizeof sizes);
  }
}

/* read_full reads exactly len bytes, handling signals that interrupt it; 0 on success, -1 on EOF or error. */
static int read_full(int fd, void *buf, size_t len, int *cancelled) {
  char *p = buf;
  while (len > 0) {
    ssize_t n = read(fd, p, len);
    if (n < 0 && errno == EINTR) {
      forward_signals(fd, cancelled);
      continue;
    }
    if (n <= 0) return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* read_frame reads one frame into *buf (grown as needed); returns its type, or -1 at EOF or on error. */
static int read_frame(int fd, char **buf, size_t *cap, uint32_t *len, int *cancelled) {
  unsigned char header[FRAME_HEADER];
  if (read_full(fd, header, sizeof header, cancelled) != 0) return -1;
  *len = (uint32_t)header[1] << 24 | (uint32_t)header[2] << 16 | (uint32_t)header[3] << 8 | header[4];
  if (*len > MAX_FRAME) return -1;
  if (*len > *cap) {
    char *grown = realloc(*buf, *len);
    if (grown == NULL) return -1;
    *buf = grown;
    *cap = *len;
  }
  return read_full(fd, *buf, *len, cancelled) == 0 ? header[0] : -1;
}

static void install_signal_handlers(void) {
  if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) die("cannot create a pipe");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  if (isatty(1) || isatty(2)) sigaction(SIGWINCH, &sa, NULL);
}

/* serve relays the accepted build's output until its exit frame and returns the exit status. */
static int serve(int sock) {
  int cancelled = 0;
  char *buf = NULL;
  size_t cap = 0;
  uint32_t len = 0;
  struct pollfd fds[2] = {{.fd = sock, .events = POLLIN}, {.fd = signal_pipe[0], .events = POLLIN}};
  for (;;) {
    forward_signals(sock, &cancelled);
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      die("cannot poll the resident builder's socket");
    }
    if (fds[0].revents == 0) continue;
    int type = read_frame(sock, &buf, &cap, &len, &cancelled);
    if (type == 'O' || type == 'E') {
      /* A closed stdout (e.g. `| head`) ends the launcher as it would end node: the daemon then cancels the build. */
      if (write_full(type == 'O' ? 1 : 2, buf, len) != 0) return 1;
    } else if (type == 'X' && len == 4) {
      unsigned char *s = (unsigned char *)buf;
      return (int)((uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 | (uint32_t)s[2] << 8 | s[3]);
    } else {
      if (cancelled) return 130;
      fprintf(stderr, "tbuild: the resident builder closed the connection before the build finished (see daemon.log beside its socket)\n");
      return 1;
    }
  }
}

/* try_daemon connects to the resident process; -1 when it cannot (*absent: nobody listens there). */
static int try_daemon(const char *sock_path, int *absent) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(sock_path) >= sizeof addr.sun_path) return -1;
  strcpy(addr.sun_path, sock_path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    *absent = errno == ENOENT || errno == ECONNREFUSED;
    close(fd);
    return -1;
  }
  return fd;
}

int main(int argc, char **argv) {
  find_repo();
  find_node();
  const char *mode = getenv("TBUILD_DAEMON");
  if (argc < 2 || strcmp(argv[1], "build") != 0 || (mode != NULL && strcmp(mode, "0") == 0) || reads_client_stdio(argc, argv)) {
    run_direct(argc, argv);
  }
  char sock_path[PATH_MAX], dir[PATH_MAX];
  if (socket_path(sock_path, sizeof sock_path) != 0 || private_dir(sock_path, dir, sizeof dir) != 0) run_direct(argc, argv);
  int absent = 0;
  int sock = try_daemon(sock_path, &absent);
  if (sock < 0) {
    /* No resident process: start one for the next builds; this one runs directly, at today's cost. */
    if (absent) start_daemon(sock_path, dir, node, entry);
    run_direct(argc, argv);
  }
  struct request_buffer req = {0};
  if (build_request(&req, argc, argv, repo, node) != 0 || send_frame(sock, 'R', req.data, (uint32_t)req.len) != 0) {
    run_direct(argc, argv);
  }
  free(req.data);
  int ignored = 0;
  char *buf = NULL;
  size_t cap = 0;
  uint32_t len = 0;
  /* Signals before the answer keep their default effect: nothing has run yet. */
  int answer = read_frame(sock, &buf, &cap, &len, &ignored);
  if (answer != 'A') {
    close(sock);
    /* A stale process has already closed its socket and exits: start one with the new code for the next builds. */
    if (answer == 'S') start_daemon(sock_path, dir, node, entry);
    run_direct(argc, argv);
  }
  free(buf);
  install_signal_handlers();
  return serve(sock);
}
