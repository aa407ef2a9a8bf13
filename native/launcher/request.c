/* Encodes the launcher's build request as JSON: argv, cwd, environment, umask and the terminal facts of stdout/stderr. */
#define _GNU_SOURCE
#include "request.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

extern char **environ;

static int append(struct request_buffer *req, const char *s, size_t n) {
  if (req->len + n + 1 > req->cap) {
    size_t cap = req->cap == 0 ? 4096 : req->cap;
    while (req->len + n + 1 > cap) cap *= 2;
    char *grown = realloc(req->data, cap);
    if (grown == NULL) return -1;
    req->data = grown;
    req->cap = cap;
  }
  memcpy(req->data + req->len, s, n);
  req->len += n;
  req->data[req->len] = '\0';
  return 0;
}

static int append_text(struct request_buffer *req, const char *s) { return append(req, s, strlen(s)); }

/* append_string writes a JSON string; bytes ≥ 0x80 pass through, so UTF-8 arrives intact. */
static int append_string(struct request_buffer *req, const char *s) {
  if (append(req, "\"", 1) != 0) return -1;
  for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
    char esc[8];
    int rc;
    if (*p == '"' || *p == '\\') {
      esc[0] = '\\';
      esc[1] = (char)*p;
      rc = append(req, esc, 2);
    } else if (*p < 0x20) {
      snprintf(esc, sizeof esc, "\\u%04x", *p);
      rc = append(req, esc, 6);
    } else {
      rc = append(req, (const char *)p, 1);
    }
    if (rc != 0) return -1;
  }
  return append(req, "\"", 1);
}

/* append_stream writes {"tty":…,"columns":…,"rows":…} for one output fd. */
static int append_stream(struct request_buffer *req, int fd) {
  struct winsize ws = {0};
  int tty = isatty(fd);
  if (tty && ioctl(fd, TIOCGWINSZ, &ws) != 0) memset(&ws, 0, sizeof ws);
  char text[96];
  snprintf(text, sizeof text, "{\"tty\":%s,\"columns\":%u,\"rows\":%u}", tty ? "true" : "false", ws.ws_col, ws.ws_row);
  return append_text(req, text);
}

int build_request(struct request_buffer *req, int argc, char **argv, const char *repo, const char *node) {
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof cwd) == NULL) return -1;
  mode_t mask = umask(0);
  umask(mask);
  char text[64];
  snprintf(text, sizeof text, "{\"v\":1,\"umask\":%u,\"argv\":[", (unsigned)mask);
  int rc = append_text(req, text);
  for (int i = 1; rc == 0 && i < argc; i++) {
    if (i > 1) rc = append(req, ",", 1);
    if (rc == 0) rc = append_string(req, argv[i]);
  }
  rc = rc != 0 ? rc : append_text(req, "],\"cwd\":");
  rc = rc != 0 ? rc : append_string(req, cwd);
  rc = rc != 0 ? rc : append_text(req, ",\"repo\":");
  rc = rc != 0 ? rc : append_string(req, repo);
  rc = rc != 0 ? rc : append_text(req, ",\"node\":");
  rc = rc != 0 ? rc : append_string(req, node);
  rc = rc != 0 ? rc : append_text(req, ",\"stdout\":");
  rc = rc != 0 ? rc : append_stream(req, 1);
  rc = rc != 0 ? rc : append_text(req, ",\"stderr\":");
  rc = rc != 0 ? rc : append_stream(req, 2);
  rc = rc != 0 ? rc : append_text(req, ",\"env\":[");
  for (char **e = environ; rc == 0 && *e != NULL; e++) {
    if (e != environ) rc = append(req, ",", 1);
    if (rc == 0) rc = append_string(req, *e);
  }
  return rc != 0 ? rc : append_text(req, "]}");
}
