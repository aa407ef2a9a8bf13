/*
 * Ending what a RUN leaves behind when it has no PID namespace of its own (no process sandbox): the kernel kills a
 * namespace's processes with its PID 1, but here they are processes of tbuild's own namespace. The helper is the
 * child subreaper of the sandbox, so every process the RUN started becomes its child once its parents are gone.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

/* parent_of reads a process's parent pid from /proc/PID/stat (the field after the state, past the last ')' of the
 * command name, which may itself hold parentheses and spaces); 0 when the process is gone. */
static pid_t parent_of(const char *pid) {
  char path[64], buf[512];
  snprintf(path, sizeof(path), "/proc/%s/stat", pid);
  if (read_small_file(path, buf, sizeof(buf)) != 0) return 0;
  const char *end = strrchr(buf, ')');
  char state;
  int ppid;
  if (end == NULL || sscanf(end + 1, " %c %d", &state, &ppid) != 2) return 0;
  return (pid_t)ppid;
}

/* kill_children sends SIGKILL to every child of this process and returns how many it found. */
static int kill_children(void) {
  pid_t self = getpid();
  int found = 0;
  DIR *dir = opendir("/proc");
  if (dir == NULL) return 0;
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    if (!isdigit((unsigned char)e->d_name[0]) || parent_of(e->d_name) != self) continue;
    kill((pid_t)atoi(e->d_name), SIGKILL);
    found++;
  }
  closedir(dir);
  return found;
}

void kill_leftovers(void) {
  for (;;) {
    /* A process is reaped only after its own children were handed to this one: the next round finds them. */
    int found = kill_children();
    pid_t w = waitpid(-1, NULL, found > 0 ? 0 : WNOHANG);
    if (w < 0 && errno == EINTR) continue;
    /* None found and none to reap (ECHILD, or 0 with WNOHANG): nothing of the RUN is left. */
    if (w <= 0) return;
  }
}
