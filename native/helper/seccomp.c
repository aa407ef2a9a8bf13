/*
 * Seccomp: compiles linux.seccomp (defaultAction, defaultErrnoRet, architectures, syscalls[{names, action,
 * errnoRet?, args?}]) into classic BPF, and installs it.
 *
 * Layout: dispatch on seccomp_data.arch to one section per listed architecture (x32 syscalls arrive with arch
 * x86_64 and the __X32_SYSCALL_BIT set); a foreign architecture is killed. Each section tests the rules in spec
 * order; a rule whose argument conditions fail falls through to the next one, and the section ends with the
 * default action. Names unknown to an architecture's table are skipped, as runc does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"
#include "seccomp.h"
#include "syscall-table.h"

#define MAX_INSNS 4096
#define MAX_LABELS 8192
#define X32_SYSCALL_BIT 0x40000000U
#define NO_LABEL (-1)
#define ARG_LO(i) ((uint32_t)offsetof(struct seccomp_data, args) + 8U * (uint32_t)(i))
#define ARG_HI(i) (ARG_LO(i) + 4U)

struct assembler {
  struct sock_filter ins[MAX_INSNS];
  int jt[MAX_INSNS], jf[MAX_INSNS], ja[MAX_INSNS];
  int labels[MAX_LABELS];
  int len, nlabels, overflow;
};

struct arch_section {
  const char *name;
  uint32_t audit_arch;
  const struct syscall_entry *table;
  int label;
};

static int new_label(struct assembler *a) {
  if (a->nlabels == MAX_LABELS) { a->overflow = 1; return 0; }
  a->labels[a->nlabels] = -1;
  return a->nlabels++;
}

static void place(struct assembler *a, int label) { a->labels[label] = a->len; }

static void emit(struct assembler *a, uint16_t code, uint32_t k, int jt, int jf, int ja) {
  if (a->len == MAX_INSNS) { a->overflow = 1; return; }
  a->ins[a->len] = (struct sock_filter)BPF_STMT(code, k);
  a->jt[a->len] = jt;
  a->jf[a->len] = jf;
  a->ja[a->len] = ja;
  a->len++;
}

static void load(struct assembler *a, uint32_t offset) { emit(a, BPF_LD | BPF_W | BPF_ABS, offset, NO_LABEL, NO_LABEL, NO_LABEL); }
static void ret(struct assembler *a, uint32_t action) { emit(a, BPF_RET | BPF_K, action, NO_LABEL, NO_LABEL, NO_LABEL); }
static void jump(struct assembler *a, uint16_t op, uint32_t k, int jt, int jf) { emit(a, BPF_JMP | op | BPF_K, k, jt, jf, NO_LABEL); }

static int resolve(struct assembler *a, char *err, size_t errlen) {
  if (a->overflow) { snprintf(err, errlen, "seccomp: filter exceeds %d instructions", MAX_INSNS); return -1; }
  for (int i = 0; i < a->len; i++) {
    int targets[3] = {a->jt[i], a->jf[i], a->ja[i]};
    long off[3] = {0, 0, 0};
    for (int t = 0; t < 3; t++) {
      if (targets[t] == NO_LABEL) continue;
      off[t] = (long)a->labels[targets[t]] - (i + 1);
      if (a->labels[targets[t]] < 0 || off[t] < 0 || (t < 2 && off[t] > 255)) {
        snprintf(err, errlen, "seccomp: cannot encode jump at instruction %d", i);
        return -1;
      }
    }
    if (a->ja[i] != NO_LABEL) a->ins[i].k = (uint32_t)off[2];
    a->ins[i].jt = (uint8_t)off[0];
    a->ins[i].jf = (uint8_t)off[1];
  }
  return 0;
}

static int parse_action(const char *name, uint32_t errno_ret, uint32_t *out) {
  static const struct { const char *name; uint32_t action; int with_data; } ACTIONS[] = {
    {"SCMP_ACT_ALLOW", SECCOMP_RET_ALLOW, 0}, {"SCMP_ACT_ERRNO", SECCOMP_RET_ERRNO, 1},
    {"SCMP_ACT_KILL", SECCOMP_RET_KILL_THREAD, 0}, {"SCMP_ACT_KILL_THREAD", SECCOMP_RET_KILL_THREAD, 0},
    {"SCMP_ACT_KILL_PROCESS", SECCOMP_RET_KILL_PROCESS, 0}, {"SCMP_ACT_TRAP", SECCOMP_RET_TRAP, 0},
    {"SCMP_ACT_TRACE", SECCOMP_RET_TRACE, 1}, {"SCMP_ACT_LOG", SECCOMP_RET_LOG, 0},
  };
  for (size_t i = 0; name != NULL && i < sizeof(ACTIONS) / sizeof(ACTIONS[0]); i++) {
    if (strcmp(ACTIONS[i].name, name) != 0) continue;
    *out = ACTIONS[i].action | (ACTIONS[i].with_data ? (errno_ret & SECCOMP_RET_DATA) : 0);
    return 0;
  }
  return -1;
}

static int get_u64(const struct json_value *v, uint64_t dflt, uint64_t *out) {
  if (v == NULL || v->type == JSON_NULL) { *out = dflt; return 0; }
  if (v->type != JSON_NUMBER || v->number < 0 || v->number > 18446744073709549568.0) return -1;
  *out = (uint64_t)v->number;
  return 0;
}

/* emit_arg tests one argument condition; on failure jumps to fail. A is clobbered. */
static int emit_arg(struct assembler *a, const struct json_value *arg, int fail) {
  uint64_t index, value, two;
  const char *op = json_string(json_get(arg, "op"));
  if (get_u64(json_get(arg, "index"), 0, &index) != 0 || index > 5 || op == NULL ||
      get_u64(json_get(arg, "value"), 0, &value) != 0 || get_u64(json_get(arg, "valueTwo"), 0, &two) != 0)
    return -1;
  uint32_t hi = (uint32_t)(value >> 32), lo = (uint32_t)value;
  int ok = new_label(a);
  load(a, ARG_HI(index));
  if (strcmp(op, "SCMP_CMP_EQ") == 0) {
    jump(a, BPF_JEQ, hi, NO_LABEL, fail); load(a, ARG_LO(index)); jump(a, BPF_JEQ, lo, NO_LABEL, fail);
  } else if (strcmp(op, "SCMP_CMP_NE") == 0) {
    jump(a, BPF_JEQ, hi, NO_LABEL, ok); load(a, ARG_LO(index)); jump(a, BPF_JEQ, lo, fail, NO_LABEL);
  } else if (strcmp(op, "SCMP_CMP_MASKED_EQ") == 0) {
    emit(a, BPF_ALU | BPF_AND | BPF_K, hi, NO_LABEL, NO_LABEL, NO_LABEL);
    jump(a, BPF_JEQ, (uint32_t)(two >> 32), NO_LABEL, fail);
    load(a, ARG_LO(index));
    emit(a, BPF_ALU | BPF_AND | BPF_K, lo, NO_LABEL, NO_LABEL, NO_LABEL);
    jump(a, BPF_JEQ, (uint32_t)two, NO_LABEL, fail);
  } else if (strcmp(op, "SCMP_CMP_GT") == 0 || strcmp(op, "SCMP_CMP_GE") == 0) {
    jump(a, BPF_JGT, hi, ok, NO_LABEL); jump(a, BPF_JEQ, hi, NO_LABEL, fail); load(a, ARG_LO(index));
    jump(a, strcmp(op, "SCMP_CMP_GT") == 0 ? BPF_JGT : BPF_JGE, lo, NO_LABEL, fail);
  } else if (strcmp(op, "SCMP_CMP_LT") == 0 || strcmp(op, "SCMP_CMP_LE") == 0) {
    jump(a, BPF_JGE, hi, NO_LABEL, ok); jump(a, BPF_JEQ, hi, NO_LABEL, fail); load(a, ARG_LO(index));
    jump(a, strcmp(op, "SCMP_CMP_LT") == 0 ? BPF_JGE : BPF_JGT, lo, fail, NO_LABEL);
  } else {
    return -1;
  }
  place(a, ok);
  return 0;
}

