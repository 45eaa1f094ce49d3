/* SPDX-License-Identifier: GPL-2.0-only */
/* Small helpers shared by core files. */
#ifndef __RETISC_UTIL_H
#define __RETISC_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/*
 * The first 8 bytes of a key of klen bytes, zero past its end, as memory
 * holds them: a key under 8 bytes is then told from another by this word
 * and its length alone (JSON members, registry sections).
 */
static inline uint64_t retisc_key_word8(const char *key, size_t klen)
{
	unsigned char b[8] = {0};
	uint64_t w;

	for (size_t i = 0; i < klen && i < 8; i++)
		b[i] = (unsigned char)key[i];
	memcpy(&w, b, 8);
	return w;
}

/*
 * retisc_key_word8() of the C string s, and its length in *len when under
 * 8 (else 8). A load of 8 bytes that stays within s's page cannot fault,
 * whatever follows the string there (the C library's strlen() reads the
 * same way), and costs less than gathering up to 8 bytes one by one; the
 * bytes past the NUL are masked off. ASan would see the over-read, so it
 * does not look.
 */
__attribute__((no_sanitize_address)) static inline uint64_t retisc_str_word8(const char *s,
									     size_t *len)
{
	unsigned char b[8] = {0};
	size_t n = 0;
	uint64_t w;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (((uintptr_t)s & 4095) <= 4096 - 8) {
		uint64_t z;

		memcpy(&w, s, 8);
		/* The lowest flagged byte is the first NUL (no false one below it). */
		z = (w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull;
		if (!z) {
			*len = 8;
			return w;
		}
		n = (size_t)__builtin_ctzll(z) / 8;
		*len = n;
		return n ? w & ((1ull << (8 * n)) - 1) : 0;
	}
#endif
	while (n < 8 && s[n]) {
		b[n] = (unsigned char)s[n];
		n++;
	}
	*len = n;
	memcpy(&w, b, 8);
	return w;
}

#endif

#ifndef offsetofend
#define offsetofend(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))
#endif

static inline void retisc_freep(void *p)
{
	free(*(void **)p);
}

/* char *s __free_ptr = malloc(...): freed when s goes out of scope. */
#define __free_ptr __attribute__((cleanup(retisc_freep)))

#endif
