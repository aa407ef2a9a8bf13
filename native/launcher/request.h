/* The launcher's build request: JSON the resident tbuild process reads (cli/daemon-request.ts). */
#ifndef TBUILD_LAUNCHER_REQUEST_H
#define TBUILD_LAUNCHER_REQUEST_H

#include <stddef.h>

struct request_buffer {
  char *data;
  size_t len;
  size_t cap;
};

/* build_request writes {v, argv, cwd, env, umask, stdout, stderr, repo, node} into req; 0 on success. */
int build_request(struct request_buffer *req, int argc, char **argv, const char *repo, const char *node);

#endif
