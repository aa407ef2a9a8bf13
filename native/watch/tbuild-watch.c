/*
 * tbuild-watch: tells which paths below a folder changed, as inotify sees them, so that a resident builder knows
 * what changed in a build context without walking it.
 *
 *   tbuild-watch ROOT MAX_WATCHES
 *
 * One inotify watch per directory (events name the child that changed) and one per regular file with more than one
 * link (a write through a name outside the folder is reported only on the inode itself). Records on standard output,
 * each ended by a NUL byte:
 *   R            every directory is watched (at the start, and again after a rescan)
 *   C<path>      something at path (relative to ROOT, "" for ROOT) may have changed: content, mode, owner, times,
 *                created, removed or renamed
 *   O            events were lost (the kernel's queue overflowed): the tree is watched again, then R follows
 *   S<token>     answers "s<token>\n" on standard input once every event queued before it was read is reported
 *   F<reason>    the tree cannot be watched (watch limit, unreadable directory, a remote file system, ROOT gone);
 *                the process exits
 * It exits when standard input closes (its parent went away).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <signal.h>
#include <unistd.h>

#define DIR_MASK \
  (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | \
   IN_MOVE_SELF | IN_DONT_FOLLOW | IN_ONLYDIR)
#define FILE_MASK (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF | IN_DONT_FOLLOW)

/* Watch is what a watch descriptor stands for: a path relative to the root, and whether it is a directory. */
struct watch {
  char *rel;
  int is_dir;
};

static struct watch *watches; /* indexed by watch descriptor */
static size_t watches_cap;
static long watch_count;
static long max_watches;
static int ifd;
static int root_wd = -1;
static const char *root;
static dev_t root_dev;

static void put_record(char type, const char *text) {
  fputc(type, stdout);
  if (text != NULL) fputs(text, stdout);
  fputc('\0', stdout);
}

static void fail(const char *fmt, const char *arg) {
  char reason[PATH_MAX + 128];
  snprintf(reason, sizeof reason, fmt, arg);
  put_record('F', reason);
  fflush(stdout);
  exit(0);
}

static char *join(const char *rel, const char *name) {
  size_t a = strlen(rel), b = strlen(name);
  char *out = malloc(a + b + 2);
  if (out == NULL) fail("out of memory%s", "");
  if (a == 0) {
    memcpy(out, name, b + 1);
  } else {
    memcpy(out, rel, a);
    out[a] = '/';
    memcpy(out + a + 1, name, b + 1);
  }
  return out;
}

/* is_remote_fs tells file systems whose changes made elsewhere inotify never hears of (network, FUSE). */
static int is_remote_fs(long type) {
  switch ((unsigned long)type) {
    case 0x6969UL:     /* NFS */
    case 0x517BUL:     /* SMB */
    case 0xFF534D42UL: /* CIFS */
    case 0xFE534D42UL: /* SMB2 */
    case 0x65735546UL: /* FUSE */
    case 0x00C36400UL: /* Ceph */
    case 0x01021997UL: /* 9p */
    case 0x5346414FUL: /* AFS */
    case 0x73757245UL: /* Coda */
    case 0x47504653UL: /* GPFS */
      return 1;
    default:
      return 0;
  }
}

static void remember(int wd, const char *rel, int is_dir) {
  if ((size_t)wd >= watches_cap) {
    size_t cap = watches_cap == 0 ? 1024 : watches_cap;
    while (cap <= (size_t)wd) cap *= 2;
    struct watch *grown = realloc(watches, cap * sizeof *grown);
    if (grown == NULL) fail("out of memory%s", "");
    memset(grown + watches_cap, 0, (cap - watches_cap) * sizeof *grown);
    watches = grown;
    watches_cap = cap;
  }
  if (watches[wd].rel == NULL) {
    watch_count++;
  } else {
    free(watches[wd].rel);
  }
  /* A directory renamed inside the tree keeps its watch: adding it again gives the same descriptor, here its new path. */
  watches[wd].rel = strdup(rel);
  watches[wd].is_dir = is_dir;
  if (watches[wd].rel == NULL) fail("out of memory%s", "");
}

/* add_watch watches a path and returns its descriptor; -1 when it is gone already (its parent's events tell of that). */
static int add_watch(const char *rel, int is_dir) {
  if (watch_count >= max_watches) {
    char limit[32];
    snprintf(limit, sizeof limit, "%ld", max_watches);
    fail("the folder has more directories and linked files than the %s watches tbuild gives one folder", limit);
  }
  char *path = join(root, rel);
  int wd = inotify_add_watch(ifd, path, is_dir ? DIR_MASK : FILE_MASK);
  free(path);
  if (wd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return -1;
    if (errno == ENOSPC) fail("the user's inotify watch limit (fs.inotify.max_user_watches) is reached%s", "");
    fail("cannot watch \"%s\"", rel);
  }
  remember(wd, rel, is_dir);
  return wd;
}

/* watch_file watches a regular file with more than one link, whose changes through another name its folder does not see. */
static void watch_file(int dirfd, const char *name, const char *rel) {
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return;
  if (S_ISREG(st.st_mode) && st.st_nlink > 1) add_watch(rel, 0);
}

/*
 * watch_tree watches a directory and everything below it. With report set (a directory that appeared after the watch
 * began) every entry found is reported, as it may have been made before its directory was watched.
 */
