// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for the JSON DOM (core/events/json.c). */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "testutil.h"

#include "retisc/json.h"
#include "retisc/strbuf.h"

/* A real event line as Retis writes it (kernel addresses above 2^63). */
static const char retis_event[] =
	"{\"common\":{\"timestamp\":30419169061793,\"smp_id\":6,\"task\":{\"pid\":11330,"
	"\"tgid\":11330,\"comm\":\"ping\"}},\"kernel\":{\"symbol\":\"net:net_dev_start_xmit\","
	"\"probe_type\":\"raw_tracepoint\"},\"skb-tracking\":{\"orig_head\":18446619372617628672,"
	"\"timestamp\":30419169061793,\"skb\":18446619372874141952}}";

/* Serialise v and compare with want (n bytes: want may hold NULs). */
static void assert_dump_n(const struct retisc_json *v, const char *want, size_t n)
{
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;

	assert_int_equal(retisc_json__dump(v, &sb), 0);
	if (sb.len != n || memcmp(retisc_strbuf__str(&sb), want, n))
		fail_msg("dump: got '%s', want '%.*s'", retisc_strbuf__str(&sb), (int)n, want);
	retisc_strbuf__release(&sb);
}

static void assert_dump(const struct retisc_json *v, const char *want)
{
	assert_dump_n(v, want, strlen(want));
}

static struct retisc_json *parse_ok(const char *in)
{
	char err[128] = "";
	struct retisc_json *v;

	v = retisc_json__parse(in, strlen(in), err, sizeof(err));
	if (!v)
		fail_msg("parse '%s': %s", in, err);
	return v;
}

/* parse(in) then dump must give want. */
static void assert_roundtrip(const char *in, const char *want)
{
	struct retisc_json *v = parse_ok(in);

	assert_dump(v, want);
	retisc_json__free(v);
}

static void assert_parse_err_n(const char *in, size_t len, const char *want)
{
	char err[128] = "";
	struct retisc_json *v;

	errno = 0;
	v = retisc_json__parse(in, len, err, sizeof(err));
	if (v)
		fail_msg("parse '%.*s' succeeded, want '%s'", (int)len, in, want);
	assert_int_equal(errno, EINVAL);
	assert_str_eq(err, want);
}

static void assert_parse_err(const char *in, const char *want)
{
	assert_parse_err_n(in, strlen(in), want);
}

static void test_retis_event_roundtrip(void **state)
{
	struct retisc_json *v, *task, *track;
	uint64_t u;
	int64_t i;
	bool b;

	(void)state;
	v = parse_ok(retis_event);
	assert_dump(v, retis_event);

	track = retisc_json__obj_get(v, "skb-tracking");
	assert_true(retisc_json__is_object(track));
	assert_true(retisc_json__obj_get_u64(track, "orig_head", &u));
	assert_true(u == 18446619372617628672ULL);
	assert_true(retisc_json__obj_get_u64(track, "skb", &u));
	assert_true(u == 18446619372874141952ULL);
	assert_int_equal(retisc_json__type(retisc_json__obj_get(track, "skb")), RETISC_JSON_UINT);
	/* Above INT64_MAX: not an i64. */
	assert_false(retisc_json__obj_get_i64(track, "skb", &i));
	assert_false(retisc_json__obj_get_bool(track, "skb", &b));

	task = retisc_json__obj_get(retisc_json__obj_get(v, "common"), "task");
	assert_true(retisc_json__obj_get_i64(task, "pid", &i));
	assert_int_equal(i, 11330);
	assert_string_equal(retisc_json__obj_get_str(task, "comm"), "ping");
	assert_null(retisc_json__obj_get_str(task, "pid"));
	assert_null(retisc_json__obj_get(task, "missing"));

	assert_int_equal(retisc_json__obj_len(v), 3);
	assert_string_equal(retisc_json__obj_key(v, 0), "common");
	assert_string_equal(retisc_json__obj_key(v, 1), "kernel");
	assert_string_equal(retisc_json__obj_key(v, 2), "skb-tracking");
	assert_ptr_equal(retisc_json__obj_val(v, 2), track);
	assert_null(retisc_json__obj_key(v, 3));
	assert_null(retisc_json__obj_val(v, 3));
	retisc_json__free(v);
}

static void test_build_event(void **state)
{
	struct retisc_json *ev, *common, *task, *track;

	(void)state;
	ev = retisc_json__new_object();
	common = retisc_json__new_object();
	task = retisc_json__new_object();
	track = retisc_json__new_object();
	assert_non_null(ev);
	assert_int_equal(retisc_json__obj_set_u64(common, "timestamp", 30419169061793ULL), 0);
	assert_int_equal(retisc_json__obj_set_u64(common, "smp_id", 6), 0);
	assert_int_equal(retisc_json__obj_set_i64(task, "pid", 11330), 0);
	assert_int_equal(retisc_json__obj_set_i64(task, "tgid", 11330), 0);
	assert_int_equal(retisc_json__obj_set_str(task, "comm", "ping"), 0);
	assert_int_equal(retisc_json__obj_set(common, "task", task), 0);
	assert_int_equal(retisc_json__obj_set(ev, "common", common), 0);
	assert_int_equal(retisc_json__obj_set(ev, "kernel",
					      parse_ok("{\"symbol\":"
						       "\"net:net_dev_start_xmit\","
						       "\"probe_type\":"
						       "\"raw_tracepoint\"}")),
			 0);
	assert_int_equal(retisc_json__obj_set_u64(track, "orig_head", 18446619372617628672ULL), 0);
	assert_int_equal(retisc_json__obj_set_u64(track, "timestamp", 30419169061793ULL), 0);
	assert_int_equal(retisc_json__obj_set_u64(track, "skb", 18446619372874141952ULL), 0);
	assert_int_equal(retisc_json__obj_set(ev, "skb-tracking", track), 0);
	assert_dump(ev, retis_event);
	retisc_json__free(ev);
}

