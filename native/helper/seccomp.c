/* Seccomp: not yet implemented; a spec that asks for one is refused rather than silently ignored. */
#include <stdio.h>

#include "sandbox.h"

int install_seccomp(const struct sandbox_config *cfg, char *err) {
  (void)cfg;
  snprintf(err, ERRLEN, "linux.seccomp is not supported by this sandbox yet");
  return -1;
}
