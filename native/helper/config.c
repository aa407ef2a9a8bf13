/* Loads config.json into a sandbox_config, rejecting what the sandbox cannot honour. */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "seccomp.h"

#define MAX_CONFIG (16 * 1024 * 1024)

static const char *const CAP_NAMES[] = {
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
  "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
  "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
  "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
  "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
};

static const struct { const char *name; int resource; } RLIMITS[] = {
  {"RLIMIT_AS", RLIMIT_AS}, {"RLIMIT_CORE", RLIMIT_CORE}, {"RLIMIT_CPU", RLIMIT_CPU},
  {"RLIMIT_DATA", RLIMIT_DATA}, {"RLIMIT_FSIZE", RLIMIT_FSIZE}, {"RLIMIT_LOCKS", RLIMIT_LOCKS},
  {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
  {"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_NPROC", RLIMIT_NPROC}, {"RLIMIT_RSS", RLIMIT_RSS},
  {"RLIMIT_RTPRIO", RLIMIT_RTPRIO}, {"RLIMIT_RTTIME", RLIMIT_RTTIME}, {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
  {"RLIMIT_STACK", RLIMIT_STACK},
};

static const struct { const char *name; int clear; unsigned long flag; } MOUNT_OPTS[] = {
  {"ro", 0, MS_RDONLY}, {"rw", 1, MS_RDONLY}, {"nosuid", 0, MS_NOSUID}, {"suid", 1, MS_NOSUID},
  {"nodev", 0, MS_NODEV}, {"dev", 1, MS_NODEV}, {"noexec", 0, MS_NOEXEC}, {"exec", 1, MS_NOEXEC},
  {"sync", 0, MS_SYNCHRONOUS}, {"async", 1, MS_SYNCHRONOUS}, {"dirsync", 0, MS_DIRSYNC},
  {"noatime", 0, MS_NOATIME}, {"atime", 1, MS_NOATIME}, {"nodiratime", 0, MS_NODIRATIME},
  {"diratime", 1, MS_NODIRATIME}, {"relatime", 0, MS_RELATIME}, {"norelatime", 1, MS_RELATIME},
  {"strictatime", 0, MS_STRICTATIME}, {"nostrictatime", 1, MS_STRICTATIME}, {"defaults", 0, 0},
};

static const struct { const char *name; unsigned long flag; } PROPAGATION[] = {
  {"private", MS_PRIVATE}, {"rprivate", MS_PRIVATE | MS_REC}, {"slave", MS_SLAVE},
  {"rslave", MS_SLAVE | MS_REC}, {"shared", MS_SHARED}, {"rshared", MS_SHARED | MS_REC},
  {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int bad(char *err, size_t errlen, const char *what, const char *detail) {
  /* detail may be err itself (a parser message): copy it first, as snprintf's source must not overlap its target. */
  char copy[512];
  snprintf(copy, sizeof(copy), "%s", detail ? detail : "");
  snprintf(err, errlen, "invalid config.json: %s%s%s", what, detail ? ": " : "", copy);
  return -1;
}

static int get_uint(const struct json_value *v, uint64_t max, uint64_t *out) {
  /* 2^64 is out of range although (double)UINT64_MAX rounds up to it: converting it to uint64_t is undefined. */
  if (v == NULL || v->type != JSON_NUMBER || !(v->number >= 0 && v->number < 18446744073709551616.0)) return -1;
  uint64_t n = (uint64_t)v->number;
  if ((double)n != v->number || n > max) return -1;
  *out = n;
  return 0;
}

/* string_array copies an array of strings into a NULL-terminated vector (pointers into the tree). */
static int string_array(const struct json_value *v, const char ***out, size_t *n) {
  *n = 0;
  *out = NULL;
  if (v == NULL || v->type == JSON_NULL) { *out = calloc(1, sizeof(char *)); return *out ? 0 : -1; }
  if (!json_is_array(v)) return -1;
  const char **vec = calloc(v->count + 1, sizeof(char *));
  if (vec == NULL) return -1;
  for (size_t i = 0; i < v->count; i++) {
    vec[i] = json_string(v->items[i]);
    if (vec[i] == NULL) { free(vec); return -1; }
  }
  *out = vec;
  *n = v->count;
  return 0;
}

static int cap_set(const struct json_value *v, uint64_t *out) {
  *out = 0;
  if (v == NULL || v->type == JSON_NULL) return 0;
  if (!json_is_array(v)) return -1;
  for (size_t i = 0; i < v->count; i++) {
    const char *name = json_string(v->items[i]);
    size_t c = 0;
    while (name != NULL && c < COUNT(CAP_NAMES) && strcmp(CAP_NAMES[c], name) != 0) c++;
    if (name == NULL || c == COUNT(CAP_NAMES)) return -1;
    *out |= 1ULL << c;
  }
  return 0;
}

static int load_process(const struct json_value *p, struct sandbox_config *cfg, char *err, size_t errlen) {
  size_t n;
  if (p == NULL) return bad(err, errlen, "missing process", NULL);
  cfg->terminal = json_bool(json_get(p, "terminal"));
  if (string_array(json_get(p, "args"), (const char ***)&cfg->args, &n) != 0 || n == 0)
    return bad(err, errlen, "process.args must be a non-empty string array", NULL);
  if (string_array(json_get(p, "env"), (const char ***)&cfg->env, &n) != 0)
    return bad(err, errlen, "process.env must be a string array", NULL);
  cfg->cwd = json_string(json_get(p, "cwd"));
  if (cfg->cwd == NULL || cfg->cwd[0] != '/') return bad(err, errlen, "process.cwd must be absolute", NULL);
  const struct json_value *user = json_get(p, "user");
  uint64_t id;
  if (get_uint(json_get(user, "uid"), UINT32_MAX - 1, &id) != 0) return bad(err, errlen, "process.user.uid", NULL);
  cfg->uid = (uid_t)id;
  if (get_uint(json_get(user, "gid"), UINT32_MAX - 1, &id) != 0) return bad(err, errlen, "process.user.gid", NULL);
  cfg->gid = (gid_t)id;
  const struct json_value *groups = json_get(user, "additionalGids");
  if (groups != NULL && groups->type != JSON_NULL) {
    if (!json_is_array(groups) || groups->count > NGROUPS_MAX) return bad(err, errlen, "additionalGids", NULL);
    cfg->groups = calloc(groups->count + 1, sizeof(gid_t));
    if (cfg->groups == NULL) return bad(err, errlen, "out of memory", NULL);
    for (size_t i = 0; i < groups->count; i++) {
      if (get_uint(groups->items[i], UINT32_MAX - 1, &id) != 0) return bad(err, errlen, "additionalGids", NULL);
      cfg->groups[i] = (gid_t)id;
    }
    cfg->ngroups = groups->count;
  }
  const struct json_value *caps = json_get(p, "capabilities");
  if (cap_set(json_get(caps, "bounding"), &cfg->caps.bounding) != 0 ||
      cap_set(json_get(caps, "effective"), &cfg->caps.effective) != 0 ||
      cap_set(json_get(caps, "inheritable"), &cfg->caps.inheritable) != 0 ||
      cap_set(json_get(caps, "permitted"), &cfg->caps.permitted) != 0 ||
      cap_set(json_get(caps, "ambient"), &cfg->caps.ambient) != 0)
    return bad(err, errlen, "process.capabilities has an unknown capability", NULL);
  cfg->no_new_privileges = json_bool(json_get(p, "noNewPrivileges"));
  const struct json_value *rl = json_get(p, "rlimits");
  if (rl != NULL && rl->type != JSON_NULL) {
    if (!json_is_array(rl)) return bad(err, errlen, "process.rlimits", NULL);
    cfg->rlimits = calloc(rl->count + 1, sizeof(*cfg->rlimits));
    if (cfg->rlimits == NULL) return bad(err, errlen, "out of memory", NULL);
    for (size_t i = 0; i < rl->count; i++) {
      const char *type = json_string(json_get(rl->items[i], "type"));
      size_t r = 0;
      while (type != NULL && r < COUNT(RLIMITS) && strcmp(RLIMITS[r].name, type) != 0) r++;
      if (type == NULL || r == COUNT(RLIMITS)) return bad(err, errlen, "unknown rlimit", type);
      cfg->rlimits[i].resource = RLIMITS[r].resource;
      if (get_uint(json_get(rl->items[i], "soft"), UINT64_MAX, &cfg->rlimits[i].soft) != 0 ||
          get_uint(json_get(rl->items[i], "hard"), UINT64_MAX, &cfg->rlimits[i].hard) != 0)
        return bad(err, errlen, "rlimit values", type);
    }
    cfg->nrlimits = rl->count;
  }
  return 0;
}

static int parse_mount_options(const struct json_value *opts, struct mount_entry *m) {
  size_t len = 0;
  if (opts == NULL || opts->type == JSON_NULL) return 0;
  if (!json_is_array(opts)) return -1;
  for (size_t i = 0; i < opts->count; i++) {
    const char *o = json_string(opts->items[i]);
    if (o == NULL) return -1;
    len += strlen(o) + 1;
  }
  m->data = calloc(len + 1, 1);
  if (m->data == NULL) return -1;
  for (size_t i = 0; i < opts->count; i++) {
    const char *o = json_string(opts->items[i]);
    size_t k;
    if (strcmp(o, "bind") == 0) { if (m->bind == 0) m->bind = 1; continue; }
    if (strcmp(o, "rbind") == 0) { m->bind = 2; continue; }
    if (strncmp(o, "x-stage=", 8) == 0) { m->stage = o + 8; continue; }
    if (strncmp(o, "x-basedir=", 10) == 0) { m->basedir = o + 10; continue; }
    for (k = 0; k < COUNT(MOUNT_OPTS) && strcmp(MOUNT_OPTS[k].name, o) != 0; k++) {}
    if (k < COUNT(MOUNT_OPTS)) {
      if (MOUNT_OPTS[k].clear) m->flags &= ~MOUNT_OPTS[k].flag; else m->flags |= MOUNT_OPTS[k].flag;
      continue;
    }
    for (k = 0; k < COUNT(PROPAGATION) && strcmp(PROPAGATION[k].name, o) != 0; k++) {}
    if (k < COUNT(PROPAGATION)) { m->propagation = PROPAGATION[k].flag; continue; }
    if (m->data[0] != '\0') strcat(m->data, ",");
    strcat(m->data, o);
  }
  return 0;
}

static int load_mounts(const struct json_value *ms, struct sandbox_config *cfg, char *err, size_t errlen) {
  if (ms == NULL || ms->type == JSON_NULL) return 0;
  if (!json_is_array(ms)) return bad(err, errlen, "mounts must be an array", NULL);
  cfg->mounts = calloc(ms->count + 1, sizeof(*cfg->mounts));
  if (cfg->mounts == NULL) return bad(err, errlen, "out of memory", NULL);
  for (size_t i = 0; i < ms->count; i++) {
    struct mount_entry *m = &cfg->mounts[i];
    m->tree_fd = -1;
    m->destination = json_string(json_get(ms->items[i], "destination"));
    m->type = json_string(json_get(ms->items[i], "type"));
    m->source = json_string(json_get(ms->items[i], "source"));
    if (m->destination == NULL || m->destination[0] != '/') return bad(err, errlen, "mount destination must be absolute", m->destination);
    if (parse_mount_options(json_get(ms->items[i], "options"), m) != 0) return bad(err, errlen, "mount options", m->destination);
    if (m->type != NULL && strcmp(m->type, "bind") == 0 && m->bind == 0) m->bind = 1;
    if (m->type != NULL && strcmp(m->type, "cgroup") == 0) cfg->cgroupfs = 1;
    if (m->stage != NULL && (m->stage[0] != '/' || m->source == NULL || m->source[0] != '/' || m->bind))
      return bad(err, errlen, "staged mount needs an absolute stage and source", m->destination);
    if (m->bind) {
      if (m->source == NULL || m->source[0] != '/') return bad(err, errlen, "bind source must be absolute", m->destination);
      m->readonly_bind = (m->flags & MS_RDONLY) != 0;
    }
  }
  cfg->nmounts = ms->count;
  return 0;
}

static int load_linux(const struct json_value *l, struct sandbox_config *cfg, char *err, size_t errlen) {
  const struct json_value *ns = json_get(l, "namespaces");
  if (!json_is_array(ns)) return bad(err, errlen, "linux.namespaces must be an array", NULL);
  for (size_t i = 0; i < ns->count; i++) {
    const char *type = json_string(json_get(ns->items[i], "type"));
    const char *path = json_string(json_get(ns->items[i], "path"));
    if (type == NULL) return bad(err, errlen, "namespace type", NULL);
    if (json_get(ns->items[i], "path") != NULL) {
      /* Only a network namespace is joined (the one made for the exec); the others are always new. */
      if (strcmp(type, "network") != 0 || path == NULL || path[0] != '/') return bad(err, errlen, "joining a namespace path is supported only for an absolute network path", type);
      cfg->netns_path = path;
      continue;
    }
    if (strcmp(type, "mount") == 0) cfg->namespaces |= NS_MOUNT;
    else if (strcmp(type, "pid") == 0) cfg->namespaces |= NS_PID;
    else if (strcmp(type, "uts") == 0) cfg->namespaces |= NS_UTS;
    else if (strcmp(type, "ipc") == 0) cfg->namespaces |= NS_IPC;
    else if (strcmp(type, "network") == 0) cfg->namespaces |= NS_NET;
    else return bad(err, errlen, "unsupported namespace", type);
  }
  /* Without a pid namespace (no process sandbox) the RUN shares tbuild's, and the helper ends what it leaves. */
  if (!(cfg->namespaces & NS_MOUNT)) return bad(err, errlen, "a mount namespace is required", NULL);
  if (string_array(json_get(l, "maskedPaths"), &cfg->masked, &cfg->nmasked) != 0 ||
      string_array(json_get(l, "readonlyPaths"), &cfg->readonly, &cfg->nreadonly) != 0)
    return bad(err, errlen, "maskedPaths/readonlyPaths", NULL);
  const struct json_value *sc = json_get(l, "seccomp");
  if (sc != NULL && sc->type != JSON_NULL) {
    cfg->seccomp = 1;
    if (seccomp_compile(sc, &cfg->seccomp_prog, err, errlen) != 0) return -1;
  }
  return 0;
}

static char *read_file(const char *path, size_t *len, char *err, size_t errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || st.st_size > MAX_CONFIG) {
    snprintf(err, errlen, "cannot read %s: %m", path);
    if (fd >= 0) close(fd);
    return NULL;
  }
  char *buf = malloc((size_t)st.st_size + 1);
  size_t got = 0;
  while (buf != NULL && got < (size_t)st.st_size) {
    ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
    if (r <= 0) break;
    got += (size_t)r;
  }
  close(fd);
  if (buf == NULL || got != (size_t)st.st_size) { free(buf); snprintf(err, errlen, "cannot read %s", path); return NULL; }
  *len = got;
  return buf;
}

int config_load(const char *bundle, struct sandbox_config *cfg, char *err, size_t errlen) {
  char path[PATH_MAX];
  size_t len = 0;
  memset(cfg, 0, sizeof(*cfg));
  if (snprintf(path, sizeof(path), "%s/config.json", bundle) >= (int)sizeof(path)) return bad(err, errlen, "bundle path too long", NULL);
  char *text = read_file(path, &len, err, errlen);
  if (text == NULL) return -1;
  /* The tree is kept for the life of the process: the config points into it. */
  struct json_value *doc = json_parse(text, len, err, errlen);
  free(text);
  if (doc == NULL || doc->type != JSON_OBJECT) return bad(err, errlen, "not a JSON object", err[0] ? err : NULL);
  const struct json_value *root = json_get(doc, "root");
  const char *rp = json_string(json_get(root, "path"));
  if (rp == NULL) return bad(err, errlen, "missing root.path", NULL);
  if (rp[0] == '/') cfg->root_path = rp;
  else {
    char *abs = malloc(strlen(bundle) + strlen(rp) + 2);
    if (abs == NULL) return bad(err, errlen, "out of memory", NULL);
    sprintf(abs, "%s/%s", bundle, rp);
    cfg->root_path = abs;
  }
  cfg->root_readonly = json_bool(json_get(root, "readonly"));
  cfg->hostname = json_string(json_get(doc, "hostname"));
  if (load_process(json_get(doc, "process"), cfg, err, errlen) != 0) return -1;
  if (load_mounts(json_get(doc, "mounts"), cfg, err, errlen) != 0) return -1;
  return load_linux(json_get(doc, "linux"), cfg, err, errlen);
}
