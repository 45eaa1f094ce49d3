// SPDX-License-Identifier: GPL-2.0-only
/*
 * `retisc stitch` on streams recorded on two kernels by the fleet VM test
 * (tests/vm/fleet.sh, doc/fleet.md §6) when it had one guest, and before
 * the tracking guard told pure ACKs apart: this machine (tracepoint
 * tracking, 6.18) and the VM lane's QEMU guest (kprobe tracking, 6.1), one
 * tap link, a ping (5 requests, 5 replies) and a TCP connection carrying
 * 64 KiB from the host to the guest (tests/fixtures/stitch-vm-*.json).
 *
 * What the recording holds that synthetic streams do not: a guest whose
 * NIC frees sent buffers after the host received them (the series' last
 * event is not where the packet left), pure ACKs that differ only by ack
 * number, IP id and timestamp, and two tracking ids of the host that each
 * hold several of those ACKs (buffers recycled with no end of life seen in
 * tracepoint mode). The expected text, tests/fixtures/expected/stitch-vm.txt,
 * passed tests/vm/check_fleet.py: 27 packets, 27 journeys, each on both
 * hosts, starting on its sender, the other host's first event after the
 * sender's transmit.
 */
#include "proctest.h"

#include <inttypes.h>

#define HOST_ARG "fleet-host=%s"
#define GUEST_ARG "fleet-guest=%s"
#define OFFSET_LINE                                                                                \
	"clock of fleet-guest: +502.878 ms to align with fleet-host (27 matched packet(s), both "  \
	"ways)"

static const char *host_in(void)
{
	return ring_path(HOST_ARG, fixture("stitch-vm-host.json"));
}

static void test_journeys(void **state)
{
	char *want = fixture_read("expected/stitch-vm.txt");
	struct pt_run r;

	(void)state;
	pt_run(&r, "stitch", "--cross", host_in(),
	       ring_path(GUEST_ARG, fixture("stitch-vm-guest.json")));
	assert_int_equal(r.status, 0);
	assert_str_eq(r.out, want);
	assert_contains(pt_log(&r), OFFSET_LINE);
	pt_free(&r);
	free(want);
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The host's merged tracking ids are split by identity: each of the five
 * ACKs under one id is a journey of its own, joined to the guest's
 * transmit of that ACK. */
static void test_merged_id_split(void **state)
{
	const char *id = "#1b1e5c88bfd8ffff88816be98000";
	struct pt_run r;
	int journeys = 0;

	(void)state;
	pt_run(&r, "stitch", host_in(), ring_path(GUEST_ARG, fixture("stitch-vm-guest.json")));
	assert_int_equal(r.status, 0);
	for (char *j = r.out, *next; j && *j; j = next) {
		next = strstr(j, "\n\n");
		if (next) {
			*next = '\0';
			next += 2;
		}
		if (!strstr(j, id))
			continue;
		journeys++;
		/* A guest's ACK first, then the host's receive of it. */
		assert_true(starts(j, "[fleet-guest] "));
		assert_non_null(strstr(j, "  ↳ [fleet-guest → fleet-host] "));
	}
	assert_int_equal(journeys, 5);
	pt_free(&r);
}

/* The guest's startup clock moved 5 s ahead: the same journeys, and the
 * estimate finds the 5 s. */
static void test_clock_shift(void **state)
{
	char *want = fixture_read("expected/stitch-vm.txt");
	char *in = fixture_read("stitch-vm-guest.json");
	const char *key = "\"clock_monotonic_offset\":{\"sec\":";
	char *at = strstr(in, key), *end;
	long long sec;
	struct retisc_strbuf shifted = {};
	struct pt_run r;

	(void)state;
	assert_non_null(at);
	at += strlen(key);
	sec = strtoll(at, &end, 10);
	retisc_strbuf__printf(&shifted, "%.*s%lld%s", (int)(at - in), in, sec + 5, end);
	pt_run(&r, "stitch", "--cross", host_in(),
	       ring_path(GUEST_ARG, tmp_file("guest-5s.json", shifted.buf)));
	assert_int_equal(r.status, 0);
	assert_str_eq(r.out, want);
	assert_contains(pt_log(&r), "clock of fleet-guest: -4497.122 ms to align with fleet-host "
				    "(27 matched packet(s), both ways)");
	pt_free(&r);
	retisc_strbuf__release(&shifted);
	free(in);
	free(want);
}

/* One host's stream alone: no journey crosses hosts. */
static void test_one_host(void **state)
{
	struct pt_run r;

	(void)state;
	pt_run(&r, "stitch", "--cross", host_in());
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "");
	pt_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journeys),
		cmocka_unit_test(test_merged_id_split),
		cmocka_unit_test(test_clock_shift),
		cmocka_unit_test(test_one_host),
	};

	return cmocka_run_group_tests(tests, pt_group_setup, pt_group_teardown);
}
