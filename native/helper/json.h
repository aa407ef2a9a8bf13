/* Minimal JSON reader: parses a document into a tree of json_value nodes. */
#ifndef TBUILD_JSON_H
#define TBUILD_JSON_H

#include <stddef.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_value {
  enum json_type type;
  int boolean;
  double number;
  char *string;              /* JSON_STRING: NUL-terminated, UTF-8 (embedded NUL rejected) */
  size_t count;              /* JSON_ARRAY / JSON_OBJECT: number of items */
  struct json_value **items; /* JSON_ARRAY / JSON_OBJECT: values */
  char **keys;               /* JSON_OBJECT: keys, same order as items */
};

/* json_parse parses text (len bytes); returns NULL and fills err on failure. */
struct json_value *json_parse(const char *text, size_t len, char *err, size_t errlen);
/* json_free releases a tree returned by json_parse. */
void json_free(struct json_value *v);
/* json_get returns the member named key of an object, or NULL. */
const struct json_value *json_get(const struct json_value *obj, const char *key);
/* json_string returns the string of v, or NULL when v is not a string. */
const char *json_string(const struct json_value *v);
/* json_bool returns 1 when v is true. */
int json_bool(const struct json_value *v);
/* json_is_array returns 1 when v is an array. */
int json_is_array(const struct json_value *v);

#endif