static void watch_tree(const char *rel, int report) {
  int wd = add_watch(rel, 1);
  if (wd < 0) return;
  if (rel[0] == '\0') root_wd = wd;
  char *path = join(root, rel);
  DIR *dir = opendir(path);
  if (dir == NULL) {
    int err = errno;
    free(path);
    if (err == ENOENT || err == ENOTDIR) return;
    fail("cannot read the directory \"%s\"", rel);
  }
  struct stat st;
  if (fstat(dirfd(dir), &st) == 0 && st.st_dev != root_dev) {
    struct statfs fs;
    if (fstatfs(dirfd(dir), &fs) == 0 && is_remote_fs(fs.f_type)) fail("\"%s\" is on a network or FUSE file system", rel);
  }
  free(path);
  for (struct dirent *e = readdir(dir); e != NULL; e = readdir(dir)) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char *child = join(rel, e->d_name);
    if (report) put_record('C', child);
    int type = e->d_type;
    if (type == DT_UNKNOWN) {
      struct stat cst;
      type = fstatat(dirfd(dir), e->d_name, &cst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(cst.st_mode) ? DT_DIR : DT_REG;
    }
    if (type == DT_DIR) {
      watch_tree(child, report);
    } else if (type == DT_REG) {
      watch_file(dirfd(dir), e->d_name, child);
    }
    free(child);
  }
  closedir(dir);
}

static void watch_root(void) {
  root_wd = -1;
  watch_tree("", 0);
  if (root_wd < 0) fail("the folder was removed%s", "");
  put_record('R', NULL);
}

static void handle_event(const struct inotify_event *e) {
  if (e->mask & IN_Q_OVERFLOW) {
    /* Lost events may include directories made since: watch the whole tree again (known ones keep their descriptor). */
    put_record('O', NULL);
    watch_root();
    return;
  }
  if (e->wd < 0 || (size_t)e->wd >= watches_cap || watches[e->wd].rel == NULL) return;
  struct watch *w = &watches[e->wd];
  if (e->mask & IN_IGNORED) {
    free(w->rel);
    w->rel = NULL;
    watch_count--;
    return;
  }
  if ((e->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)) && e->wd == root_wd) fail("the folder was removed, moved or unmounted%s", "");
  if (!w->is_dir || e->len == 0) {
    put_record('C', w->rel);
    return;
  }
  char *child = join(w->rel, e->name);
  put_record('C', child);
  if ((e->mask & IN_ISDIR) && (e->mask & (IN_CREATE | IN_MOVED_TO))) {
    watch_tree(child, 1);
  } else if (!(e->mask & IN_ISDIR) && (e->mask & (IN_CREATE | IN_MOVED_TO | IN_ATTRIB))) {
    /* A new name, or a link count that grew: a file linked from elsewhere gets a watch of its own. */
    char *dirpath = join(root, w->rel);
    int dirfd = open(dirpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dirpath);
    if (dirfd >= 0) {
      watch_file(dirfd, e->name, child);
      close(dirfd);
    }
  }
  free(child);
}

/* drain reports every event queued now; the descriptor is non-blocking. */
static void drain(void) {
  char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
  for (;;) {
    ssize_t n = read(ifd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      fail("cannot read inotify events%s", "");
    }
    for (char *p = buf; p < buf + n;) {
      const struct inotify_event *e = (const struct inotify_event *)p;
      handle_event(e);
      p += sizeof *e + e->len;
    }
  }
}

/* read_commands answers the sync requests on standard input; 0 once it is closed. */
static int read_commands(void) {
  static char line[256];
  static size_t used;
  ssize_t n = read(STDIN_FILENO, line + used, sizeof line - used - 1);
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return 0;
  used += (size_t)n;
  for (char *nl = memchr(line, '\n', used); nl != NULL; nl = memchr(line, '\n', used)) {
    *nl = '\0';
    if (line[0] == 's') {
      drain();
      put_record('S', line + 1);
    }
    used -= (size_t)(nl + 1 - line);
    memmove(line, nl + 1, used);
  }
  if (used == sizeof line - 1) used = 0; /* a line too long for a token is dropped */
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: tbuild-watch ROOT MAX_WATCHES\n");
    return 2;
  }
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  signal(SIGPIPE, SIG_DFL);
  root = argv[1];
  max_watches = strtol(argv[2], NULL, 10);
  static char out[64 * 1024];
  setvbuf(stdout, out, _IOFBF, sizeof out);
  struct stat st;
  struct statfs fs;
  if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) fail("cannot watch \"%s\": not a directory", root);
  if (statfs(root, &fs) == 0 && is_remote_fs(fs.f_type)) fail("the folder is on a network or FUSE file system%s", "");
  root_dev = st.st_dev;
  ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (ifd < 0) fail("cannot start inotify (fs.inotify.max_user_instances?)%s", "");
  /* The watch is in place before anyone reads the tree: what changes while it is being set up is reported. */
  watch_root();
  for (;;) {
    fflush(stdout);
    struct pollfd fds[2] = {{.fd = ifd, .events = POLLIN}, {.fd = STDIN_FILENO, .events = POLLIN}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      fail("cannot wait for events%s", "");
    }
    if (fds[0].revents & POLLIN) drain();
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (!read_commands()) return 0;
    }
  }
}
