/* Writing the launcher's frames: 1 byte type, 4 bytes big-endian length, payload. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frames.h"

int write_full(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = fd < 3 ? write(fd, p, len) : send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      /* A terminal or pipe another process made non-blocking: wait until it takes more. */
      struct pollfd out = {.fd = fd, .events = POLLOUT};
      poll(&out, 1, -1);
      continue;
    }
    if (n <= 0) return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int send_frame(int fd, char type, const void *payload, uint32_t len) {
  unsigned char header[FRAME_HEADER] = {(unsigned char)type, len >> 24, len >> 16, len >> 8, len};
  return write_full(fd, header, sizeof header) == 0 && write_full(fd, payload, len) == 0 ? 0 : -1;
}