static void test_integers(void **state)
{
	struct retisc_json *v;
	uint64_t u;
	int64_t i;
	double d;

	(void)state;
	v = parse_ok("18446744073709551615");
	assert_int_equal(retisc_json__type(v), RETISC_JSON_UINT);
	assert_true(retisc_json__get_u64(v, &u));
	assert_true(u == UINT64_MAX);
	assert_false(retisc_json__get_i64(v, &i));
	assert_true(retisc_json__get_double(v, &d));
	assert_true(d == 18446744073709551615.0);
	assert_dump(v, "18446744073709551615");
	retisc_json__free(v);

	v = parse_ok("-9223372036854775808");
	assert_int_equal(retisc_json__type(v), RETISC_JSON_INT);
	assert_true(retisc_json__get_i64(v, &i));
	assert_true(i == INT64_MIN);
	assert_false(retisc_json__get_u64(v, &u));
	assert_dump(v, "-9223372036854775808");
	retisc_json__free(v);

	v = parse_ok("9223372036854775807");
	assert_true(retisc_json__get_i64(v, &i));
	assert_true(i == INT64_MAX);
	retisc_json__free(v);

	/* "-0" is the integer 0. */
	v = parse_ok("-0");
	assert_int_equal(retisc_json__type(v), RETISC_JSON_UINT);
	assert_true(retisc_json__get_u64(v, &u));
	assert_true(u == 0);
	assert_dump(v, "0");
	retisc_json__free(v);

	assert_roundtrip("[0,1,-1,10,-10,4294967296,-4294967296]",
			 "[0,1,-1,10,-10,4294967296,-4294967296]");

	v = retisc_json__new_i64(INT64_MIN);
	assert_dump(v, "-9223372036854775808");
	retisc_json__free(v);
	v = retisc_json__new_i64(5);
	assert_int_equal(retisc_json__type(v), RETISC_JSON_UINT);
	retisc_json__free(v);
	v = retisc_json__new_u64(UINT64_MAX);
	assert_dump(v, "18446744073709551615");
	retisc_json__free(v);

	assert_parse_err("18446744073709551616", "integer out of range at column 1");
	/* 19 digits are taken unchecked, the 20th is checked. */
	assert_roundtrip("[9999999999999999999,10000000000000000000,18446744073709551609]",
			 "[9999999999999999999,10000000000000000000,18446744073709551609]");
	assert_parse_err("[19999999999999999999]", "integer out of range at column 2");
	assert_parse_err("[184467440737095516150]", "integer out of range at column 2");
	assert_parse_err("-18446744073709551616", "integer out of range at column 1");
	assert_parse_err("[1,-9223372036854775809]", "integer out of range at column 4");
	assert_parse_err("{\"a\":99999999999999999999999}", "integer out of range at column 6");
	/* With a fraction it is a double, which has the range. */
	v = parse_ok("18446744073709551616.0");
	assert_int_equal(retisc_json__type(v), RETISC_JSON_DOUBLE);
	retisc_json__free(v);
}

static void test_doubles(void **state)
{
	struct retisc_json *v;
	uint64_t u;
	int64_t i;
	double d;

	(void)state;
	v = parse_ok("1.5");
	assert_int_equal(retisc_json__type(v), RETISC_JSON_DOUBLE);
	assert_true(retisc_json__get_double(v, &d));
	assert_true(d == 1.5);
	assert_false(retisc_json__get_u64(v, &u));
	assert_false(retisc_json__get_i64(v, &i));
	assert_dump(v, "1.5");
	retisc_json__free(v);

	v = parse_ok("-2.5E+3");
	assert_true(retisc_json__get_double(v, &d));
	assert_true(d == -2500.0);
	/* Still a double when read back. */
	assert_dump(v, "-2500.0");
	retisc_json__free(v);

	assert_roundtrip("1e3", "1000.0");
	assert_roundtrip("0.1", "0.10000000000000001");
	assert_roundtrip("-0.0", "-0.0");
	assert_roundtrip("1e-7", "9.9999999999999995e-08");
	assert_roundtrip("[1.0715086071862673e301]", "[1.0715086071862673e+301]");

	v = retisc_json__new_double(0.1 + 0.2);
	assert_dump(v, "0.30000000000000004");
	retisc_json__free(v);
	v = retisc_json__new_double(INFINITY);
	assert_dump(v, "null");
	retisc_json__free(v);
	v = retisc_json__new_double(-INFINITY);
	assert_dump(v, "null");
	retisc_json__free(v);
	v = retisc_json__new_double(NAN);
	assert_dump(v, "null");
	retisc_json__free(v);

	/* %.17g reads back to the same double. */
	v = retisc_json__new_double(1.0 / 3.0);
	{
		struct retisc_strbuf sb = RETISC_STRBUF_INIT;
		struct retisc_json *w;

		assert_int_equal(retisc_json__dump(v, &sb), 0);
		w = parse_ok(sb.buf);
		assert_true(retisc_json__get_double(w, &d));
		assert_true(d == 1.0 / 3.0);
		retisc_json__free(w);
		retisc_strbuf__release(&sb);
	}
	retisc_json__free(v);

	assert_parse_err("1e400", "number out of range at column 1");
	assert_parse_err("1.", "unexpected end of input at column 3");
	assert_parse_err("1.x", "invalid number at column 1");
	assert_parse_err("[1e]", "invalid number at column 2");
	assert_parse_err(".5", "expected value at column 1");
	assert_parse_err("+1", "expected value at column 1");
	assert_parse_err("01", "invalid number at column 1");
	assert_parse_err("-", "unexpected end of input at column 2");
	assert_parse_err("-x", "invalid number at column 1");
}

static void test_dump_escapes(void **state)
{
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;
	struct retisc_json *v;
	char all[32];
	int c;

	(void)state;
	for (c = 0; c < 32; c++)
		all[c] = (char)c;
	v = retisc_json__new_strn(all, sizeof(all));
	assert_dump(v, "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007"
		       "\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f"
		       "\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017"
		       "\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\"");
	retisc_json__free(v);

	/* Quote and backslash escaped; '/', DEL and non-ASCII verbatim. */
	v = retisc_json__new_str("a\"b\\c/d\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 ~");
	assert_dump(v, "\"a\\\"b\\\\c/d\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 ~\"");
	retisc_json__free(v);

	/* Bytes are stored as given, even invalid UTF-8. */
	v = retisc_json__new_str("\xff\xfe");
	assert_dump(v, "\"\xff\xfe\"");
	retisc_json__free(v);

	v = retisc_json__new_str("");
	assert_dump(v, "\"\"");
	retisc_json__free(v);

	/* Keys are escaped the same way. */
	v = retisc_json__new_object();
	assert_int_equal(retisc_json__obj_set_str(v, "k\"\n", "v\t"), 0);
	assert_dump(v, "{\"k\\\"\\n\":\"v\\t\"}");
	retisc_json__free(v);

	/* dump_str appends to what is there. */
	assert_int_equal(retisc_strbuf__puts(&sb, "x="), 0);
	assert_int_equal(retisc_json__dump_str(&sb, "a\0b", 3), 0);
	assert_int_equal(retisc_json__dump_str(&sb, NULL, 0), 0);
	assert_int_equal(sb.len, strlen("x=\"a\\u0000b\"\"\""));
	assert_str_eq(sb.buf, "x=\"a\\u0000b\"\"\"");
	assert_int_equal(retisc_json__dump_str(&sb, NULL, 1), -EINVAL);
	retisc_strbuf__release(&sb);
}

