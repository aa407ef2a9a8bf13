/* Where the resident tbuild process listens, and starting it detached when nobody does. */
#ifndef TBUILD_LAUNCHER_DAEMON_START_H
#define TBUILD_LAUNCHER_DAEMON_START_H

#include <stddef.h>

/* socket_path picks $TBUILD_DAEMON_SOCKET, /run/tbuild (root), $XDG_RUNTIME_DIR/tbuild or /tmp/tbuild-UID; 0 on success. */
int socket_path(char *out, size_t size);

/* private_dir creates the socket's folder (0700) into dir and checks nobody else can plant a socket in it; 0 if safe. */
int private_dir(const char *sock, char *dir, size_t size);

/* start_daemon starts `node entry daemon --socket sock` detached, unless another launcher just did. */
void start_daemon(const char *sock, const char *dir, const char *node, const char *entry);

#endif
