/*
 * Fuzz harness for the sandbox helper's JSON reader (helper/json.c) and the config.json loader over it
 * (helper/config.c, helper/seccomp.c). Built by scripts/build-fuzz.sh with AddressSanitizer and
 * UndefinedBehaviorSanitizer; every input sits in a buffer of exactly its length, so a read past its end is caught.
 *
 *   json-fuzz random RUNS SEED [BUNDLE]  RUNS inputs mutated from built-in seeds with a seeded generator; with BUNDLE
 *                                        (a folder) each input is also loaded as BUNDLE/config.json
 *   json-fuzz check [BUNDLE]             reads inputs from stdin (4-byte little-endian length, then the bytes) and
 *                                        writes one byte per input: '1' parsed, '0' refused; with BUNDLE each is also
 *                                        loaded as a config.json, and a second byte says whether it loaded
 *
 * Built with clang's -fsanitize=fuzzer instead (FUZZ_LIBFUZZER=1), LLVMFuzzerTestOneInput is libFuzzer's entry point.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json.h"

static const char *bundle_dir;

/* walk visits a parsed tree and checks what its readers promise: every key of an object finds a value. */
static void walk(const struct json_value *v, int depth) {
  if (depth > 70) abort(); /* the reader stops at 64 */
  if (v->type == JSON_STRING && v->string == NULL) abort();
  for (size_t i = 0; i < v->count; i++) {
    if (v->type == JSON_OBJECT && json_get(v, v->keys[i]) == NULL) abort();
    walk(v->items[i], depth + 1);
  }
}

static int parse_one(const uint8_t *data, size_t size) {
  char *copy = malloc(size == 0 ? 1 : size);
  if (copy == NULL) abort();
  if (size > 0) memcpy(copy, data, size);
  char err[256];
  struct json_value *v = json_parse(copy, size, err, sizeof(err));
  if (v == NULL && err[0] == '\0') abort(); /* a refusal always says why */
  if (v != NULL) walk(v, 0);
  json_free(v);
  free(copy);
  return v != NULL;
}

/* load_one writes the input as a bundle's config.json and loads it as the helper does (its tree is kept, by design). */
static int load_one(const uint8_t *data, size_t size) {
  char path[4096];
  snprintf(path, sizeof(path), "%s/config.json", bundle_dir);
  FILE *f = fopen(path, "wb");
  if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0) { perror(path); exit(2); }
  struct sandbox_config cfg;
  char err[512];
  err[0] = '\0';
  int loaded = config_load(bundle_dir, &cfg, err, sizeof(err)) == 0;
  if (!loaded && err[0] == '\0') abort(); /* a refusal always says why */
  return loaded;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  parse_one(data, size);
  if (bundle_dir != NULL) load_one(data, size);
  return 0;
}

#ifndef TBUILD_LIBFUZZER
static const char *SEEDS[] = {
  "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\",\"readonly\":false},\"hostname\":\"h\","
  "\"process\":{\"args\":[\"/bin/sh\",\"-c\",\"true\"],\"env\":[\"A=1\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0,"
  "\"additionalGids\":[1,2]},\"capabilities\":{\"bounding\":[\"CAP_CHOWN\"],\"effective\":[\"CAP_KILL\"]},"
  "\"noNewPrivileges\":true,\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1024,\"hard\":4096}]},"
  "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\",\"options\":[\"nosuid\",\"noexec\"]},"
  "{\"destination\":\"/m\",\"type\":\"bind\",\"source\":\"/s\",\"options\":[\"rbind\",\"ro\",\"rprivate\",\"x-stage=/t\"]}],"
  "\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"pid\"},{\"type\":\"network\",\"path\":\"/n\"}],"
  "\"maskedPaths\":[\"/proc/kcore\"],\"readonlyPaths\":[\"/proc/sys\"],\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\","
  "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],\"syscalls\":[{\"names\":[\"read\",\"write\"],"
  "\"action\":\"SCMP_ACT_ALLOW\"},{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"
  "\"value\":0,\"valueTwo\":0,\"op\":\"SCMP_CMP_EQ\"}]},{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1,"
  "\"args\":[{\"index\":0,\"value\":2114060288,\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]}}}",
  "[1,-2.5e3,0.0,1E+2,true,false,null,\"\\u00e9\\ud83d\\ude00\\n\\\"\\\\\\/\\b\\f\\r\\t\",{},[],{\"a\":{\"b\":[{}]}}]",
  "{\"a\":1,\"a\":2,\"\":\"\"}",
  "\"\\u0041\"",
  "-0",
  "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
};

/* Tokens a mutation inserts: structure, escapes that decode to more or fewer bytes, edge numbers. */
static const char *TOKENS[] = {
  "{", "}", "[", "]", "\"", ",", ":", "\\", "\\u", "\\ud800", "\\udc00", "\\ud800\\udc00", "\\u0000", "\\uffff", "\\x",
  "1e999", "-1e-999", "18446744073709551616", "18446744073709551615", "4294967295", "-1", "0.5", "1.", "01", "-",
  "1e", "true", "nul", "null", " ", "\t", "\n", "\x7f", "\xc3", "\xff", "\0", "\"RLIMIT_CORE\"", "\"SCMP_CMP_GT\"",
  "\"index\":6", "\"index\":99", "\"names\":[]", "\"type\":\"bind\"", "\"options\":[\"bind\",\"\"]",
};