static long lookup(const struct syscall_entry *table, const char *name) {
  for (; table->name != NULL; table++)
    if (strcmp(table->name, name) == 0) return table->nr;
  return -1;
}

static int emit_rules(struct assembler *a, const struct json_value *rules, const struct syscall_entry *table,
                      uint32_t default_errno, char *err, size_t errlen) {
  for (size_t r = 0; rules != NULL && r < rules->count; r++) {
    const struct json_value *rule = rules->items[r], *names = json_get(rule, "names"), *args = json_get(rule, "args");
    uint64_t errno_ret;
    uint32_t action;
    if (get_u64(json_get(rule, "errnoRet"), default_errno, &errno_ret) != 0 ||
        parse_action(json_string(json_get(rule, "action")), (uint32_t)errno_ret, &action) != 0) {
      snprintf(err, errlen, "seccomp: unsupported action in rule %zu", r);
      return -1;
    }
    if (!json_is_array(names)) { snprintf(err, errlen, "seccomp: rule %zu has no names", r); return -1; }
    for (size_t n = 0; n < names->count; n++) {
      const char *name = json_string(names->items[n]);
      long nr = name == NULL ? -1 : lookup(table, name);
      if (nr < 0) continue;
      int next = new_label(a), fail = new_label(a);
      jump(a, BPF_JEQ, (uint32_t)nr, NO_LABEL, next);
      for (size_t i = 0; json_is_array(args) && i < args->count; i++) {
        if (emit_arg(a, args->items[i], fail) != 0) {
          snprintf(err, errlen, "seccomp: bad argument condition for %s", name);
          return -1;
        }
      }
      ret(a, action);
      place(a, fail);
      if (json_is_array(args) && args->count > 0) load(a, offsetof(struct seccomp_data, nr));
      place(a, next);
    }
  }
  return 0;
}

