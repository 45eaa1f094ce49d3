/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * retisc base64: the standard alphabet (A-Za-z0-9+/) with '=' padding and no
 * line breaks, as used by packet.data (doc/events.md §4.7).
 *
 * Header-only for the same reason as strbuf.h: the core (reading event files)
 * and the plugins (writing the packet section) must agree byte for byte, and
 * plugins do not link against the retisc binary.
 *
 * Decoding is strict: only the canonical encoding of some byte string is
 * accepted (length a multiple of 4, one or two '=' only at the very end, no
 * character outside the alphabet, unused low bits of the last group zero).
 * Every byte string therefore has exactly one accepted spelling, which keeps
 * read-then-write round trips of event files exact.
 */
#ifndef __RETISC_BASE64_H
#define __RETISC_BASE64_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "strbuf.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define RETISC_BASE64_SSSE3 1
#endif

/* Length of the encoding of n bytes (no NUL). */
static inline size_t retisc_base64__encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

/* Upper bound of the decoded size of a len-character string. */
static inline size_t retisc_base64__decoded_max(size_t len)
{
	return len / 4 * 3;
}

/* Append the encoding of data[0..n) to sb. 0 or -ENOMEM (sb unchanged). */
static inline int retisc_base64__encode(struct retisc_strbuf *sb, const uint8_t *data, size_t n)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	char *o;

	if (retisc_strbuf__reserve(sb, retisc_base64__encoded_len(n)))
		return -ENOMEM;
	o = sb->buf + sb->len;
	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];

		*o++ = alphabet[v >> 18];
		*o++ = alphabet[(v >> 12) & 0x3f];
		*o++ = alphabet[(v >> 6) & 0x3f];
		*o++ = alphabet[v & 0x3f];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)data[i] << 16;

		*o++ = alphabet[v >> 18];
		*o++ = alphabet[(v >> 12) & 0x3f];
		*o++ = '=';
		*o++ = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8;

		*o++ = alphabet[v >> 18];
		*o++ = alphabet[(v >> 12) & 0x3f];
		*o++ = alphabet[(v >> 6) & 0x3f];
		*o++ = '=';
	}
	sb->len = (size_t)(o - sb->buf);
	sb->buf[sb->len] = '\0';
	return 0;
}

/* Value of one alphabet character, or -1. */
static inline int retisc_base64__value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

#ifdef RETISC_BASE64_SSSE3
/*
 * Decode 16 characters (no pad) of s at a time into out while more than 16
 * are left (the last group, which may hold pads, stays for the scalar
 * loops) and out has 16 bytes of room (12 are written, 4 more stored).
 * Returns how many characters were decoded (a multiple of 16); stops at
 * the first block holding a character outside the alphabet and leaves it
 * to the scalar loops, which then fail on it as before. print decodes
 * every packet, and a table load per character was a tenth of its time.
 *
 * Classes by high nibble h of each byte: 2 ("+" and "/" only, low nibbles
 * B and F), 3 (digits, 0-9), 4 and 6 (letters, 1-F), 5 and 7 (letters,
 * 0-A), anything else invalid. hi[h] is the class's bit, lo[l] the classes
 * in which low nibble l is invalid: a byte is valid if the two share no
 * bit. The value is then the byte plus an offset picked by h ("/", with
 * h 2 like "+", by h - 1).
 */