static uint64_t rng_state;

static uint64_t next_random(void) {
  /* xorshift64*: small and reproducible from the seed. */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 2685821657736338717ULL;
}

static size_t below(size_t n) { return n == 0 ? 0 : (size_t)(next_random() % n); }

/* mutate changes buf (len bytes, room for cap) a few times and returns the new length. */
static size_t mutate(char *buf, size_t len, size_t cap) {
  size_t rounds = 1 + below(4);
  for (size_t r = 0; r < rounds; r++) {
    size_t at = below(len + 1);
    switch (below(7)) {
      case 0: if (len > 0) buf[below(len)] = (char)below(256); break;
      case 1: { /* delete a range */
        size_t n = below(len - at + 1) % 16;
        memmove(buf + at, buf + at + n, len - at - n);
        len -= n;
        break;
      }
      case 2: { /* insert a token */
        const char *t = TOKENS[below(sizeof(TOKENS) / sizeof(TOKENS[0]))];
        size_t n = t[0] == '\0' ? 1 : strlen(t);
        if (len + n > cap) break;
        memmove(buf + at + n, buf + at, len - at);
        memcpy(buf + at, t, n);
        len += n;
        break;
      }
      case 3: { /* repeat a range */
        size_t from = below(len + 1);
        size_t n = below(len - from + 1) % 64;
        if (len + n > cap) break;
        memmove(buf + at + n, buf + at, len - at);
        memmove(buf + at, buf + (from < at ? from : from + n), n);
        len += n;
        break;
      }
      case 4: len = at; break; /* cut */
      case 5: { /* replace the number that starts at or after at with an edge number */
        static const char *NUMBERS[] = {"18446744073709551616", "18446744073709551615", "4294967295", "4294967294", "-1",
                                        "0.5", "1e308", "1e999", "9007199254740993", "2147483648", "64", "-0"};
        while (at < len && (buf[at] < '0' || buf[at] > '9')) at++;
        size_t end = at;
        while (end < len && buf[end] >= '0' && buf[end] <= '9') end++;
        const char *t = NUMBERS[below(sizeof(NUMBERS) / sizeof(NUMBERS[0]))];
        size_t n = strlen(t);
        if (at == len || len - (end - at) + n > cap) break;
        memmove(buf + at + n, buf + end, len - end);
        memcpy(buf + at, t, n);
        len = len - (end - at) + n;
        break;
      }
      default: if (len > 0) buf[below(len)] = "{}[]\",:\\0-e."[below(13)]; break;
    }
  }
  return len;
}

static int random_mode(long runs, uint64_t seed) {
  enum { CAP = 16384 };
  static char buf[CAP];
  rng_state = seed == 0 ? 0x9e3779b97f4a7c15ULL : seed;
  long parsed = 0;
  for (long i = 0; i < runs; i++) {
    const char *s = SEEDS[below(sizeof(SEEDS) / sizeof(SEEDS[0]))];
    size_t len = strlen(s);
    memcpy(buf, s, len);
    /* Mutations pile up on some inputs: a few steps away from valid JSON and many. */
    size_t steps = 1 + below(below(2) == 0 ? 3 : 40);
    for (size_t k = 0; k < steps; k++) len = mutate(buf, len, CAP);
    parsed += parse_one((const uint8_t *)buf, len);
    if (bundle_dir != NULL) load_one((const uint8_t *)buf, len);
  }
  printf("%ld inputs, %ld parsed\n", runs, parsed);
  return 0;
}

static int check_mode(void) {
  unsigned char head[4];
  while (fread(head, 1, 4, stdin) == 4) {
    size_t len = (size_t)head[0] | (size_t)head[1] << 8 | (size_t)head[2] << 16 | (size_t)head[3] << 24;
    uint8_t *data = malloc(len == 0 ? 1 : len);
    if (data == NULL || fread(data, 1, len, stdin) != len) { fprintf(stderr, "short input\n"); return 2; }
    putchar(parse_one(data, len) ? '1' : '0');
    if (bundle_dir != NULL) putchar(load_one(data, len) ? '1' : '0');
    free(data);
  }
  return fflush(stdout) == 0 ? 0 : 2;
}

int main(int argc, char **argv) {
  if (argc >= 4 && strcmp(argv[1], "random") == 0) {
    if (argc >= 5) bundle_dir = argv[4];
    return random_mode(strtol(argv[2], NULL, 10), strtoull(argv[3], NULL, 10));
  }
  if ((argc == 2 || argc == 3) && strcmp(argv[1], "check") == 0) {
    if (argc == 3) bundle_dir = argv[2];
    return check_mode();
  }
  fprintf(stderr, "usage: json-fuzz random RUNS SEED [BUNDLE] | json-fuzz check [BUNDLE]\n");
  return 2;
}
#endif
