#!/bin/sh
# Writes a C table of syscall names and numbers for one architecture from the kernel's uapi header.
# Usage: gen-syscalls.sh CC HEADER TABLE > out.c   (HEADER like asm/unistd_64.h; a missing header gives an empty table)
set -eu
cc=$1 header=$2 table=$3
printf '/* Generated from <%s> by gen-syscalls.sh; do not edit. */\n' "$header"
printf '#include "syscall-table.h"\n'
names=$(printf '#include <%s>\n' "$header" | $cc -E -dM -x c - 2>/dev/null \
  | sed -n 's/^#define __NR_\([a-z0-9_]*\) .*/\1/p' | sort -u || true)
if [ -n "$names" ]; then printf '#include <asm/unistd.h> /* __X32_SYSCALL_BIT */\n#include <%s>\n' "$header"; fi
printf 'const struct syscall_entry %s[] = {\n' "$table"
for n in $names; do printf '  {"%s", __NR_%s},\n' "$n" "$n"; done
printf '  {0, 0},\n};\n'
