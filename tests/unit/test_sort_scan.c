// SPDX-License-Identifier: GPL-2.0-only
/*
 * sort's line scanner (processors/sort/sort_scan.c, doc/processing.md
 * §2.7): the fields it reads, where `tracking` goes, the lines it must
 * decline (anything the JSON writer would not write as it stands, and the
 * sections the tree path reads), and the property that makes copying a line
 * through right: every line it accepts is exactly what the writer writes
 * for its parsed tree, with the same fields.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <retisc/json.h>
#include <retisc/strbuf.h>

#include "sort_scan.h"
#include "testutil.h"

static bool scan(const char *line, struct retisc_sort_scan *f)
{
	return retisc_sort_scan__line(line, strlen(line), f);
}

static size_t offset_of(const char *line, const char *needle)
{
	const char *p = strstr(line, needle);

	assert_non_null(p);
	return (size_t)(p - line);
}

static void test_fields(void **state)
{
	const char *line = "{\"common\":{\"timestamp\":100,\"smp_id\":0,\"task\":{\"pid\":7,"
			   "\"comm\":\"ping\"}},"
			   "\"kernel\":{\"symbol\":\"net:netif_receive_skb\",\"probe_type\":\"raw_"
			   "tracepoint\"},"
			   "\"skb-tracking\":{\"orig_head\":18446612686365241344,\"timestamp\":99,"
			   "\"skb\":18446744073709551615,\"lost\":2},"
			   "\"packet\":{\"len\":60,\"data\":\"AAEC/"
			   "+==\"},\"x\":[1,-2,0,true,false,null,{},[]]}";
	struct retisc_sort_scan f;

	(void)state;
	assert_true(scan(line, &f));
	assert_int_equal(f.ts, 100);
	assert_true(f.has_id);
	assert_true(f.id_head == 18446612686365241344ULL);
	assert_int_equal(f.id_ts, 99);
	assert_true(f.id_skb == UINT64_MAX);
	assert_int_equal(f.lost, 2);
	/* Right before skb-tracking, the first key ranked after tracking. */
	assert_false(f.at_end);
	assert_int_equal(f.insert_at, offset_of(line, "\"skb-tracking\""));
}

static void test_insert_place(void **state)
{
	const char *end = "{\"common\":{\"timestamp\":7},\"userspace\":{\"a\":1},\"kernel\":{}}";
	const char *first =
		"{\"kernel\":{},\"common\":{\"timestamp\":7},\"dev\":{},\"userspace\":{}}";
	const char *skbt = "{\"skb-tracking\":{\"orig_head\":1,\"timestamp\":2,\"skb\":3},"
			   "\"common\":{\"timestamp\":7}}";
	struct retisc_sort_scan f;

	(void)state;
	/* Nothing ranked after tracking: at the closing brace. */
	assert_true(scan(end, &f));
	assert_false(f.has_id);
	assert_true(f.at_end);
	assert_int_equal(f.insert_at, strlen(end) - 1);
	/* The first such key, wherever common is. */
	assert_true(scan(first, &f));
	assert_false(f.at_end);
	assert_int_equal(f.insert_at, offset_of(first, "\"dev\""));
	assert_true(scan(skbt, &f));
	assert_true(f.has_id);
	assert_int_equal(f.insert_at, 1);
	assert_int_equal(f.id_head, 1);
	assert_int_equal(f.id_ts, 2);
	assert_int_equal(f.id_skb, 3);
	assert_int_equal(f.lost, 0);
}

