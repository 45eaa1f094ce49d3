// SPDX-License-Identifier: GPL-2.0-only
/*
 * print processor (doc/processing.md §1): rendering on worker threads
 * (§1.1) must write what one thread writes, in input order, across many
 * batches, and report bad lines in order with their file and line, after
 * the text of the lines before them; without --keep-going nothing after
 * the first bad line is written.
 *
 * The input is built from tests/fixtures/sort-text.json: its startup line
 * (without clock offset), then its six events again and again with growing timestamps (3000 lines:
 * several batches of 512), with bad lines at known places.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proctest.h"

#define LINES 3000

static const char *bad_lines[] = {
	"{\"common\":{\"timestamp\":1},\"x\":tru}", /* parse error */
	"{\"kernel\":{\"symbol\":\"x\"}}",	    /* check: missing common */
	"{\"common\":{\"smp_id\":0}}",		    /* render: no timestamp */
};

/*
 * Write the input: line 1 the startup event, then LINES - 1 events; the
 * bad ones at line numbers bad_at[] (0: none) unless skip_bad, in which
 * case they are left out, and only lines up to last (0: all).
 */
static const char *make_input(const char *name, const unsigned long *bad_at, bool skip_bad,
			      unsigned long last)
{
	char *text = slurp(fixture("sort-text.json"), NULL), *save = NULL, *l;
	char *lines[16];
	size_t nl = 0, k = 0;
	const char *path = tmp_path(name);
	FILE *f;

	assert_non_null(text);
	for (l = strtok_r(text, "\n", &save); l && nl < 16; l = strtok_r(NULL, "\n", &save))
		lines[nl++] = l;
	assert_true(nl >= 3);
	f = fopen(path, "w");
	assert_non_null(f);
	/* Without its clock offset, so that --utc changes nothing. */
	l = strstr(lines[0], "\"clock_monotonic_offset\":");
	assert_non_null(l);
	fprintf(f, "%.*s%s\n", (int)(l - lines[0]), lines[0], strstr(l, "},") + 2);
	for (unsigned long n = 2; n <= LINES && (!last || n <= last); n++) {
		size_t b;
		const char *ev;
		char *ts;

		for (b = 0; b < 3 && bad_at[b] != n; b++)
			;
		if (b < 3) {
			if (!skip_bad)
				fprintf(f, "%s\n", bad_lines[b]);
			continue;
		}
		/* The events of the fixture, timestamps moved on. */
		ev = lines[1 + k++ % (nl - 1)];
		ts = strstr(ev, "\"timestamp\":");
		assert_non_null(ts);
		fprintf(f, "%.*s\"timestamp\":%lu%s\n", (int)(ts - ev), ev, 1000000 + n,
			strpbrk(ts + 12, ",}"));
	}
	fclose(f);
	free(text);
	return path;
}

static void test_batches_in_order(void **state)
{
	static const unsigned long none[3] = {0, 0, 0};
	const char *in = make_input("many.json", none, false, 0);
	struct pt_run r, s;
	char *one;

	(void)state;
	pt_run(&r, "print", in);
	assert_int_equal(r.status, 0);
	assert_string_equal(pt_log(&r), "");
	/* The same text as line after line on one thread: --utc keeps print
	 * on its thread and, without a clock offset in the startup event,
	 * changes nothing else (decimal times). */
	pt_run(&s, "print", "--utc", in);
	assert_int_equal(s.status, 0);
	one = s.out;
	assert_int_equal(r.out_len, s.out_len);
	assert_memory_equal(r.out, one, r.out_len);
	pt_free(&r);
	pt_free(&s);
}

static void test_bad_lines_in_order(void **state)
{
	static const unsigned long at[3] = {700, 1500, 2900};
	const char *in = make_input("bad.json", at, false, 0);
	const char *good = make_input("good.json", at, true, 0);
	const char *head = make_input("head.json", at, true, 699);
	char want[3][PATH_MAX + 128];
	const char *log, *p0, *p1, *p2;
	struct pt_run r, g;

	(void)state;
	snprintf(want[0], sizeof(want[0]), "%s:700: invalid literal at column 31", in);
	snprintf(want[1], sizeof(want[1]), "%s:1500: missing common", in);
	snprintf(want[2], sizeof(want[2]), "%s:2900: cannot render event", in);

	/* --keep-going: every good line's text, each error once, in order. */
	pt_run(&r, "print", "--keep-going", in);
	pt_run(&g, "print", good);
	assert_int_equal(r.status, 1);
	assert_int_equal(g.status, 0);
	assert_int_equal(r.out_len, g.out_len);
	assert_memory_equal(r.out, g.out, r.out_len);
	log = pt_log(&r);
	p0 = strstr(log, want[0]);
	p1 = strstr(log, want[1]);
	p2 = strstr(log, want[2]);
	if (!p0 || !p1 || !p2)
		fail_msg("missing errors in:\n%s", log);
	assert_true(p0 < p1 && p1 < p2);
	pt_free(&r);
	pt_free(&g);

	/* Without: the text of lines 1-699, then the first error only. */
	pt_run(&r, "print", in);
	pt_run(&g, "print", head);
	assert_int_equal(r.status, 1);
	assert_int_equal(r.out_len, g.out_len);
	assert_memory_equal(r.out, g.out, r.out_len);
	assert_contains(pt_log(&r), want[0]);
	assert_not_contains(pt_log(&r), ":1500:");
	pt_free(&r);
	pt_free(&g);
}

/* A series file (sort -o) through the workers: as one thread prints it. */
static void test_series_file(void **state)
{
	static const unsigned long none[3] = {0, 0, 0};
	const char *in = make_input("s-in.json", none, false, 0);
	const char *sorted = tmp_path("s-out.json");
	struct pt_run r, s;

	(void)state;
	pt_run(&r, "sort", in, "-o", sorted);
	assert_int_equal(r.status, 0);
	pt_free(&r);
	pt_run(&r, "print", "--format", "single-line", sorted);
	pt_run(&s, "print", "--format", "single-line", "--utc", sorted);
	assert_int_equal(r.status, 0);
	assert_true(r.out_len > 100000);
	assert_int_equal(r.out_len, s.out_len);
	assert_memory_equal(r.out, s.out, r.out_len);
	pt_free(&r);
	pt_free(&s);
}

/*
 * The text of generated events (UDP and TCP over IPv4, skb-tracking, skb
 * meta: what the JSON fast path, the packet line and the short appends
 * render most), byte for byte as written before those were optimised.
 * The fixture is the first 40 lines of `retisc-bench gen`'s output.
 */
static void test_generated_text(void **state)
{
	static const char *const runs[][2] = {
		{"", "expected/print-gen-multi.txt"},
		{"-e", "expected/print-gen-single-e.txt"},
	};
	struct pt_run r;

	(void)state;
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		char *want = fixture_read(runs[i][1]);

		if (i)
			pt_run(&r, "print", "--format", "single-line", runs[i][0],
			       fixture("print-gen.json"));
		else
			pt_run(&r, "print", fixture("print-gen.json"));
		assert_int_equal(r.status, 0);
		assert_str_eq(r.out, want);
		free(want);
		pt_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batches_in_order),
		cmocka_unit_test(test_bad_lines_in_order),
		cmocka_unit_test(test_series_file),
		cmocka_unit_test(test_generated_text),
	};

	return cmocka_run_group_tests(tests, pt_group_setup, pt_group_teardown);
}