static void test_parse_escapes(void **state)
{
	struct retisc_json *v;
	const char *s;
	size_t len;
	uint64_t u;

	(void)state;
	v = parse_ok("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20AC\"");
	s = retisc_json__get_str(v, &len);
	assert_non_null(s);
	assert_int_equal(len, 14);
	assert_memory_equal(s, "\"\\/\b\f\n\r\tA\xc3\xa9\xe2\x82\xac", 14);
	/* Written back with the canonical escapes: '/' and non-ASCII verbatim. */
	assert_dump(v, "\"\\\"\\\\/\\b\\f\\n\\r\\tA\xc3\xa9\xe2\x82\xac\"");
	retisc_json__free(v);

	/* Lookups by C string never match a key holding a NUL past its end. */
	v = parse_ok("{\"a\\u0000b\":1,\"a\\u0000\":2,\"\":3,\"ab\":4,\"a\":5}");
	assert_int_equal(retisc_json__obj_len(v), 5);
	assert_true(retisc_json__obj_get_u64(v, "a", &u) && u == 5);
	assert_true(retisc_json__obj_get_u64(v, "", &u) && u == 3);
	assert_true(retisc_json__obj_get_u64(v, "ab", &u) && u == 4);
	assert_null(retisc_json__obj_get(v, "a\x01"));
	assert_null(retisc_json__obj_get(v, "abc"));
	retisc_json__free(v);
	/* A string whose closing quote or escape is at every offset of a word. */
	for (size_t k = 0; k < 20; k++) {
		char in[64], want[64];

		snprintf(in, sizeof(in), "[\"%.*s\",\"%.*s\\n\"]", (int)k,
			 "abcdefghijklmnopqrstuvwxyz", (int)k, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
		snprintf(want, sizeof(want), "[\"%.*s\",\"%.*s\\n\"]", (int)k,
			 "abcdefghijklmnopqrstuvwxyz", (int)k, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
		assert_roundtrip(in, want);
	}

	/* \u0000 is kept inside the string. */
	v = parse_ok("\"a\\u0000b\"");
	s = retisc_json__get_str(v, &len);
	assert_int_equal(len, 3);
	assert_memory_equal(s, "a\0b", 4);
	assert_dump_n(v, "\"a\\u0000b\"", 10);
	retisc_json__free(v);

	/* Control characters come back as \u00xx, lowercase. */
	assert_roundtrip("\"\\u001F\\u007f\\u000B\"", "\"\\u001f\x7f\\u000b\"");
	/* Raw UTF-8 in the input is kept. */
	assert_roundtrip("\"h\xc3\xa9\"", "\"h\xc3\xa9\"");
	/* Escapes in keys. */
	assert_roundtrip("{\"\\u0061\\n\":1}", "{\"a\\n\":1}");

	assert_parse_err("\"\\x\"", "invalid escape at column 3");
	assert_parse_err("[\"ab\\'\"]", "invalid escape at column 6");
	assert_parse_err("\"\\u12g4\"", "invalid escape at column 6");
	assert_parse_err("\"\\u12", "unexpected end of input at column 6");
	assert_parse_err("\"abc\\", "unexpected end of input at column 6");
	assert_parse_err("\"a\tb\"", "control character in string at column 3");
	assert_parse_err_n("\"a\0b\"", 5, "control character in string at column 3");
}

static void test_surrogates(void **state)
{
	(void)state;
	/* U+1F600 as a pair, either case. */
	assert_roundtrip("\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"");
	assert_roundtrip("\"\\uD83D\\uDE00\"", "\"\xf0\x9f\x98\x80\"");
	/* Highest code point. */
	assert_roundtrip("\"\\udbff\\udfff\"", "\"\xf4\x8f\xbf\xbf\"");
	/* Lone surrogates become U+FFFD. */
	assert_roundtrip("\"\\ud83d\"", "\"\xef\xbf\xbd\"");
	assert_roundtrip("\"\\ude00x\"", "\"\xef\xbf\xbdx\"");
	assert_roundtrip("\"\\ud83dx\"", "\"\xef\xbf\xbdx\"");
	/* A high surrogate followed by a non-low escape: both decoded alone. */
	assert_roundtrip("\"\\ud83d\\u0041\"", "\"\xef\xbf\xbd"
					       "A\"");
	assert_roundtrip("\"\\ud83d\\ud83d\\ude00\"", "\"\xef\xbf\xbd\xf0\x9f\x98\x80\"");
	assert_roundtrip("\"\\ud83d\\n\"", "\"\xef\xbf\xbd\\n\"");
	/* Two lone lows. */
	assert_roundtrip("\"\\udc00\\udc00\"", "\"\xef\xbf\xbd\xef\xbf\xbd\"");
	/* A broken escape after a high surrogate is still an error. */
	assert_parse_err("\"\\ud83d\\uzzzz\"", "invalid escape at column 10");
}

static void assert_lossy(const char *in, size_t n, const char *want)
{
	struct retisc_json *v = retisc_json__new_str_lossy(in, n);
	const char *s;
	size_t len;

	assert_non_null(v);
	s = retisc_json__get_str(v, &len);
	if (len != strlen(want) || memcmp(s, want, len))
		fail_msg("lossy: got '%s' (%zu bytes), want '%s' (%zu bytes)", s, len, want,
			 strlen(want));
	retisc_json__free(v);
}

#define FFFD "\xef\xbf\xbd"

static void test_lossy(void **state)
{
	(void)state;
	/* Valid input is unchanged, up to the first NUL within n. */
	assert_lossy("ping", 4, "ping");
	assert_lossy("ping\0\0\0\0garbage", 16, "ping");
	assert_lossy("ping", 2, "pi");
	assert_lossy("", 0, "");
	assert_lossy("\0abc", 4, "");
	assert_lossy("h\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10,
		     "h\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	assert_lossy("\xf4\x8f\xbf\xbf", 4, "\xf4\x8f\xbf\xbf");
	assert_lossy("\xed\x9f\xbf", 3, "\xed\x9f\xbf");
	/* Invalid leads and lone continuation bytes: one U+FFFD each. */
	assert_lossy("a\x80z", 3, "a" FFFD "z");
	assert_lossy("\xff\xfe", 2, FFFD FFFD);
	assert_lossy("\xf5\x80", 2, FFFD FFFD);
	/* Overlong forms. */
	assert_lossy("\xc0\x80", 2, FFFD FFFD);
	assert_lossy("\xc1\xbf", 2, FFFD FFFD);
	assert_lossy("\xe0\x80\x80", 3, FFFD FFFD FFFD);
	assert_lossy("\xf0\x80\x80\x80", 4, FFFD FFFD FFFD FFFD);
	/* Surrogates. */
	assert_lossy("\xed\xa0\x80", 3, FFFD FFFD FFFD);
	/* Above U+10FFFF. */
	assert_lossy("\xf4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD);
	/* Truncated sequences: the maximal subpart is one U+FFFD. */
	assert_lossy("\xe2\x82", 2, FFFD);
	assert_lossy("\xe2\x82x", 3, FFFD "x");
	assert_lossy("\xf0\x9f\x98", 3, FFFD);
	assert_lossy("\xf0\x9f\x98x", 4, FFFD "x");
	assert_lossy("\xf0\x9f\x98\0\x80", 5, FFFD);
	assert_lossy("\xc3", 1, FFFD);
	/* Unicode's own example (chapter 3, U+FFFD substitution). */
	assert_lossy("\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64", 13,
		     "a" FFFD FFFD FFFD "b" FFFD "c" FFFD FFFD "d");
	/* A comm cut mid-character by the kernel's 16-byte buffer. */
	assert_lossy("abcdefghijklm\xe2\x82", 16, "abcdefghijklm" FFFD);
}

static void test_key_order(void **state)
{
	struct retisc_json *v;

	(void)state;
	assert_roundtrip("{\"z\":1,\"a\":2,\"m\":3,\"b\":{\"y\":[],\"x\":{}}}",
			 "{\"z\":1,\"a\":2,\"m\":3,\"b\":{\"y\":[],\"x\":{}}}");
	v = retisc_json__new_object();
	assert_int_equal(retisc_json__obj_set_bool(v, "zeta", true), 0);
	assert_int_equal(retisc_json__obj_set_bool(v, "alpha", false), 0);
	assert_int_equal(retisc_json__obj_set(v, "mu", retisc_json__new_null()), 0);
	assert_dump(v, "{\"zeta\":true,\"alpha\":false,\"mu\":null}");
	retisc_json__free(v);
}

static void test_obj_set_replace(void **state)
{
	struct retisc_json *v;
	uint64_t u;

	(void)state;
	v = parse_ok("{\"a\":1,\"b\":2,\"c\":3}");
	assert_int_equal(retisc_json__obj_set_u64(v, "b", 9), 0);
	assert_dump(v, "{\"a\":1,\"b\":9,\"c\":3}");
	assert_int_equal(retisc_json__obj_set(v, "a", parse_ok("{\"deep\":[1]}")), 0);
	assert_dump(v, "{\"a\":{\"deep\":[1]},\"b\":9,\"c\":3}");
	assert_int_equal(retisc_json__obj_set_str(v, "d", "new"), 0);
	assert_dump(v, "{\"a\":{\"deep\":[1]},\"b\":9,\"c\":3,\"d\":\"new\"}");
	assert_int_equal(retisc_json__obj_len(v), 4);
	assert_true(retisc_json__obj_get_u64(v, "b", &u));
	assert_true(u == 9);
	/* Lookups compare whole keys. */
	assert_null(retisc_json__obj_get(v, "aa"));
	assert_null(retisc_json__obj_get(v, ""));
	retisc_json__free(v);
}

static void test_obj_insert(void **state)
{
	struct retisc_json *v;

	(void)state;
	v = retisc_json__new_object();
	assert_int_equal(retisc_json__obj_insert(v, 0, "b", retisc_json__new_u64(2)), 0);
	assert_int_equal(retisc_json__obj_insert(v, 0, "a", retisc_json__new_u64(1)), 0);
	assert_int_equal(retisc_json__obj_insert(v, 100, "d", retisc_json__new_u64(4)), 0);
	assert_int_equal(retisc_json__obj_insert(v, 2, "c", retisc_json__new_u64(3)), 0);
	assert_dump(v, "{\"a\":1,\"b\":2,\"c\":3,\"d\":4}");
	/* Existing key: refused, value freed (valgrind checks). */
	assert_int_equal(retisc_json__obj_insert(v, 0, "c", retisc_json__new_str("x")), -EEXIST);
	assert_int_equal(retisc_json__obj_insert(v, 4, "e", retisc_json__new_u64(5)), 0);
	assert_int_equal(retisc_json__obj_insert(v, 1, "", retisc_json__new_array()), 0);
	assert_dump(v, "{\"a\":1,\"\":[],\"b\":2,\"c\":3,\"d\":4,\"e\":5}");
	assert_non_null(retisc_json__obj_get(v, ""));
	retisc_json__free(v);
}

static void test_obj_take_del(void **state)
{
	struct retisc_json *v, *t;
	uint64_t u;

	(void)state;
	v = parse_ok("{\"a\":1,\"b\":{\"x\":\"y\"},\"c\":3}");
	t = retisc_json__obj_take(v, "b");
	assert_non_null(t);
	assert_dump(t, "{\"x\":\"y\"}");
	assert_dump(v, "{\"a\":1,\"c\":3}");
	assert_null(retisc_json__obj_take(v, "b"));
	retisc_json__free(t);

	assert_int_equal(retisc_json__obj_del(v, "a"), 0);
	assert_dump(v, "{\"c\":3}");
	assert_int_equal(retisc_json__obj_del(v, "a"), -ENOENT);
	assert_int_equal(retisc_json__obj_del(v, "c"), 0);
	assert_dump(v, "{}");
	assert_int_equal(retisc_json__obj_len(v), 0);
	/* Reusable after being emptied. */
	assert_int_equal(retisc_json__obj_set_u64(v, "n", 7), 0);
	assert_true(retisc_json__obj_get_u64(v, "n", &u));
	assert_dump(v, "{\"n\":7}");
	retisc_json__free(v);
}

static void test_arrays(void **state)
{
	struct retisc_json *a, *e;
	uint64_t u;
	size_t i;

	(void)state;
	a = retisc_json__new_array();
	assert_true(retisc_json__is_array(a));
	assert_false(retisc_json__is_object(a));
	assert_dump(a, "[]");
	for (i = 0; i < 100; i++)
		assert_int_equal(retisc_json__arr_append(a, retisc_json__new_u64(i)), 0);
	assert_int_equal(retisc_json__arr_len(a), 100);
	assert_true(retisc_json__get_u64(retisc_json__arr_get(a, 42), &u));
	assert_true(u == 42);
	assert_null(retisc_json__arr_get(a, 100));
	retisc_json__free(a);

	a = retisc_json__new_array();
	assert_int_equal(retisc_json__arr_append(a, retisc_json__new_str("x")), 0);
	assert_int_equal(retisc_json__arr_append(a, retisc_json__new_bool(true)), 0);
	assert_int_equal(retisc_json__arr_append(a, retisc_json__new_null()), 0);
	assert_int_equal(retisc_json__arr_append(a, retisc_json__new_i64(-3)), 0);
	e = retisc_json__new_array();
	assert_int_equal(retisc_json__arr_append(e, retisc_json__new_object()), 0);
	assert_int_equal(retisc_json__arr_append(a, e), 0);
	assert_dump(a, "[\"x\",true,null,-3,[{}]]");
	retisc_json__free(a);

	assert_roundtrip("[[],[[]],{},[{\"a\":[1,[2,[3]]]}]]",
			 "[[],[[]],{},[{\"a\":[1,[2,[3]]]}]]");
}

static void test_copy(void **state)
{
	struct retisc_json *v, *c;

	(void)state;
	v = parse_ok(retis_event);
	c = retisc_json__copy(v);
	assert_non_null(c);
	assert_ptr_not_equal(c, v);
	assert_dump(c, retis_event);
	/* The copy is independent. */
	assert_int_equal(retisc_json__obj_set_u64(retisc_json__obj_get(c, "common"), "smp_id", 1),
			 0);
	assert_int_equal(retisc_json__obj_del(c, "kernel"), 0);
	assert_dump(v, retis_event);
	retisc_json__free(v);
	assert_dump(c, "{\"common\":{\"timestamp\":30419169061793,\"smp_id\":1,\"task\":{\"pid\":"
		       "11330,\"tgid\":11330,\"comm\":\"ping\"}},\"skb-tracking\":{\"orig_head\":"
		       "18446619372617628672,\"timestamp\":30419169061793,\"skb\":"
		       "18446619372874141952}}");
	retisc_json__free(c);

	v = parse_ok("[\"a\\u0000b\",{\"k\\u0000\":-1.5},[],{},null,false,-7]");
	c = retisc_json__copy(v);
	assert_dump(c, "[\"a\\u0000b\",{\"k\\u0000\":-1.5},[],{},null,false,-7]");
	retisc_json__free(c);
	retisc_json__free(v);

	v = retisc_json__new_str("s");
	c = retisc_json__copy(v);
	assert_string_equal(retisc_json__get_str(c, NULL), "s");
	retisc_json__free(c);
	retisc_json__free(v);

	errno = 0;
	assert_null(retisc_json__copy(NULL));
	assert_int_equal(errno, EINVAL);
}

static void test_duplicate_keys(void **state)
{
	struct retisc_strbuf in = RETISC_STRBUF_INIT, want = RETISC_STRBUF_INIT;
	struct retisc_json *v;
	int i;

	(void)state;
	assert_roundtrip("{\"a\":1,\"b\":2,\"a\":3}", "{\"a\":3,\"b\":2}");
	assert_roundtrip("{\"a\":1,\"a\":[2],\"b\":0,\"a\":{\"x\":3}}",
			 "{\"a\":{\"x\":3},\"b\":0}");
	assert_roundtrip("{\"a\":{\"a\":1,\"a\":2},\"a\":{\"b\":1,\"b\":2}}", "{\"a\":{\"b\":2}}");

	/* A big object: same rule. */
	retisc_strbuf__putc(&in, '{');
	retisc_strbuf__putc(&want, '{');
	for (i = 0; i < 100; i++)
		retisc_strbuf__printf(&in, "\"k%d\":%d,", i, i);
	for (i = 0; i < 100; i += 2)
		retisc_strbuf__printf(&in, "\"k%d\":%d,", i, i + 1000);
	retisc_strbuf__puts(&in, "\"k4\":\"last\"}");
	for (i = 0; i < 100; i++) {
		if (i == 4)
			retisc_strbuf__puts(&want, "\"k4\":\"last\"");
		else
			retisc_strbuf__printf(&want, "\"k%d\":%d", i, i % 2 ? i : i + 1000);
		retisc_strbuf__putc(&want, i == 99 ? '}' : ',');
	}
	v = parse_ok(in.buf);
	assert_int_equal(retisc_json__obj_len(v), 100);
	assert_dump(v, want.buf);
	retisc_json__free(v);
	retisc_strbuf__release(&in);
	retisc_strbuf__release(&want);
}

static void test_whitespace(void **state)
{
	(void)state;
	assert_roundtrip(" \t\r\n{ \"a\" : [ 1 , 2 , { } , [ ] ] ,\n\"b\":\ttrue } \n",
			 "{\"a\":[1,2,{},[]],\"b\":true}");
	assert_roundtrip("  \"s\"  ", "\"s\"");
	assert_roundtrip("null", "null");
	assert_roundtrip("true", "true");
	assert_roundtrip("false", "false");
	assert_roundtrip("\n7\n", "7");
}

static void test_syntax_errors(void **state)
{
	char err[16];
	struct retisc_json *v;

	(void)state;
	assert_parse_err("[1,2,]", "expected value at column 6");
	assert_parse_err("{\"a\":1,}", "expected object key at column 8");
	assert_parse_err("{\"a\" 1}", "expected ':' at column 6");
	assert_parse_err("{\"common\":{\"timestamp\"1}}", "expected ':' at column 23");
	assert_parse_err("{\"a\":1 \"b\":2}", "expected ',' or '}' at column 8");
	assert_parse_err("[1 2]", "expected ',' or ']' at column 4");
	assert_parse_err("{1:2}", "expected object key at column 2");
	assert_parse_err("\"abc", "unexpected end of input at column 5");
	assert_parse_err("{\"a\":\"b", "unexpected end of input at column 8");
	assert_parse_err("{} x", "unexpected data after value at column 4");
	assert_parse_err("1 2", "unexpected data after value at column 3");
	assert_parse_err("{}}", "unexpected data after value at column 3");
	assert_parse_err("", "unexpected end of input at column 1");
	assert_parse_err("   ", "unexpected end of input at column 4");
	assert_parse_err("[", "unexpected end of input at column 2");
	assert_parse_err("{\"a\":", "unexpected end of input at column 6");
	assert_parse_err("{\"a\"", "unexpected end of input at column 5");
	assert_parse_err("[1,", "unexpected end of input at column 4");
	assert_parse_err("[1", "unexpected end of input at column 3");
	assert_parse_err("{", "unexpected end of input at column 2");
	assert_parse_err("tru", "unexpected end of input at column 4");
	assert_parse_err("trux", "invalid literal at column 1");
	assert_parse_err("[nul]", "invalid literal at column 2");
	assert_parse_err("True", "expected value at column 1");
	assert_parse_err("NaN", "expected value at column 1");
	assert_parse_err("[Infinity]", "expected value at column 2");
	assert_parse_err("/* c */ 1", "expected value at column 1");
	assert_parse_err("[1] // c", "unexpected data after value at column 5");
	assert_parse_err("'a'", "expected value at column 1");
	assert_parse_err("{a:1}", "expected object key at column 2");
	assert_parse_err("[,1]", "expected value at column 2");
	assert_parse_err("\xef\xbb\xbf{}", "expected value at column 1");

	/* len bounds the text; no NUL needed. */
	v = retisc_json__parse("[1]garbage", 3, NULL, 0);
	assert_non_null(v);
	assert_dump(v, "[1]");
	retisc_json__free(v);
	assert_parse_err_n("[1]", 2, "unexpected end of input at column 3");
	assert_parse_err_n("1\0", 2, "unexpected data after value at column 2");

	/* err is optional and always NUL-terminated when given. */
	errno = 0;
	assert_null(retisc_json__parse("[1,]", 4, NULL, 0));
	assert_int_equal(errno, EINVAL);
	memset(err, 'x', sizeof(err));
	assert_null(retisc_json__parse("[1,]", 4, err, sizeof(err)));
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_memory_equal(err, "expected value ", sizeof(err) - 1);
	errno = 0;
	assert_null(retisc_json__parse(NULL, 1, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
}

static void test_nesting(void **state)
{
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;
	struct retisc_json *v, *c, *inner;
	char *in;
	size_t i, n = 1000000;

	(void)state;
	in = malloc(n);
	assert_non_null(in);
	/* 512 levels pass. */
	memset(in, '[', 512);
	memset(in + 512, ']', 512);
	v = retisc_json__parse(in, 1024, NULL, 0);
	assert_non_null(v);
	assert_int_equal(retisc_json__dump(v, &sb), 0);
	assert_int_equal(sb.len, 1024);
	assert_memory_equal(sb.buf, in, 1024);
	retisc_json__free(v);

	/* 513 do not, nor does a very deep text (no recursion to blow). */
	memset(in, '[', 513);
	memset(in + 513, ']', 513);
	assert_parse_err_n(in, 1026, "nesting too deep at column 513");
	memset(in, '[', n);
	assert_parse_err_n(in, n, "nesting too deep at column 513");
	for (i = 0; i < n; i += 6)
		memcpy(in + i, "{\"a\":[", i + 6 <= n ? 6 : n - i);
	assert_parse_err_n(in, n - n % 6, "nesting too deep at column 1537");
	free(in);

	/* Values built through the API have no depth limit: dump, copy and free cope. */
	v = retisc_json__new_array();
	for (i = 0; i < 100000; i++) {
		inner = i % 2 ? retisc_json__new_array() : retisc_json__new_object();
		if (i % 2)
			assert_int_equal(retisc_json__arr_append(inner, v), 0);
		else
			assert_int_equal(retisc_json__obj_set(inner, "k", v), 0);
		v = inner;
	}
	retisc_strbuf__reset(&sb);
	assert_int_equal(retisc_json__dump(v, &sb), 0);
	assert_int_equal(sb.len, 50000 * 2 + 50000 * 6 + 2);
	c = retisc_json__copy(v);
	assert_non_null(c);
	retisc_json__free(v);
	retisc_strbuf__reset(&sb);
	assert_int_equal(retisc_json__dump(c, &sb), 0);
	assert_int_equal(sb.len, 50000 * 2 + 50000 * 6 + 2);
	assert_memory_equal(sb.buf, "[{\"k\":[{\"k\":", 12);
	retisc_json__free(c);
	retisc_strbuf__release(&sb);
}

static void test_types_and_errors(void **state)
{
	struct retisc_json *o, *a, *s;
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;
	uint64_t u = 77;
	bool b;

	(void)state;
	retisc_json__free(NULL);
	assert_int_equal(retisc_json__type(NULL), RETISC_JSON_NULL);
	assert_false(retisc_json__is_object(NULL));
	assert_false(retisc_json__get_u64(NULL, &u));
	assert_null(retisc_json__get_str(NULL, NULL));
	assert_int_equal(retisc_json__obj_len(NULL), 0);
	assert_int_equal(retisc_json__arr_len(NULL), 0);
	assert_null(retisc_json__obj_get(NULL, "a"));

	o = retisc_json__new_object();
	a = retisc_json__new_array();
	s = retisc_json__new_str("s");
	assert_int_equal(retisc_json__type(o), RETISC_JSON_OBJECT);
	assert_int_equal(retisc_json__type(a), RETISC_JSON_ARRAY);
	assert_int_equal(retisc_json__type(s), RETISC_JSON_STRING);
	/* Mismatches leave *out alone. */
	assert_false(retisc_json__get_u64(s, &u));
	assert_true(u == 77);
	assert_false(retisc_json__get_bool(s, &b));
	assert_null(retisc_json__get_str(o, NULL));
	/* Setters on the wrong type take (free) the value and say -EINVAL. */
	assert_int_equal(retisc_json__obj_set(a, "k", retisc_json__new_u64(1)), -EINVAL);
	assert_int_equal(retisc_json__obj_insert(a, 0, "k", retisc_json__new_u64(1)), -EINVAL);
	assert_int_equal(retisc_json__arr_append(o, retisc_json__new_u64(1)), -EINVAL);
	assert_int_equal(retisc_json__obj_set(o, "k", NULL), -EINVAL);
	assert_int_equal(retisc_json__obj_set(o, NULL, retisc_json__new_null()), -EINVAL);
	assert_int_equal(retisc_json__arr_append(a, NULL), -EINVAL);
	assert_int_equal(retisc_json__obj_set_str(o, "k", NULL), -EINVAL);
	assert_int_equal(retisc_json__obj_set_u64(s, "k", 1), -EINVAL);
	assert_int_equal(retisc_json__obj_del(a, "k"), -ENOENT);
	assert_null(retisc_json__obj_take(a, "k"));
	assert_int_equal(retisc_json__obj_len(a), 0);
	assert_int_equal(retisc_json__arr_len(o), 0);
	assert_int_equal(retisc_json__obj_len(o), 0);
	assert_int_equal(retisc_json__dump(NULL, &sb), -EINVAL);
	assert_int_equal(sb.len, 0);

	errno = 0;
	assert_null(retisc_json__new_str(NULL));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(retisc_json__new_strn(NULL, 2));
	assert_int_equal(errno, EINVAL);
	retisc_json__free(s);
	s = retisc_json__new_strn(NULL, 0);
	assert_non_null(s);
	assert_string_equal(retisc_json__get_str(s, NULL), "");
	retisc_json__free(s);
	s = retisc_json__new_str_lossy(NULL, 0);
	assert_non_null(s);
	retisc_json__free(s);

	retisc_json__free(o);
	retisc_json__free(a);
}

/* Bytes that need every escape rule, plus UTF-8, for the jansson check. */
static void check_with_jansson(const char *doc)
{
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;
	struct retisc_json *v = parse_ok(doc);
	json_error_t jerr;
	json_t *orig, *back;

	assert_int_equal(retisc_json__dump(v, &sb), 0);
	back = json_loads(sb.buf, JSON_DECODE_ANY, &jerr);
	if (!back)
		fail_msg("jansson rejects '%s': %s", sb.buf, jerr.text);
	orig = json_loads(doc, JSON_DECODE_ANY, &jerr);
	assert_non_null(orig);
	if (!json_equal(orig, back))
		fail_msg("jansson reads '%s' differently from '%s'", sb.buf, doc);
	json_decref(orig);
	json_decref(back);
	retisc_json__free(v);
	retisc_strbuf__release(&sb);
}

static void test_jansson_accepts_dump(void **state)
{
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;
	struct retisc_json *v;
	json_error_t jerr;
	json_t *j;
	char all[160];
	size_t i, n = 0;

	(void)state;
	check_with_jansson("{\"common\":{\"timestamp\":30419169061793,\"smp_id\":6,\"task\":"
			   "{\"pid\":11330,\"tgid\":11330,\"comm\":\"ping\"}},\"kernel\":"
			   "{\"symbol\":\"net:net_dev_start_xmit\",\"probe_type\":"
			   "\"raw_tracepoint\"}}");
	check_with_jansson(
		" [ 1, -2, 3.25, -0.0, 1e10, 2.5e-5, true, false, null, \"\", [], {} ] ");
	check_with_jansson("{\"esc\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\","
			   "\"uni\":\"\\u00e9\\u20ac\\ud83d\\ude00\xc3\xa9\","
			   "\"nested\":{\"a\":[{\"b\":{\"c\":[[[]]]}}]}}");
	check_with_jansson("\"\\ud83d\\ude00 / \\u0008\"");
	check_with_jansson("[9223372036854775807,-9223372036854775808,0.30000000000000004]");

	/* Every ASCII byte but NUL, then multi-byte UTF-8, as one string. */
	for (i = 1; i < 128; i++)
		all[n++] = (char)i;
	memcpy(all + n, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9);
	n += 9;
	v = retisc_json__new_strn(all, n);
	assert_int_equal(retisc_json__dump(v, &sb), 0);
	j = json_loads(sb.buf, JSON_DECODE_ANY, &jerr);
	if (!j)
		fail_msg("jansson rejects '%s': %s", sb.buf, jerr.text);
	assert_int_equal(json_string_length(j), n);
	assert_memory_equal(json_string_value(j), all, n);
	json_decref(j);
	retisc_json__free(v);
	retisc_strbuf__release(&sb);
}

/*
 * The parse arena (print's workers): same values as without it, big
 * strings and member arrays that outgrow their blocks included, and the
 * thread back to ordinary allocation after the end.
 */
static void test_arena(void **state)
{
	struct retisc_strbuf in = RETISC_STRBUF_INIT, want = RETISC_STRBUF_INIT;
	struct retisc_json *heap, *v, *w;
	char *big;
	int i;

	(void)state;
	big = malloc(200001);
	assert_non_null(big);
	memset(big, 'x', 200000);
	big[200000] = '\0';
	/* 40 members, every even key twice (the last value wins), a string
	 * larger than an arena chunk. */
	retisc_strbuf__putc(&in, '{');
	retisc_strbuf__putc(&want, '{');
	for (i = 0; i < 40; i++)
		retisc_strbuf__printf(&in, "\"k%d\":%d,", i, i);
	for (i = 0; i < 40; i += 2)
		retisc_strbuf__printf(&in, "\"k%d\":[%d],", i, i + 1000);
	retisc_strbuf__printf(&in, "\"big\":\"%s\"}", big);
	for (i = 0; i < 40; i++)
		retisc_strbuf__printf(&want, i % 2 ? "\"k%d\":%d," : "\"k%d\":[%d],", i,
				      i % 2 ? i : i + 1000);
	retisc_strbuf__printf(&want, "\"big\":\"%s\"}", big);

	heap = parse_ok(retis_event);
	for (int round = 0; round < 3; round++) {
		assert_int_equal(retisc_json__arena_begin(), 0);
		assert_int_equal(retisc_json__arena_begin(), -EBUSY);
		v = parse_ok(in.buf);
		assert_int_equal(retisc_json__obj_len(v), 41);
		assert_dump(v, want.buf);
		/* Values built in the arena may be modified in it. */
		w = parse_ok(retis_event);
		for (i = 0; i < 20; i++)
			assert_int_equal(retisc_json__arr_append(retisc_json__obj_get(v, "k0"),
								 retisc_json__new_u64(i)),
					 0);
		assert_int_equal(retisc_json__arr_len(retisc_json__obj_get(v, "k0")), 21);
		assert_int_equal(retisc_json__obj_set(v, "k1", w), 0);
		assert_int_equal(retisc_json__obj_len(v), 41);
		/* Ordinary values are read and freed as usual meanwhile. */
		assert_dump(heap, retis_event);
		if (round == 2) {
			retisc_json__free(heap);
			heap = NULL;
		}
		retisc_json__free(v);
		retisc_json__arena_end();
		retisc_json__arena_end();
	}
	/* Back to the heap: a value freed one node at a time. */
	v = parse_ok(in.buf);
	assert_dump(v, want.buf);
	retisc_json__free(v);
	free(big);
	retisc_strbuf__release(&in);
	retisc_strbuf__release(&want);
}

/*
 * in parsed as it is and behind a space (which the compact fast path
 * leaves to the general parser): both fail, or both give the same text,
 * in the arena and on the heap alike.
 */
static void assert_same_tree(const char *in, size_t n)
{
	struct retisc_strbuf a = RETISC_STRBUF_INIT, b = RETISC_STRBUF_INIT;
	char *spaced = malloc(n + 2), err[128];
	struct retisc_json *x, *y;

	assert_non_null(spaced);
	spaced[0] = ' ';
	memcpy(spaced + 1, in, n);
	spaced[n + 1] = '\0';
	for (int arena = 0; arena < 2; arena++) {
		if (arena)
			assert_int_equal(retisc_json__arena_begin(), 0);
		x = retisc_json__parse(in, n, err, sizeof(err));
		y = retisc_json__parse(spaced, n + 1, err, sizeof(err));
		if (!x != !y)
			fail_msg("'%.*s': fast path %s, general parser %s", (int)n, in,
				 x ? "accepts" : "refuses", y ? "accepts" : "refuses");
		if (x) {
			retisc_strbuf__reset(&a);
			retisc_strbuf__reset(&b);
			assert_int_equal(retisc_json__dump(x, &a), 0);
			assert_int_equal(retisc_json__dump(y, &b), 0);
			if (a.len != b.len || memcmp(a.buf, b.buf, a.len))
				fail_msg("'%.*s': '%s' vs '%s'", (int)n, in, a.buf, b.buf);
		}
		retisc_json__free(x);
		retisc_json__free(y);
		if (arena)
			retisc_json__arena_end();
	}
	free(spaced);
	retisc_strbuf__release(&a);
	retisc_strbuf__release(&b);
}

/*
 * The string and key scans go 16, 8 then 1 byte at a time, and lookups
 * compare a key's first 8 bytes and its length: a special byte at every
 * place of strings and keys of every length up to 40, with and without
 * enough bytes after them for the wide steps, and lookups of keys one byte
 * shorter, longer or different at the end.
 */
static void test_scan_positions(void **state)
{
	static const char *const tails[] = {"}", ",\"pad\":\"0123456789012345678901234567890\"}"};
	char in[256], key[64], other[80];
	struct retisc_json *v;
	size_t len, pos, t;
	uint64_t u;

	(void)state;
	for (t = 0; t < 2; t++) {
		for (len = 1; len <= 40; len++) {
			for (pos = 0; pos < len; pos++) {
				char run[64];

				memset(run, 'a', len);
				run[len] = '\0';
				/* An escape in a value, then in a key: parsed, dumped back. */
				snprintf(in, sizeof(in), "{\"k\":\"%.*s\\n%s\"%s", (int)pos, run,
					 run + pos + 1, tails[t]);
				assert_roundtrip(in, in);
				v = parse_ok(in);
				assert_int_equal(strlen(retisc_json__obj_get_str(v, "k")), len);
				assert_int_equal(retisc_json__obj_get_str(v, "k")[pos], '\n');
				retisc_json__free(v);
				snprintf(in, sizeof(in), "{\"%.*s\\t%s\":1%s", (int)pos, run,
					 run + pos + 1, tails[t]);
				assert_roundtrip(in, in);
				/* A raw control byte: refused. */
				snprintf(in, sizeof(in), "{\"k\":\"%.*s\x01%s\"%s", (int)pos, run,
					 run + pos + 1, tails[t]);
				assert_null(retisc_json__parse(in, strlen(in), NULL, 0));
				snprintf(in, sizeof(in), "{\"%.*s\x1f%s\":1%s", (int)pos, run,
					 run + pos + 1, tails[t]);
				assert_null(retisc_json__parse(in, strlen(in), NULL, 0));
			}
			/* Keys of every length next to ones that differ by a byte. */
			memset(key, 'a' + (int)(len % 26), len);
			key[len] = '\0';
			snprintf(in, sizeof(in), "{\"%sz\":1,\"%s\":2,\"%.*s\":3%s", key, key,
				 (int)(len - 1), key, tails[t]);
			v = parse_ok(in);
			assert_true(retisc_json__obj_get_u64(v, key, &u));
			assert_int_equal(u, 2);
			snprintf(other, sizeof(other), "%sz", key);
			assert_true(retisc_json__obj_get_u64(v, other, &u));
			assert_int_equal(u, 1);
			other[len - 1] = 'Z';
			other[len] = '\0';
			assert_null(retisc_json__obj_get(v, other));
			snprintf(other, sizeof(other), "%sy", key);
			assert_null(retisc_json__obj_get(v, other));
			if (len > 1) {
				assert_true(retisc_json__obj_get_u64(v, key + 1, &u));
				assert_int_equal(u, 3);
			} else {
				assert_true(retisc_json__obj_get_u64(v, "", &u));
				assert_int_equal(u, 3);
			}
			retisc_json__free(v);
		}
		/* Integers of every digit count, in and out of the 8-digit steps. */
		for (len = 1; len <= 20; len++) {
			static const char *const digits[] = {"18446744073709551615",
							     "98765432109876543210"};

			for (pos = 0; pos < 2; pos++) {
				if (pos && len == 20)
					continue;
				snprintf(in, sizeof(in), "{\"n\":%.*s%s", (int)len, digits[pos],
					 tails[t]);
				v = parse_ok(in);
				assert_true(retisc_json__obj_get_u64(v, "n", &u));
				snprintf(other, sizeof(other), "%.*s", (int)len, digits[pos]);
				assert_int_equal(u, strtoull(other, NULL, 10));
				retisc_json__free(v);
			}
		}
	}
}

static void test_fast_path(void **state)
{
	static const char *const fixtures[] = {
		"retisc-1.7.json",    "retis-1.6.json",		 "retis-1.6-sorted.json",
		"retis-1.5.json",     "retisc-sorted.json",	 "ovs-retis.json",
		"sort-events.json",   "sort-events.sorted.json", "sort-text.json",
		"sort-annotate.json", "explain-mix.json",	 "render-series-drop.json",
		"print-gen.json",
	};
	static const char *const cases[] = {
		"{}",
		"[]",
		"{\"a\":{},\"b\":[]}",
		"{\"a\":[1,2,[3,{}],[]],\"b\":{\"c\":\"d\"}}",
		"{\"a\":1,\"a\":2}",
		"{\"a\":1,\"b\":2,\"a\":[3]}",
		"{\"a\\u0000b\":1,\"a\":2}",
		"{\"a\\\"\":1}",
		"{\"k\":\"x\\n\\u00e9\"}",
		"{\"n\":0}",
		"{\"n\":01}",
		"{\"n\":-0}",
		"{\"n\":-12}",
		"{\"n\":9223372036854775808}",
		"{\"n\":1234567890123456789}",
		"{\"n\":12345678901234567890}",
		"{\"n\":18446744073709551615}",
		"{\"n\":18446744073709551616}",
		"{\"n\":123456781234567812345678}",
		"{\"n\":12345678}",
		"{\"n\":1234567a}",
		"{\"n\":1.5e3}",
		"{\"n\":1E2}",
		"{\"n\":10.}",
		"{\"t\":true,\"f\":false,\"z\":null}",
		"{\"a\":tru}",
		"{\"a\":1}x",
		"{\"a\":1",
		"{\"a\":1,}",
		"[1,]",
		"[1 ,2]",
		"{\"a\" :1}",
		"{\"a\":1 }",
		"{\"a\":1}\n",
		"{\"a\x01\":1}",
		"{\"a\":\"b\x01\"}",
		"{\"abcdefghijklmnop\":\"\",\"abcdefgh\":1}",
		"{\"a",
		"{\"abcdefghij",
		"{\"abcdefghij\"",
		"[\"x\"",
		"[12345678901",
		"{\"a\":[{\"b\":[{\"c\":[0]}]}]}",
	};
	struct retisc_strbuf in = RETISC_STRBUF_INIT;
	char *text, *line, *save = NULL;
	int i;

	(void)state;
	for (size_t f = 0; f < sizeof(fixtures) / sizeof(fixtures[0]); f++) {
		text = fixture_read(fixtures[f]);
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			assert_same_tree(line, strlen(line));
		free(text);
	}
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
		for (size_t n = 0; n <= strlen(cases[c]); n++)
			assert_same_tree(cases[c], n);
	/* Past the fast path's limits: depth, members, items. */
	for (int d = 30; d <= 34; d++) {
		retisc_strbuf__reset(&in);
		for (i = 0; i < d; i++)
			retisc_strbuf__puts(&in, i % 2 ? "[" : "{\"k\":");
		retisc_strbuf__putc(&in, '1');
		for (i = d - 1; i >= 0; i--)
			retisc_strbuf__puts(&in, i % 2 ? "]" : "}");
		assert_same_tree(in.buf, in.len);
	}
	for (int m = 31; m <= 34; m++) {
		retisc_strbuf__reset(&in);
		retisc_strbuf__putc(&in, '{');
		for (i = 0; i < m; i++)
			retisc_strbuf__printf(&in, "%s\"k%d\":%d", i ? "," : "", i % (m - 1), i);
		retisc_strbuf__putc(&in, '}');
		assert_same_tree(in.buf, in.len);
		retisc_strbuf__reset(&in);
		retisc_strbuf__putc(&in, '[');
		for (i = 0; i < 2 * m; i++)
			retisc_strbuf__printf(&in, "%s%d", i ? "," : "", i);
		retisc_strbuf__putc(&in, ']');
		assert_same_tree(in.buf, in.len);
	}
	retisc_strbuf__release(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retis_event_roundtrip),
		cmocka_unit_test(test_build_event),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_doubles),
		cmocka_unit_test(test_dump_escapes),
		cmocka_unit_test(test_parse_escapes),
		cmocka_unit_test(test_surrogates),
		cmocka_unit_test(test_lossy),
		cmocka_unit_test(test_key_order),
		cmocka_unit_test(test_obj_set_replace),
		cmocka_unit_test(test_obj_insert),
		cmocka_unit_test(test_obj_take_del),
		cmocka_unit_test(test_arrays),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_whitespace),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_types_and_errors),
		cmocka_unit_test(test_jansson_accepts_dump),
		cmocka_unit_test(test_arena),
		cmocka_unit_test(test_fast_path),
		cmocka_unit_test(test_scan_positions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