__attribute__((target("ssse3"))) static inline size_t
retisc_base64__decode_ssse3(const char *s, size_t len, uint8_t *out, size_t cap)
{
	const __m128i lo_lut = _mm_setr_epi8(0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
					     0x11, 0x13, 0x1a, 0x1b, 0x1b, 0x1b, 0x1a);
	const __m128i hi_lut = _mm_setr_epi8(0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10,
					     0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
	const __m128i off_lut = _mm_setr_epi8(0, 63 - '/', 62 - '+', 52 - '0', -'A', -'A', 26 - 'a',
					      26 - 'a', 0, 0, 0, 0, 0, 0, 0, 0);
	const __m128i order = _mm_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
	const __m128i nib = _mm_set1_epi8(0x0f), zero = _mm_setzero_si128();
	size_t i = 0, n = 0;

	for (; i + 16 < len && cap - n >= 16; i += 16, n += 12) {
		__m128i in = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i h = _mm_and_si128(_mm_srli_epi32(in, 4), nib);
		__m128i bad = _mm_and_si128(_mm_shuffle_epi8(lo_lut, _mm_and_si128(in, nib)),
					    _mm_shuffle_epi8(hi_lut, h));
		__m128i v;

		if (_mm_movemask_epi8(_mm_cmpeq_epi8(bad, zero)) != 0xffff)
			break;
		h = _mm_add_epi8(h, _mm_cmpeq_epi8(in, _mm_set1_epi8('/')));
		v = _mm_add_epi8(in, _mm_shuffle_epi8(off_lut, h));
		/* Pairs of 6-bit values into 12 bits, pairs of those into 24. */
		v = _mm_maddubs_epi16(v, _mm_set1_epi32(0x01400140));
		v = _mm_madd_epi16(v, _mm_set1_epi32(0x00011000));
		_mm_storeu_si128((__m128i *)(void *)(out + n), _mm_shuffle_epi8(v, order));
	}
	return i;
}
#endif

/*
 * Decode the len characters of s (no NUL needed) into out, which has room for
 * cap bytes (retisc_base64__decoded_max(len) is always enough).
 *
 * Returns the number of decoded bytes, -EINVAL if s is not a canonical
 * encoding, or -ENOSPC if the result does not fit in cap bytes (out may then
 * have been partly written).
 */
static inline ssize_t retisc_base64__decode(const char *s, size_t len, uint8_t *out, size_t cap)
{
	/* Value + 1 of each alphabet character, 0 for any other byte. */
	static const uint8_t dec[256] = {
		['A'] = 1,  ['B'] = 2,	['C'] = 3,  ['D'] = 4,	['E'] = 5,  ['F'] = 6,	['G'] = 7,
		['H'] = 8,  ['I'] = 9,	['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14,
		['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21,
		['V'] = 22, ['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28,
		['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35,
		['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
		['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49,
		['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
		['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63,
		['/'] = 64,
	};
	size_t i = 0, n = 0;

	if (len % 4)
		return -EINVAL;
#ifdef RETISC_BASE64_SSSE3
	if (len > 16 && cap > 16 && __builtin_cpu_supports("ssse3")) {
		i = retisc_base64__decode_ssse3(s, len, out, cap);
		n = i / 4 * 3;
	}
#endif
	/*
	 * Every quad but the last holds no pad: a table load per character
	 * (print decodes every packet; the branches of __value() were a
	 * tenth of its time).
	 */
	/*
	 * While the output has room: one test for the four characters
	 * (an invalid one is 0 - 1, past 63) and none for the room. The
	 * loop below then goes on, with its checks, where this one stops.
	 */
	for (i = n / 3 * 4; i + 4 < len && cap - n >= 3; i += 4) {
		uint32_t a = dec[(uint8_t)s[i]] - 1u, b = dec[(uint8_t)s[i + 1]] - 1u;
		uint32_t c = dec[(uint8_t)s[i + 2]] - 1u, d = dec[(uint8_t)s[i + 3]] - 1u;
		uint32_t q;

		if ((a | b | c | d) > 63)
			return -EINVAL;
		q = a << 18 | b << 12 | c << 6 | d;
		out[n] = (uint8_t)(q >> 16);
		out[n + 1] = (uint8_t)(q >> 8);
		out[n + 2] = (uint8_t)q;
		n += 3;
	}
	for (; i + 4 < len; i += 4) {
		uint32_t a = dec[(uint8_t)s[i]], b = dec[(uint8_t)s[i + 1]];
		uint32_t c = dec[(uint8_t)s[i + 2]], d = dec[(uint8_t)s[i + 3]];
		uint32_t q;

		if (!a || !b || !c || !d)
			return -EINVAL;
		q = (a - 1) << 18 | (b - 1) << 12 | (c - 1) << 6 | (d - 1);
		if (cap - n < 3)
			return -ENOSPC;
		out[n++] = (uint8_t)(q >> 16);
		out[n++] = (uint8_t)(q >> 8);
		out[n++] = (uint8_t)q;
	}
	for (; i < len; i += 4) {
		int v[4], pad = 0, k;
		uint32_t q = 0;
		size_t bytes;

		for (k = 0; k < 4; k++) {
			char c = s[i + k];

			if (c == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			/* No data may follow a pad character. */
			if (pad)
				return -EINVAL;
			v[k] = retisc_base64__value(c);
			if (v[k] < 0)
				return -EINVAL;
		}
		for (k = 0; k < 4; k++)
			q = q << 6 | (uint32_t)v[k];
		/* Non-zero discarded bits would give a second spelling. */
		if ((pad == 1 && (q & 0xff)) || (pad == 2 && (q & 0xffff)))
			return -EINVAL;
		bytes = 3 - (size_t)pad;
		if (cap - n < bytes)
			return -ENOSPC;
		out[n++] = (uint8_t)(q >> 16);
		if (bytes > 1)
			out[n++] = (uint8_t)(q >> 8);
		if (bytes > 2)
			out[n++] = (uint8_t)q;
	}
	return (ssize_t)n;
}

#endif /* __RETISC_BASE64_H */
