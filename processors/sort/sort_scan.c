// SPDX-License-Identifier: GPL-2.0-only
/*
 * sort's line scanner (sort_scan.h, doc/processing.md §2.7).
 *
 * "What the writer would write" is the contract of core/events/json.c:
 * retisc_json__dump() writes no blank, integers as plain decimals (doubles
 * always with '.' or 'e', which is why lines holding any are declined),
 * strings with only '"', '\\' and bytes below 0x20 escaped (so a string
 * holding a backslash is declined rather than matched escape by escape), and
 * the parser keeps the last of repeated keys in the first one's place (so
 * a repeated key is declined).
 */
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "sort_scan.h"

/* Deeper lines or bigger objects are left to the parser. */
#define SCAN_MAX_DEPTH 16
#define SCAN_MAX_KEYS 32

struct frame {
	bool obj;
	unsigned int nkeys;
	uint64_t sig; /* one bit per key seen, to skip most duplicate checks */
	uint32_t koff[SCAN_MAX_KEYS];
	uint32_t klen[SCAN_MAX_KEYS];
};

/* Top-level sections the scanner looks into or declines. */
enum {
	SEC_OTHER,
	SEC_COMMON,
	SEC_SKB_TRACKING,
	SEC_EARLY, /* kernel, userspace: ranked before tracking */
	SEC_DECLINE,
};

/* Fields found, in struct retisc_sort_scan. */
enum {
	F_TS = 1 << 0,
	F_ID_TS = 1 << 1,
	F_ID_HEAD = 1 << 2,
	F_ID_SKB = 1 << 3,
	F_LOST = 1 << 4,
};

static bool key_is(const unsigned char *k, size_t n, const char *want)
{
	return n == strlen(want) && !memcmp(k, want, n);
}

static int section_of(const unsigned char *k, size_t n)
{
	if (key_is(k, n, "common"))
		return SEC_COMMON;
	if (key_is(k, n, "skb-tracking"))
		return SEC_SKB_TRACKING;
	if (key_is(k, n, "kernel") || key_is(k, n, "userspace"))
		return SEC_EARLY;
	/* The tree path reads (or rewrites) more of these events. */
	if (key_is(k, n, "startup") || key_is(k, n, "tracking") || key_is(k, n, "ovs") ||
	    key_is(k, n, "ovs-detrace"))
		return SEC_DECLINE;
	return SEC_OTHER;
}

/* Any byte below 0x20, '"' or '\\' in the 8 bytes of x. */
static bool word_special(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ull, highs = ones << 7;
	uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');

	return (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b)) & highs;
}

/*
 * The string opening at s[i]: the offset past its closing quote, or 0 when
 * it does not end or holds a byte the writer would escape.
 */
static inline __attribute__((always_inline)) size_t scan_str(const unsigned char *s, size_t len,
							     size_t i)
{
	uint64_t w;

	i++;
#ifdef __SSE2__
	/* Most of a line is one long base64 string: 16 bytes per step. */
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
	const __m128i ctl = _mm_set1_epi8(0x1f);

	for (; i + 16 <= len; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(s + i));
		__m128i m = _mm_or_si128(
			_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
			_mm_cmpeq_epi8(_mm_min_epu8(x, ctl), x));
		int mask = _mm_movemask_epi8(m);

		if (mask) {
			i += (size_t)__builtin_ctz((unsigned int)mask);
			return s[i] == '"' ? i + 1 : 0;
		}
	}
#endif
	for (; i + 8 <= len; i += 8) {
		memcpy(&w, s + i, 8);
		if (word_special(w))
			break;
	}
	for (; i < len; i++) {
		if (s[i] == '"')
			return i + 1;
		if (s[i] == '\\' || s[i] < 0x20)
			return 0;
	}
	return 0;
}

/*
 * An integer in the writer's form at s[i] (no leading zero, no "-0", within
 * 64 bits): the offset past it, or 0. Its value in *val when val is set
 * (then it must not be negative).
 */
static inline __attribute__((always_inline)) size_t scan_int(const unsigned char *s, size_t len,
							     size_t i, uint64_t *val)
{
	bool neg = s[i] == '-';
	size_t d0, nd;

	if (neg)
		i++;
	d0 = i;
	while (i < len && (unsigned int)(s[i] - '0') < 10)
		i++;
	nd = i - d0;
	if (!nd || (s[d0] == '0' && (nd > 1 || neg)))
		return 0;
	if (i < len && (s[i] == '.' || s[i] == 'e' || s[i] == 'E'))
		return 0;
	/* Same digit count: the decimal strings compare like the values. */
	if (neg ? nd > 19 || (nd == 19 && memcmp(s + d0, "9223372036854775808", 19) > 0)
		: nd > 20 || (nd == 20 && memcmp(s + d0, "18446744073709551615", 20) > 0))
		return 0;
	if (val) {
		uint64_t v = 0;

		if (neg)
			return 0;
		for (size_t k = d0; k < i; k++)
			v = v * 10 + (uint64_t)(s[k] - '0');
		*val = v;
	}
	return i;
}

