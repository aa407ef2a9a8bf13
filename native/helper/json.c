/* Minimal, strict JSON reader (RFC 8259) with depth and size limits. */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 64

struct parser {
  const char *start;
  const char *p;
  const char *end;
  char *err;
  size_t errlen;
  int depth;
};

static struct json_value *parse_value(struct parser *ps);

static void fail(struct parser *ps, const char *msg) {
  if (ps->err[0] == '\0') snprintf(ps->err, ps->errlen, "%s at offset %ld", msg, (long)(ps->p - ps->start));
}

static void skip_ws(struct parser *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

static struct json_value *new_value(enum json_type type) {
  struct json_value *v = calloc(1, sizeof(*v));
  if (v != NULL) v->type = type;
  return v;
}

static int hex4(struct parser *ps, unsigned *out) {
  unsigned v = 0;
  if (ps->end - ps->p < 4) return -1;
  for (int i = 0; i < 4; i++) {
    char c = *ps->p++;
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return -1;
  }
  *out = v;
  return 0;
}

static size_t put_utf8(char *dst, unsigned cp) {
  if (cp < 0x80) { dst[0] = (char)cp; return 1; }
  if (cp < 0x800) { dst[0] = (char)(0xc0 | (cp >> 6)); dst[1] = (char)(0x80 | (cp & 0x3f)); return 2; }
  if (cp < 0x10000) {
    dst[0] = (char)(0xe0 | (cp >> 12)); dst[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    dst[2] = (char)(0x80 | (cp & 0x3f)); return 3;
  }
  dst[0] = (char)(0xf0 | (cp >> 18)); dst[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
  dst[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); dst[3] = (char)(0x80 | (cp & 0x3f));
  return 4;
}

static int parse_escape(struct parser *ps, char *out, size_t *n) {
  char c = *ps->p++;
  unsigned cp, lo;
  switch (c) {
    case '"': case '\\': case '/': out[(*n)++] = c; return 0;
    case 'b': out[(*n)++] = '\b'; return 0;
    case 'f': out[(*n)++] = '\f'; return 0;
    case 'n': out[(*n)++] = '\n'; return 0;
    case 'r': out[(*n)++] = '\r'; return 0;
    case 't': out[(*n)++] = '\t'; return 0;
    case 'u':
      if (hex4(ps, &cp) != 0) return -1;
      if (cp >= 0xd800 && cp <= 0xdbff) {
        if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u') return -1;
        ps->p += 2;
        if (hex4(ps, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff) return -1;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      } else if (cp >= 0xdc00 && cp <= 0xdfff) {
        return -1;
      }
      if (cp == 0) return -1; /* embedded NUL cannot be passed to system calls */
      *n += put_utf8(out + *n, cp);
      return 0;
    default: return -1;
  }
}

/* parse_string_raw reads a string token; the result is malloc'd. */
static char *parse_string_raw(struct parser *ps) {
  if (ps->p >= ps->end || *ps->p != '"') { fail(ps, "expected string"); return NULL; }
  ps->p++;
  const char *start = ps->p;
  /* Escapes never expand the text, so the raw length bounds the decoded one. */
  while (ps->p < ps->end && *ps->p != '"') ps->p += (*ps->p == '\\' && ps->p + 1 < ps->end) ? 2 : 1;
  if (ps->p >= ps->end) { fail(ps, "unterminated string"); return NULL; }
  size_t cap = (size_t)(ps->p - start) + 1;
  char *out = malloc(cap);
  if (out == NULL) { fail(ps, "out of memory"); return NULL; }
  size_t n = 0;
  ps->p = start;
  while (*ps->p != '"') {
    unsigned char c = (unsigned char)*ps->p;
    if (c < 0x20) { free(out); fail(ps, "control character in string"); return NULL; }
    if (c == '\\') {
      ps->p++;
      if (parse_escape(ps, out, &n) != 0) { free(out); fail(ps, "bad escape in string"); return NULL; }
      continue;
    }
    out[n++] = (char)c;
    ps->p++;
  }
  ps->p++;
  out[n] = '\0';
  return out;
}

static int push(struct json_value *v, struct json_value *item, char *key) {
  struct json_value **items = realloc(v->items, (v->count + 1) * sizeof(*items));
  if (items == NULL) return -1;
  v->items = items;
  if (v->type == JSON_OBJECT) {
    char **keys = realloc(v->keys, (v->count + 1) * sizeof(*keys));
    if (keys == NULL) return -1;
    v->keys = keys;
    v->keys[v->count] = key;
  }
  v->items[v->count++] = item;
  return 0;
}

static struct json_value *parse_container(struct parser *ps, enum json_type type) {
  char close = type == JSON_ARRAY ? ']' : '}';
  struct json_value *v = new_value(type);
  if (v == NULL) { fail(ps, "out of memory"); return NULL; }
  if (++ps->depth > JSON_MAX_DEPTH) { fail(ps, "nesting too deep"); json_free(v); return NULL; }
  ps->p++;
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == close) { ps->p++; ps->depth--; return v; }
  for (;;) {
    char *key = NULL;
    skip_ws(ps);
    if (type == JSON_OBJECT) {
      key = parse_string_raw(ps);
      if (key == NULL) break;
      skip_ws(ps);
      if (ps->p >= ps->end || *ps->p != ':') { free(key); fail(ps, "expected ':'"); break; }
      ps->p++;
    }
    struct json_value *item = parse_value(ps);
    if (item == NULL) { free(key); break; }
    if (push(v, item, key) != 0) { free(key); json_free(item); fail(ps, "out of memory"); break; }
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
    if (ps->p < ps->end && *ps->p == close) { ps->p++; ps->depth--; return v; }
    fail(ps, "expected ',' or closing bracket");
    break;
  }
  json_free(v);
  return NULL;
}

static int at_digit(const struct parser *ps) { return ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9'; }

static void skip_digits(struct parser *ps) {
  while (at_digit(ps)) ps->p++;
}

/* parse_number reads RFC 8259's number grammar (no leading zeros, no bare '.', no empty exponent) before strtod. */
static struct json_value *parse_number(struct parser *ps) {
  const char *s = ps->p;
  if (ps->p < ps->end && *ps->p == '-') ps->p++;
  if (!at_digit(ps)) { fail(ps, "bad number"); return NULL; }
  if (*ps->p++ != '0') skip_digits(ps);
  if (ps->p < ps->end && *ps->p == '.') {
    ps->p++;
    if (!at_digit(ps)) { fail(ps, "bad number"); return NULL; }
    skip_digits(ps);
  }
  if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
    ps->p++;
    if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
    if (!at_digit(ps)) { fail(ps, "bad number"); return NULL; }
    skip_digits(ps);
  }
  char buf[64];
  size_t len = (size_t)(ps->p - s);
  if (len >= sizeof(buf)) { fail(ps, "number too long"); return NULL; }
  memcpy(buf, s, len);
  buf[len] = '\0';
  char *endp = NULL;
  errno = 0;
  double d = strtod(buf, &endp);
  /* Too large for a double is refused; too small reads as 0 or a subnormal, as in Go and JavaScript. */
  if (endp != buf + len || (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL))) { fail(ps, "number out of range"); return NULL; }
  struct json_value *v = new_value(JSON_NUMBER);
  if (v == NULL) { fail(ps, "out of memory"); return NULL; }
  v->number = d;
  return v;
}

static struct json_value *parse_literal(struct parser *ps, const char *word, enum json_type type, int b) {
  size_t len = strlen(word);
  if ((size_t)(ps->end - ps->p) < len || memcmp(ps->p, word, len) != 0) { fail(ps, "bad literal"); return NULL; }
  ps->p += len;
  struct json_value *v = new_value(type);
  if (v == NULL) { fail(ps, "out of memory"); return NULL; }
  v->boolean = b;
  return v;
}

static struct json_value *parse_value(struct parser *ps) {
  skip_ws(ps);
  if (ps->p >= ps->end) { fail(ps, "unexpected end of input"); return NULL; }
  switch (*ps->p) {
    case '{': return parse_container(ps, JSON_OBJECT);
    case '[': return parse_container(ps, JSON_ARRAY);
    case '"': {
      char *s = parse_string_raw(ps);
      if (s == NULL) return NULL;
      struct json_value *v = new_value(JSON_STRING);
      if (v == NULL) { free(s); fail(ps, "out of memory"); return NULL; }
      v->string = s;
      return v;
    }
    case 't': return parse_literal(ps, "true", JSON_BOOL, 1);
    case 'f': return parse_literal(ps, "false", JSON_BOOL, 0);
    case 'n': return parse_literal(ps, "null", JSON_NULL, 0);
    default: return parse_number(ps);
  }
}

struct json_value *json_parse(const char *text, size_t len, char *err, size_t errlen) {
  struct parser ps = {text, text, text + len, err, errlen, 0};
  err[0] = '\0';
  struct json_value *v = parse_value(&ps);
  if (v == NULL) return NULL;
  skip_ws(&ps);
  if (ps.p != ps.end) { fail(&ps, "trailing data"); json_free(v); return NULL; }
  return v;
}

void json_free(struct json_value *v) {
  if (v == NULL) return;
  for (size_t i = 0; i < v->count; i++) {
    json_free(v->items[i]);
    if (v->keys != NULL) free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
  free(v->string);
  free(v);
}

const struct json_value *json_get(const struct json_value *obj, const char *key) {
  if (obj == NULL || obj->type != JSON_OBJECT) return NULL;
  /* Last duplicate wins, as in most JSON readers. */
  for (size_t i = obj->count; i > 0; i--)
    if (strcmp(obj->keys[i - 1], key) == 0) return obj->items[i - 1];
  return NULL;
}

const char *json_string(const struct json_value *v) {
  return v != NULL && v->type == JSON_STRING ? v->string : NULL;
}

int json_bool(const struct json_value *v) { return v != NULL && v->type == JSON_BOOL && v->boolean; }

int json_is_array(const struct json_value *v) { return v != NULL && v->type == JSON_ARRAY; }
