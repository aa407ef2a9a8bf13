#!/bin/sh
# Builds the fuzz harness of the helper's JSON reader and config loader (fuzz/json-fuzz.c) into OUT (default
# build/fuzz) with AddressSanitizer and UndefinedBehaviorSanitizer (float-cast-overflow too, which -fsanitize=undefined
# leaves out in gcc); any finding aborts. With FUZZ_LIBFUZZER=1 and a clang that has libFuzzer, it also builds
# OUT/json-libfuzzer, to run as `json-libfuzzer -max_total_time=60 CORPUS_DIR`.
set -eu
cd "$(dirname "$0")/.."
OUT="${1:-build/fuzz}"
CC="${CC:-cc}"
mkdir -p "$OUT"
make -s build/syscalls-x86_64.c build/syscalls-i386.c build/syscalls-x32.c
SRCS="fuzz/json-fuzz.c helper/json.c helper/config.c helper/seccomp.c build/syscalls-x86_64.c build/syscalls-i386.c build/syscalls-x32.c"
FLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all -Wall -Wextra -Wno-unused-parameter -Ihelper"
# shellcheck disable=SC2086
$CC $FLAGS -o "$OUT/json-fuzz" $SRCS
if [ "${FUZZ_LIBFUZZER:-0}" = 1 ]; then
  # shellcheck disable=SC2086
  clang $FLAGS -fsanitize=fuzzer -DTBUILD_LIBFUZZER -o "$OUT/json-libfuzzer" $SRCS
fi