/* Lines the scanner must leave to the parser, and why. */
static const char *const declined[] = {
	/* Not what the writer writes. */
	"{\"common\":{\"timestamp\":7}} ",
	"{ \"common\":{\"timestamp\":7}}",
	"{\"common\":{\"timestamp\": 7}}",
	"{\"common\":{\"timestamp\":7},\"a\":\"x\\\"y\"}",
	"{\"common\":{\"timestamp\":7},\"a\":\"x\\/y\"}",
	"{\"common\":{\"timestamp\":7},\"a\":\"\\u00e9\"}",
	"{\"common\":{\"timestamp\":7},\"a\":\"tab\there\"}",
	"{\"common\":{\"timestamp\":7},\"a\":1.5}",
	"{\"common\":{\"timestamp\":7},\"a\":1e3}",
	"{\"common\":{\"timestamp\":7},\"a\":1E3}",
	"{\"common\":{\"timestamp\":7},\"a\":-0}",
	"{\"common\":{\"timestamp\":7},\"a\":01}",
	"{\"common\":{\"timestamp\":7},\"a\":18446744073709551616}",
	"{\"common\":{\"timestamp\":7},\"a\":-9223372036854775809}",
	"{\"common\":{\"timestamp\":7},\"a\":1,\"a\":2}",
	"{\"common\":{\"timestamp\":7},\"b\":{\"a\":1,\"c\":2,\"a\":3}}",
	"{\"common\":{\"timestamp\":7},\"common\":{\"timestamp\":8}}",
	/* Not JSON, or not all of it. */
	"{\"common\":{\"timestamp\":7}",
	"{\"common\":{\"timestamp\":7}}}",
	"{\"common\":{\"timestamp\":7},\"a\":tru}",
	"{\"common\":{\"timestamp\":7},\"a\":[1,]}",
	"{\"common\":{\"timestamp\":7},\"a\":\"open}",
	"{\"common\":{\"timestamp\":7},}",
	"{\"common\":{\"timestamp\":7},\"a\"}",
	"[{\"common\":{\"timestamp\":7}}]",
	"",
	/* Events the tree path must see: errors, or sections it reads. */
	"{\"kernel\":{}}",
	"{\"common\":7}",
	"{\"common\":{}}",
	"{\"common\":{\"timestamp\":-7}}",
	"{\"common\":{\"timestamp\":\"7\"}}",
	"{\"common\":{\"timestamp\":null}}",
	"{\"common\":{\"timestamp\":7},\"skb-tracking\":null}",
	"{\"common\":{\"timestamp\":7},\"skb-tracking\":{\"orig_head\":1,\"timestamp\":2}}",
	"{\"common\":{\"timestamp\":7},\"skb-tracking\":{\"orig_head\":1,\"timestamp\":2,"
	"\"skb\":-3}}",
	"{\"common\":{\"timestamp\":7},\"skb-tracking\":{\"orig_head\":1,\"timestamp\":2,"
	"\"skb\":3,\"lost\":\"x\"}}",
	"{\"common\":{\"timestamp\":7},\"startup\":{}}",
	"{\"common\":{\"timestamp\":7},\"tracking\":{}}",
	"{\"common\":{\"timestamp\":7},\"ovs\":{\"event_type\":\"upcall\"}}",
	"{\"common\":{\"timestamp\":7},\"ovs-detrace\":{}}",
};

static void test_declined(void **state)
{
	struct retisc_sort_scan f;

	(void)state;
	for (size_t i = 0; i < sizeof(declined) / sizeof(declined[0]); i++)
		if (scan(declined[i], &f))
			fail_msg("accepted: %s", declined[i]);
}

/* Deeper than 16 levels or more than 32 keys in an object: the parser's. */
static void test_limits(void **state)
{
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;
	struct retisc_sort_scan f;

	(void)state;
	for (int depth = 15; depth <= 16; depth++) {
		retisc_strbuf__reset(&sb);
		retisc_strbuf__puts(&sb, "{\"common\":{\"timestamp\":7},\"a\":");
		for (int i = 1; i < depth; i++)
			retisc_strbuf__putc(&sb, '[');
		for (int i = 1; i < depth; i++)
			retisc_strbuf__putc(&sb, ']');
		retisc_strbuf__putc(&sb, '}');
		/* depth containers in all: the object and depth - 1 arrays. */
		assert_int_equal(scan(sb.buf, &f), depth <= 16);
	}
	retisc_strbuf__reset(&sb);
	retisc_strbuf__puts(
		&sb, "{\"common\":{\"timestamp\":7},\"a\":[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]}");
	assert_false(scan(sb.buf, &f));
	for (int keys = 32; keys <= 33; keys++) {
		retisc_strbuf__reset(&sb);
		retisc_strbuf__puts(&sb, "{\"common\":{\"timestamp\":7}");
		for (int i = 1; i < keys; i++)
			retisc_strbuf__printf(&sb, ",\"k%d\":%d", i, i);
		retisc_strbuf__putc(&sb, '}');
		assert_int_equal(scan(sb.buf, &f), keys <= 32);
	}
	retisc_strbuf__release(&sb);
}

