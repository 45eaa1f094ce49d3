/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * retisc JSON values.
 *
 * Why not jansson: jansson's json_int_t is a signed 64-bit integer and its
 * parser rejects any integer above INT64_MAX ("too big integer"). Every Retis
 * event file carries kernel addresses (u64 >= 2^63, e.g. 18446619372617628672)
 * that must be read and written exactly (doc/events.md §3). This small DOM keeps
 * integers as an unsigned magnitude plus a sign, keeps object keys in
 * insertion order (doc/events.md requires a fixed key order) and writes exactly
 * the escaping doc/events.md §3 specifies.
 *
 * Ownership: every constructor returns a new value owned by the caller.
 * Container setters (retisc_json__obj_set(), __obj_insert(), __arr_append())
 * take ownership of the value they are given, even when they fail, so callers
 * never free after handing a value over. Getters return borrowed pointers that
 * stay valid until the container is modified or freed.
 *
 * Threading: a value is not thread-safe; distinct values may be used from
 * distinct threads concurrently (no global state).
 *
 * Errors: constructors return NULL and set errno (ENOMEM, EINVAL); int
 * functions return 0 or a negative errno. Destructors accept NULL.
 *
 * Plugins do not link against the retisc binary: they reach these functions
 * through struct retisc_api (retisc/plugin.h), which points at them.
 */
