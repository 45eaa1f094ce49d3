/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Compact JSON written straight into a retisc_strbuf, for section encoders
 * (retisc_section_desc.encode): the bytes retisc_json__dump() writes for
 * the same values (doc/events.md §3), without building nodes.
 *
 * Header-only like strbuf.h: plugins do not link against the retisc binary,
 * and the core's own serialiser (core/events/json.c) uses the same integer
 * code, so both sides format numbers identically.
 *
 * Keys given to retisc_json_text__key() are literals that need no escaping
 * (no '"', '\\' or control characters), as every event key is. Functions
 * return 0 or -ENOMEM (the buffer then holds a partial value: callers drop
 * the whole text).
 */
#ifndef __RETISC_JSON_TEXT_H
#define __RETISC_JSON_TEXT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "strbuf.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Write the decimal digits of u ending at end; returns the first. Two
 * digits per step, in 32-bit arithmetic once the value fits: kernel
 * addresses have twenty digits.
 */
static inline char *retisc_json_text__digits(char *end, uint64_t u)
{
	static const char pairs[] = "00010203040506070809101112131415161718192021222324"
				    "25262728293031323334353637383940414243444546474849"
				    "50515253545556575859606162636465666768697071727374"
				    "75767778798081828384858687888990919293949596979899";
	char *p = end;
	uint32_t v;

	while (u > UINT32_MAX) {
		/* Eight digits of the low part, then go on with the rest. */
		v = (uint32_t)(u % 100000000);
		u /= 100000000;
		for (int i = 0; i < 4; i++) {
			p -= 2;
			memcpy(p, pairs + 2 * (v % 100), 2);
			v /= 100;
		}
	}
	v = (uint32_t)u;
	while (v >= 100) {
		p -= 2;
		memcpy(p, pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, pairs + 2 * v, 2);
	} else {
		*--p = (char)('0' + v);
	}
	return p;
}

/* An integer: magnitude u, with a minus sign when neg. */
static inline int retisc_json_text__uint(struct retisc_strbuf *sb, uint64_t u, bool neg)
{
	char buf[21], *p = retisc_json_text__digits(buf + sizeof(buf), u);
	size_t n;

	if (neg)
		*--p = '-';
	n = (size_t)(buf + sizeof(buf) - p);
	if (retisc_strbuf__reserve(sb, n))
		return -ENOMEM;
	memcpy(sb->buf + sb->len, p, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
	return 0;
}

static inline int retisc_json_text__u64(struct retisc_strbuf *sb, uint64_t u)
{
	return retisc_json_text__uint(sb, u, false);
}

static inline int retisc_json_text__i64(struct retisc_strbuf *sb, int64_t i)
{
	/* Negating INT64_MIN as a signed value would overflow. */
	return retisc_json_text__uint(sb, i < 0 ? -(uint64_t)i : (uint64_t)i, i < 0);
}

static inline int retisc_json_text__bool(struct retisc_strbuf *sb, bool b)
{
	return b ? retisc_strbuf__append(sb, "true", 4) : retisc_strbuf__append(sb, "false", 5);
}

/* `"key":`, after a ',' unless first (the first member of an object). */
static inline int retisc_json_text__key(struct retisc_strbuf *sb, const char *key, bool first)
{
	size_t n = strlen(key);
	char *d;

	if (retisc_strbuf__reserve(sb, n + 4))
		return -ENOMEM;
	d = sb->buf + sb->len;
	if (!first)
		*d++ = ',';
	*d++ = '"';
	memcpy(d, key, n);
	d += n;
	*d++ = '"';
	*d++ = ':';
	*d = '\0';
	sb->len = (size_t)(d - sb->buf);
	return 0;
}

/* `"key":u` (after a ',' unless first). */
static inline int retisc_json_text__key_u64(struct retisc_strbuf *sb, const char *key, bool first,
					    uint64_t u)
{
	return retisc_json_text__key(sb, key, first) ?: retisc_json_text__u64(sb, u);
}

#ifdef __cplusplus
}
#endif

#endif /* __RETISC_JSON_TEXT_H */