/*
 * The property: an accepted line is what the writer writes for its tree,
 * and the fields are the tree's. Returns whether the line was accepted.
 */
static bool check_line(const char *line, size_t len)
{
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;
	const struct retisc_json *common, *st;
	struct retisc_sort_scan f;
	struct retisc_json *v;
	uint64_t u;
	char err[256];

	if (!retisc_sort_scan__line(line, len, &f))
		return false;
	v = retisc_json__parse(line, len, err, sizeof(err));
	if (!v)
		fail_msg("accepted but does not parse (%s): %.*s", err, (int)len, line);
	assert_int_equal(retisc_json__dump(v, &sb), 0);
	if (sb.len != len || memcmp(sb.buf, line, len))
		fail_msg("accepted but written differently:\n%.*s\n%s", (int)len, line, sb.buf);
	common = retisc_json__obj_get(v, "common");
	assert_true(retisc_json__obj_get_u64(common, "timestamp", &u));
	assert_true(u == f.ts);
	st = retisc_json__obj_get(v, "skb-tracking");
	assert_int_equal(f.has_id, st != NULL);
	if (st) {
		assert_true(retisc_json__obj_get_u64(st, "timestamp", &u) && u == f.id_ts);
		assert_true(retisc_json__obj_get_u64(st, "orig_head", &u) && u == f.id_head);
		assert_true(retisc_json__obj_get_u64(st, "skb", &u) && u == f.id_skb);
	}
	retisc_json__free(v);
	retisc_strbuf__release(&sb);
	return true;
}

/* Every event line of the fixtures that retisc wrote is accepted (but the
 * sections the tree path reads), and satisfies the property. */
static void test_fixtures(void **state)
{
	static const char *const files[] = {
		"retisc-1.7.json",    "sort-events.json",  "sort-text.json",
		"sort-annotate.json", "stats-counts.json", "ovs-retis.json",
	};
	char dir[PATH_MAX];
	size_t accepted = 0;

	(void)state;
	assert_int_equal(find_fixture_dir(dir), 0);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *text = slurp(ring_path("%s/%s", dir, files[i]), NULL), *line, *save = NULL;

		assert_non_null(text);
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			bool tree = strstr(line, "\"startup\":") || strstr(line, "\"ovs\":") ||
				    strstr(line, "\"ovs-detrace\":") ||
				    strstr(line, "\"tracking\":");

			if (check_line(line, strlen(line)))
				accepted++;
			else if (!tree)
				fail_msg("%s: declined: %s", files[i], line);
		}
		free(text);
	}
	assert_true(accepted >= 20);
}

/*
 * Lines cut at every length and with every byte changed to a character
 * that matters to JSON: whatever is accepted satisfies the property.
 */
static void test_mutations(void **state)
{
	static const char base[] =
		"{\"common\":{\"timestamp\":1000001238,\"smp_id\":0,\"task\":{\"pid\":1006,"
		"\"comm\":\"ksoftirqd/0\"}},\"kernel\":{\"symbol\":\"net:net_dev_start_xmit\"},"
		"\"skb-tracking\":{\"orig_head\":18446612686365241344,\"timestamp\":1000001238,"
		"\"skb\":18446612686901900800},\"packet\":{\"len\":360,\"data\":\"AgAAAAAC/w==\"},"
		"\"skb\":{\"meta\":{\"len\":360,\"csum\":0}},\"a\":[1,true,null]}";
	static const char subst[] = "{}[],:\"\\ 0-1.eEtfn\x01\xc3";
	char buf[sizeof(base)];
	size_t n = sizeof(base) - 1, accepted = 0;

	(void)state;
	assert_true(check_line(base, n));
	for (size_t cut = 0; cut < n; cut++)
		accepted += check_line(base, cut);
	assert_int_equal(accepted, 0);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < sizeof(subst) - 1; j++) {
			memcpy(buf, base, sizeof(base));
			buf[i] = subst[j];
			accepted += check_line(buf, n);
		}
	}
	/* Digits for digits, letters in strings...: many stay acceptable. */
	assert_true(accepted > n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),	 cmocka_unit_test(test_insert_place),
		cmocka_unit_test(test_declined), cmocka_unit_test(test_limits),
		cmocka_unit_test(test_fixtures), cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