int seccomp_compile(const struct json_value *spec, struct seccomp_program *out, char *err, size_t errlen) {
  struct arch_section sections[] = {
    {"SCMP_ARCH_X86_64", AUDIT_ARCH_X86_64, syscalls_x86_64, -1},
    {"SCMP_ARCH_X86", AUDIT_ARCH_I386, syscalls_i386, -1},
    {"SCMP_ARCH_X32", AUDIT_ARCH_X86_64, syscalls_x32, -1},
  };
  enum { X86_64, I386, X32, NSECTIONS };
  uint64_t default_errno;
  uint32_t default_action;
  const struct json_value *arches = json_get(spec, "architectures"), *rules = json_get(spec, "syscalls");
  if (get_u64(json_get(spec, "defaultErrnoRet"), EPERM, &default_errno) != 0 ||
      parse_action(json_string(json_get(spec, "defaultAction")), (uint32_t)default_errno, &default_action) != 0)
    return snprintf(err, errlen, "seccomp: unsupported defaultAction"), -1;
  if (rules != NULL && rules->type != JSON_NULL && !json_is_array(rules))
    return snprintf(err, errlen, "seccomp: syscalls must be an array"), -1;
  struct assembler *a = calloc(1, sizeof(*a));
  if (a == NULL) return snprintf(err, errlen, "seccomp: out of memory"), -1;
  int wanted[NSECTIONS] = {!json_is_array(arches) || arches->count == 0, 0, 0};
  for (size_t i = 0; json_is_array(arches) && i < arches->count; i++)
    for (int s = 0; s < NSECTIONS; s++)
      if (json_string(arches->items[i]) != NULL && strcmp(json_string(arches->items[i]), sections[s].name) == 0) wanted[s] = 1;
  wanted[X86_64] |= wanted[X32]; /* x32 calls are made under the x86_64 audit arch */
  if (sections[X86_64].table[0].name == NULL || (!wanted[X86_64] && !wanted[I386])) {
    free(a);
    return snprintf(err, errlen, "seccomp: none of the listed architectures is supported on this host"), -1;
  }
  for (int s = 0; s < NSECTIONS; s++) sections[s].label = wanted[s] ? new_label(a) : -1;
  load(a, offsetof(struct seccomp_data, arch));
  for (int s = X86_64; s <= I386; s++) {
    if (!wanted[s]) continue;
    int skip = new_label(a);
    jump(a, BPF_JEQ, sections[s].audit_arch, NO_LABEL, skip);
    emit(a, BPF_JMP | BPF_JA, 0, NO_LABEL, NO_LABEL, sections[s].label);
    place(a, skip);
  }
  ret(a, SECCOMP_RET_KILL_PROCESS);
  for (int s = 0; s < NSECTIONS; s++) {
    if (!wanted[s]) continue;
    place(a, sections[s].label);
    if (s != X32) load(a, offsetof(struct seccomp_data, nr));
    if (s == X86_64) {
      int native = new_label(a);
      jump(a, BPF_JGE, X32_SYSCALL_BIT, NO_LABEL, native);
      if (wanted[X32]) emit(a, BPF_JMP | BPF_JA, 0, NO_LABEL, NO_LABEL, sections[X32].label);
      else ret(a, SECCOMP_RET_KILL_PROCESS);
      place(a, native);
    }
    if (emit_rules(a, rules, sections[s].table, (uint32_t)default_errno, err, errlen) != 0) { free(a); return -1; }
    ret(a, default_action);
  }
  if (resolve(a, err, errlen) != 0) { free(a); return -1; }
  out->filter = malloc(sizeof(struct sock_filter) * (size_t)a->len);
  if (out->filter == NULL) { free(a); return snprintf(err, errlen, "seccomp: out of memory"), -1; }
  memcpy(out->filter, a->ins, sizeof(struct sock_filter) * (size_t)a->len);
  out->len = (unsigned short)a->len;
  free(a);
  return 0;
}

int install_seccomp(const struct sandbox_config *cfg, char *err) {
  struct sock_fprog prog = {cfg->seccomp_prog.len, cfg->seccomp_prog.filter};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0) return 0;
  if (errno == ENOSYS && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0) return 0;
  snprintf(err, ERRLEN, "install seccomp filter: %s", strerror(errno));
  return -1;
}