#ifndef __RETISC_JSON_H
#define __RETISC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#ifdef __cplusplus
extern "C" {
#endif

enum retisc_json_type {
	RETISC_JSON_NULL = 0,
	RETISC_JSON_BOOL,
	RETISC_JSON_UINT,   /* integer >= 0, full u64 range */
	RETISC_JSON_INT,    /* integer < 0, down to INT64_MIN */
	RETISC_JSON_DOUBLE, /* a number with a fraction or an exponent */
	RETISC_JSON_STRING,
	RETISC_JSON_ARRAY,
	RETISC_JSON_OBJECT,
};

struct retisc_json;

struct retisc_json *retisc_json__new_object(void);
struct retisc_json *retisc_json__new_array(void);
struct retisc_json *retisc_json__new_null(void);
struct retisc_json *retisc_json__new_bool(bool v);
struct retisc_json *retisc_json__new_u64(uint64_t v);
/* Negative values become RETISC_JSON_INT, others RETISC_JSON_UINT. */
struct retisc_json *retisc_json__new_i64(int64_t v);
struct retisc_json *retisc_json__new_double(double v);
/* Copies s (NUL-terminated). The bytes are stored as given. */
struct retisc_json *retisc_json__new_str(const char *s);
/* Copies n bytes of s; s may contain NUL bytes. */
struct retisc_json *retisc_json__new_strn(const char *s, size_t n);
/*
 * Kernel strings (doc/events.md §3): cut at the first NUL within n bytes, then
 * replace every invalid UTF-8 sequence by U+FFFD.
 */
struct retisc_json *retisc_json__new_str_lossy(const char *s, size_t n);
/* Deep copy. NULL + errno on failure. */
struct retisc_json *retisc_json__copy(const struct retisc_json *v);
/* Recursive free. Accepts NULL. */
void retisc_json__free(struct retisc_json *v);
/*
 * Parse arena of the calling thread (doc/processing.md §1.1). Between
 * __arena_begin() and __arena_end(), the values this thread builds (parsed
 * or not) are carved from one arena, retisc_json__free() of them costs
 * nothing, and __arena_end() releases them all at once: none may be used
 * after it. Values built before __arena_begin() may be read and freed in
 * between, but neither modified nor put into arena values.
 * __arena_begin(): 0, -EBUSY (already begun) or -ENOMEM.
 */
int retisc_json__arena_begin(void);
void retisc_json__arena_end(void);

/* Type of v; RETISC_JSON_NULL for a NULL pointer. */
enum retisc_json_type retisc_json__type(const struct retisc_json *v);
bool retisc_json__is_object(const struct retisc_json *v);
bool retisc_json__is_array(const struct retisc_json *v);

/* Scalar getters: return false (and leave *out alone) on a type mismatch.
 * __get_u64 accepts UINT; __get_i64 accepts INT and UINT <= INT64_MAX;
 * __get_double accepts every number. */
bool retisc_json__get_u64(const struct retisc_json *v, uint64_t *out);
bool retisc_json__get_i64(const struct retisc_json *v, int64_t *out);
bool retisc_json__get_double(const struct retisc_json *v, double *out);
bool retisc_json__get_bool(const struct retisc_json *v, bool *out);
/* Borrowed string (NUL-terminated; *len, if given, gets its length), or NULL
 * when v is not a string. */
const char *retisc_json__get_str(const struct retisc_json *v, size_t *len);

/*
 * Objects keep insertion order. __obj_set replaces the value of an existing
 * key in place (same position) or appends the key. __obj_insert puts a new key
 * at position pos (clamped to the length); -EEXIST if the key exists (v is
 * freed). Both take ownership of v; -EINVAL if obj is not an object or v is
 * NULL; -ENOMEM.
 */
int retisc_json__obj_set(struct retisc_json *obj, const char *key, struct retisc_json *v);
int retisc_json__obj_insert(struct retisc_json *obj, size_t pos, const char *key,
			    struct retisc_json *v);
/* Borrowed value of key, NULL if absent or obj is not an object. */
struct retisc_json *retisc_json__obj_get(const struct retisc_json *obj, const char *key);
/* Remove key and return its value, now owned by the caller (NULL if absent). */
struct retisc_json *retisc_json__obj_take(struct retisc_json *obj, const char *key);
/* Remove and free key's value: 0 or -ENOENT. */
int retisc_json__obj_del(struct retisc_json *obj, const char *key);
size_t retisc_json__obj_len(const struct retisc_json *obj);
/* i-th key / value (i < len), borrowed. */
const char *retisc_json__obj_key(const struct retisc_json *obj, size_t i);
struct retisc_json *retisc_json__obj_val(const struct retisc_json *obj, size_t i);

/* Convenience: typed lookups of a member; false if absent or mistyped. */
bool retisc_json__obj_get_u64(const struct retisc_json *obj, const char *key, uint64_t *out);
bool retisc_json__obj_get_i64(const struct retisc_json *obj, const char *key, int64_t *out);
bool retisc_json__obj_get_bool(const struct retisc_json *obj, const char *key, bool *out);
const char *retisc_json__obj_get_str(const struct retisc_json *obj, const char *key);

/* Shortcuts that build the value and __obj_set it: 0 or negative errno. */
int retisc_json__obj_set_u64(struct retisc_json *obj, const char *key, uint64_t v);
int retisc_json__obj_set_i64(struct retisc_json *obj, const char *key, int64_t v);
int retisc_json__obj_set_bool(struct retisc_json *obj, const char *key, bool v);
int retisc_json__obj_set_str(struct retisc_json *obj, const char *key, const char *s);

/* Arrays. __arr_append takes ownership of v (freed on failure). */
int retisc_json__arr_append(struct retisc_json *arr, struct retisc_json *v);
size_t retisc_json__arr_len(const struct retisc_json *arr);
struct retisc_json *retisc_json__arr_get(const struct retisc_json *arr, size_t i);

/*
 * Parse one JSON text of len bytes (no NUL needed). Whitespace around the
 * value is allowed, anything else after it is an error. Integers keep the full
 * u64 / i64 range; out of range is an error. On failure returns NULL, sets
 * errno to EINVAL (syntax) or ENOMEM and, if err is not NULL, writes a
 * message such as "expected ':' at column 17" into err (errsz bytes, always
 * NUL-terminated; columns count bytes from 1).
 */
struct retisc_json *retisc_json__parse(const char *s, size_t len, char *err, size_t errsz);

/*
 * Append the compact serialisation of v (doc/events.md §3: no whitespace, keys in
 * order, u64 exact, strings escaped as \" \\ \b \f \n \r \t and \u00xx for
 * other control characters, everything else verbatim). 0 or -ENOMEM/-EINVAL.
 */
int retisc_json__dump(const struct retisc_json *v, struct retisc_strbuf *sb);
/* Append s (n bytes) as a quoted JSON string with the escaping above. */
int retisc_json__dump_str(struct retisc_strbuf *sb, const char *s, size_t n);
/* The same for the string retisc_json__new_str_lossy(s, n) would hold. */
int retisc_json__dump_str_lossy(struct retisc_strbuf *sb, const char *s, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* __RETISC_JSON_H */
