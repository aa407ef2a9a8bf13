/* Compiles the OCI runtime-spec linux.seccomp section into a classic BPF program. */
#ifndef TBUILD_SECCOMP_H
#define TBUILD_SECCOMP_H

#include <stddef.h>

#include "config.h"
#include "json.h"

/* seccomp_compile builds the filter for spec (a linux.seccomp object); returns 0 or -1 with err filled. */
int seccomp_compile(const struct json_value *spec, struct seccomp_program *out, char *err, size_t errlen);

#endif
