/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * retisc string buffer: a growable NUL-terminated string.
 *
 * Header-only on purpose: the core and every plugin (which does not link
 * against the retisc binary) share this exact code, and a buffer allocated on
 * one side can be grown or released on the other (both use libc malloc).
 *
 * Zero-initialise (RETISC_STRBUF_INIT) before use. buf is NULL until the
 * first append; len excludes the NUL. Appending functions return 0 or
 * -ENOMEM, in which case the buffer is unchanged. Not thread-safe.
 */
#ifndef __RETISC_STRBUF_H
#define __RETISC_STRBUF_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

struct retisc_strbuf {
	char *buf;
	size_t len;
	size_t cap;
};

#define RETISC_STRBUF_INIT                                                                         \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

/* Make room for extra more bytes plus the NUL. 0 or -ENOMEM. */
static inline int retisc_strbuf__reserve(struct retisc_strbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1, cap;
	char *p;

	if (need <= sb->cap)
		return 0;
	cap = sb->cap ? sb->cap : 64;
	while (cap < need)
		cap *= 2;
	p = (char *)realloc(sb->buf, cap);
	if (!p)
		return -ENOMEM;
	sb->buf = p;
	sb->cap = cap;
	return 0;
}

/*
 * memcpy() for the short pieces renderers append by the dozen per event
 * (numbers, names, separators): two overlapping loads and stores instead
 * of a call into libc, which costs more than the copy at these sizes.
 */
static __attribute__((noinline, unused)) void retisc_strbuf__copy_long(char *d, const char *s,
								       size_t n)
{
	/* Out of line: inlined, compilers check its bounds against callers'
	 * small buffers on a path that cannot run. */
	memcpy(d, s, n);
}

static inline void retisc_strbuf__copy(char *d, const char *s, size_t n)
{
	if (n > 16) {
		retisc_strbuf__copy_long(d, s, n);
	} else if (n >= 8) {
		uint64_t a, b;

		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &b, 8);
	} else if (n >= 4) {
		uint32_t a, b;

		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		memcpy(d, &a, 4);
		memcpy(d + n - 4, &b, 4);
	} else if (n) {
		d[0] = s[0];
		d[n / 2] = s[n / 2];
		d[n - 1] = s[n - 1];
	}
}

/* Append n bytes of s (s may hold NULs). */
static inline int retisc_strbuf__append(struct retisc_strbuf *sb, const char *s, size_t n)
{
	if (retisc_strbuf__reserve(sb, n))
		return -ENOMEM;
	retisc_strbuf__copy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
	return 0;
}

static inline int retisc_strbuf__puts(struct retisc_strbuf *sb, const char *s)
{
	return retisc_strbuf__append(sb, s, strlen(s));
}

static inline int retisc_strbuf__putc(struct retisc_strbuf *sb, char c)
{
	return retisc_strbuf__append(sb, &c, 1);
}

/*
 * v in base 10 or 16 (lower case) with at least width digits (zero-padded,
 * at most 24): printf's %llu / %0*llx without its setup, which costs more
 * than the formatting on print's hot paths. 0 or -ENOMEM.
 */
static inline int retisc_strbuf__put_num(struct retisc_strbuf *sb, uint64_t v, unsigned int base,
					 unsigned int width)
{
	char buf[24], *q = buf + sizeof(buf);

	/* Constant divisors: a division by a variable base is a slow div. */
	if (base == 16) {
		do {
			*--q = "0123456789abcdef"[v & 0xf];
			v >>= 4;
		} while (v);
	} else {
		do {
			*--q = (char)('0' + v % 10);
			v /= 10;
		} while (v);
	}
	while ((size_t)(buf + sizeof(buf) - q) < width && q > buf)
		*--q = '0';
	return retisc_strbuf__append(sb, q, (size_t)(buf + sizeof(buf) - q));
}

/* printf-style append: 0, -ENOMEM, or -EINVAL on an output error. */
static inline int retisc_strbuf__vprintf(struct retisc_strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	if (retisc_strbuf__reserve(sb, 64))
		return -ENOMEM;
	va_copy(cp, ap);
	n = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, cp);
	va_end(cp);
	if (n < 0) {
		sb->buf[sb->len] = '\0';
		return -EINVAL;
	}
	if ((size_t)n >= sb->cap - sb->len) {
		if (retisc_strbuf__reserve(sb, (size_t)n)) {
			sb->buf[sb->len] = '\0';
			return -ENOMEM;
		}
		vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
	}
	sb->len += (size_t)n;
	return 0;
}

static inline int retisc_strbuf__printf(struct retisc_strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline int retisc_strbuf__printf(struct retisc_strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = retisc_strbuf__vprintf(sb, fmt, ap);
	va_end(ap);
	return err;
}

/* Cut to len bytes (len <= sb->len). */
static inline void retisc_strbuf__truncate(struct retisc_strbuf *sb, size_t len)
{
	if (len < sb->len) {
		sb->len = len;
		sb->buf[len] = '\0';
	}
}

/* Keep the allocation, empty the string. */
static inline void retisc_strbuf__reset(struct retisc_strbuf *sb)
{
	retisc_strbuf__truncate(sb, 0);
}

/* The string; "" when nothing was appended yet (never NULL). */
static inline const char *retisc_strbuf__str(const struct retisc_strbuf *sb)
{
	return sb->buf ? sb->buf : "";
}

/* Free the allocation and zero the struct. Accepts a zeroed struct. */
static inline void retisc_strbuf__release(struct retisc_strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

#endif /* __RETISC_STRBUF_H */
