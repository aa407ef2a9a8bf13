/* Writing the launcher's frames: 1 byte type, 4 bytes big-endian length, payload. */
#ifndef TBUILD_LAUNCHER_FRAMES_H
#define TBUILD_LAUNCHER_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_HEADER 5

/* write_full writes all of buf (sockets without SIGPIPE; waits on non-blocking stdio); 0 on success. */
int write_full(int fd, const void *buf, size_t len);

/* send_frame writes one frame; 0 on success. */
int send_frame(int fd, char type, const void *payload, uint32_t len);

#endif