/* Record key k (n bytes at offset off) in f; false when f already has it. */
static bool frame_key(struct frame *f, const unsigned char *s, uint32_t off, uint32_t n)
{
	const unsigned char *k = s + off;
	uint64_t bit = 1ull << ((n * 31 + (n ? k[0] + k[n - 1] * 7 : 0)) & 63);

	if (f->nkeys == SCAN_MAX_KEYS)
		return false;
	if (f->sig & bit) {
		for (unsigned int i = 0; i < f->nkeys; i++)
			if (f->klen[i] == n && !memcmp(s + f->koff[i], k, n))
				return false;
	}
	f->sig |= bit;
	f->koff[f->nkeys] = off;
	f->klen[f->nkeys] = n;
	f->nkeys++;
	return true;
}

bool retisc_sort_scan__line(const char *line, size_t len, struct retisc_sort_scan *out)
{
	const unsigned char *s = (const unsigned char *)line;
	struct frame st[SCAN_MAX_DEPTH];
	unsigned int found = 0, want = 0, sec = SEC_OTHER;
	bool insert_found = false, seen_common = false;
	size_t depth = 0, i = 0, kstart;
	uint64_t v;

	memset(out, 0, sizeof(*out));
	/* Offsets are kept in 32 bits; such lines are over the reader's
	 * limit anyway. */
	if (!len || len > UINT32_MAX || s[0] != '{')
		return false;
	for (;;) {
		/* A value at s[i]. */
		if (i >= len)
			return false;
		switch (s[i]) {
		case '{':
		case '[':
			if (want || depth == SCAN_MAX_DEPTH)
				return false;
			st[depth].obj = s[i] == '{';
			st[depth].nkeys = 0;
			st[depth].sig = 0;
			depth++;
			i++;
			if (i < len && s[i] == (st[depth - 1].obj ? '}' : ']')) {
				i++;
				depth--;
				break;
			}
			if (st[depth - 1].obj)
				goto key;
			continue;
		case '"':
			if (want)
				return false;
			i = scan_str(s, len, i);
			if (!i)
				return false;
			break;
		case '-':
		case '0' ... '9':
			i = scan_int(s, len, i, want ? &v : NULL);
			if (!i)
				return false;
			if (want) {
				found |= want;
				switch (want) {
				case F_TS:
					out->ts = v;
					break;
				case F_ID_TS:
					out->id_ts = v;
					break;
				case F_ID_HEAD:
					out->id_head = v;
					break;
				case F_ID_SKB:
					out->id_skb = v;
					break;
				case F_LOST:
					out->lost = v;
					break;
				}
			}
			break;
		case 't':
		case 'f':
		case 'n': {
			const char *lit = s[i] == 't' ? "true" : s[i] == 'f' ? "false" : "null";
			size_t n = strlen(lit);

			if (want || len - i < n || memcmp(s + i, lit, n))
				return false;
			i += n;
			break;
		}
		default:
			return false;
		}
		want = 0;

		/* After a value: a separator, or containers closing. */
		for (;;) {
			if (!depth) {
				if (i != len || !seen_common || !(found & F_TS))
					return false;
				if (out->has_id && (found & (F_ID_TS | F_ID_HEAD | F_ID_SKB)) !=
							   (F_ID_TS | F_ID_HEAD | F_ID_SKB))
					return false;
				return true;
			}
			if (i >= len)
				return false;
			if (s[i] == ',') {
				i++;
				if (st[depth - 1].obj)
					goto key;
				break;
			}
			if (s[i] != (st[depth - 1].obj ? '}' : ']'))
				return false;
			if (depth == 1 && !insert_found) {
				out->insert_at = i;
				out->at_end = true;
			}
			i++;
			depth--;
		}
		continue;

	key:
		if (i >= len || s[i] != '"')
			return false;
		kstart = i + 1;
		i = scan_str(s, len, i);
		if (!i || i >= len || s[i] != ':')
			return false;
		if (!frame_key(&st[depth - 1], s, (uint32_t)kstart, (uint32_t)(i - 1 - kstart)))
			return false;
		i++;
		if (depth == 1) {
			sec = section_of(s + kstart, i - 2 - kstart);
			if (sec == SEC_DECLINE)
				return false;
			if (!insert_found && sec != SEC_COMMON && sec != SEC_EARLY) {
				out->insert_at = kstart - 1;
				insert_found = true;
			}
			if (sec == SEC_COMMON || sec == SEC_SKB_TRACKING) {
				/* The tree path reports a malformed section. */
				if (i >= len || s[i] != '{')
					return false;
				if (sec == SEC_COMMON)
					seen_common = true;
				else
					out->has_id = true;
			}
		} else if (depth == 2) {
			const unsigned char *k = s + kstart;
			size_t n = i - 2 - kstart;

			if (sec == SEC_COMMON && key_is(k, n, "timestamp"))
				want = F_TS;
			else if (sec == SEC_SKB_TRACKING && key_is(k, n, "timestamp"))
				want = F_ID_TS;
			else if (sec == SEC_SKB_TRACKING && key_is(k, n, "orig_head"))
				want = F_ID_HEAD;
			else if (sec == SEC_SKB_TRACKING && key_is(k, n, "skb"))
				want = F_ID_SKB;
			else if (sec == SEC_SKB_TRACKING && key_is(k, n, "lost"))
				want = F_LOST;
		}
	}
}
