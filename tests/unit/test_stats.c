// SPDX-License-Identifier: GPL-2.0-only
/*
 * stats processor (doc/processing.md §3): blocks per file of a rotated set, the
 * series file form, probe counts, UTC times, invalid events and errors.
 * Expected outputs (tests/fixtures/expected/stats-*.txt) follow the layout
 * of §3; times are timestamp + the startup offset 1742309146.691042000 s,
 * in UTC.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proctest.h"

#define STARTUP                                                                                    \
	"{\"common\":{\"timestamp\":1},\"startup\":{\"retis_version\":\"v1.7.0\",\"cmdline\":"     \
	"\"retisc collect\",\"clock_monotonic_offset\":{\"sec\":1742309146,\"nsec\":691042000},"   \
	"\"machine\":{\"kernel_release\":\"a\",\"kernel_version\":\"b\",\"hardware_name\":"        \
	"\"c\"}}}\n"
#define KEV(ts, type, sym)                                                                         \
	"{\"common\":{\"timestamp\":" #ts "},\"kernel\":{\"symbol\":\"" sym "\",\"probe_type\":"   \
	"\"" type "\"}}\n"

static void test_events_file(void **state)
{
	char *want = fixture_read("expected/stats-events-file.txt");

	(void)state;
	pt_expect_out(0, want, "stats", fixture("retisc-1.7.json"));
	free(want);
}

/* One block per split file; version and cmdline only for split id 0. */
static void test_rotated_set(void **state)
{
	char *want = fixture_read("expected/stats-rotated-set.txt");
	char in[PATH_MAX];

	(void)state;
	snprintf(in, sizeof(in), "%s..", fixture("split.data.0"));
	pt_expect_out(0, want, "stats", in);
	free(want);
}

/* Series file: one block, the startup series not counted as a series; the
 * ovs-detrace event (no kernel/userspace) is warned about, not counted. */
static void test_series_file(void **state)
{
	char *want = fixture_read("expected/stats-series-file.txt");
	struct pt_run r;

	(void)state;
	pt_run(&r, "stats", fixture("retisc-sorted.json"));
	assert_int_equal(r.status, 0);
	assert_str_eq(r.out, want);
	assert_contains(pt_log(&r), "Error gathering stats from event: Invalid event: ");
	pt_free(&r);
	free(want);
}

/* Count descending (ties by name), first = first counted event, last = the
 * largest timestamp; USDT probes count as usdt/<symbol>. The input
 * (tests/fixtures/stats-counts.json) has kprobes a x3, c x2, raw_tracepoint
 * b and one USDT event, their timestamps out of order. */
static void test_counts(void **state)
{
	char *want = fixture_read("expected/stats-counts.txt");

	(void)state;
	pt_expect_out(0, want, "stats", fixture("stats-counts.json"));
	free(want);
}

/* A file with no event: no times, no probes. */
static void test_no_event(void **state)
{
	(void)state;
	pt_expect_out(0,
		      "Retis version: v1.7.0\nRetis cmdline: retisc collect\n"
		      "Number of events: 0\n",
		      "stats", tmp_file("empty-ev.json", STARTUP));
}

/* A malformed line names file and line; what was read is still reported,
 * and --keep-going counts what follows. */
static void test_malformed(void **state)
{
	char want[PATH_MAX + 32];
	const char *in;
	struct pt_run r;

	(void)state;
	in = tmp_file("bad.json", STARTUP KEV(2000000000, "kprobe",
					      "a") "{\"common\":\n" KEV(2100000000, "kprobe", "a"));
	pt_run(&r, "stats", in);
	assert_int_equal(r.status, 1);
	snprintf(want, sizeof(want), "%s:3: ", in);
	assert_contains(pt_log(&r), want);
	assert_contains(r.out, "Number of events: 1\n");
	pt_free(&r);

	pt_run(&r, "stats", "--keep-going", in);
	assert_int_equal(r.status, 1);
	assert_contains(r.out, "Number of events: 2\n");
	pt_free(&r);

	pt_expect_log(1, "/nonexistent-dir/x: No such file or directory", "stats",
		      "/nonexistent-dir/x");

	pt_run(&r, "stats", in, in);
	assert_int_equal(r.status, 2);
	pt_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events_file), cmocka_unit_test(test_rotated_set),
		cmocka_unit_test(test_series_file), cmocka_unit_test(test_counts),
		cmocka_unit_test(test_no_event),    cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, pt_group_setup, pt_group_teardown);
}
