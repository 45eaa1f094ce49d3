// SPDX-License-Identifier: GPL-2.0-only
/*
 * explain and report (doc/processing.md §7, §8): the fate rules over
 * recorded files (tests/fixtures/explain-*.json, recorded live on this
 * kernel by tests/live/explain.sh's scenarios and cut down to their
 * packets) and Retis's own fixtures, text and JSON output, the series file
 * path, the in-flight window, the latency histograms, option errors, and
 * the report's escaping and self-containment.
 *
 * Expected outputs (tests/fixtures/expected/explain-*) were checked by
 * hand against the events: e.g. explain-fwd.json is `ping` through a
 * namespace with forwarding disabled, whose requests the kernel drops with
 * IP_INADDRERRORS on the middle namespace's receiving veth.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proctest.h"

#include "explain.h"

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void expect_fixture(const char *expected, const char *opt, const char *input)
{
	char *want = fixture_read(expected);

	if (opt)
		pt_expect_out(0, want, "explain", opt, "json", fixture(input));
	else
		pt_expect_out(0, want, "explain", fixture(input));
	free(want);
}

/* Forwarding disabled in the middle namespace, skb-drop collected. */
static void test_forward_disabled_dropped(void **state)
{
	(void)state;
	expect_fixture("expected/explain-fwd.txt", NULL, "explain-fwd.json");
}

/*
 * The same without skb-drop: the requests vanish at the receive in the
 * middle namespace. The second request is the file's last packet, within
 * the default 200 ms window of its end: in flight. With --in-flight 0
 * both vanished.
 */
static void test_forward_disabled_vanished(void **state)
{
	struct pt_run r;

	(void)state;
	expect_fixture("expected/explain-fwd-vanished.txt", NULL, "explain-fwd-vanished.json");
	pt_run(&r, "explain", "--in-flight", "0", fixture("explain-fwd-vanished.json"));
	assert_int_equal(r.status, 0);
	assert_int_equal(count(r.out, " vanished: last seen at net:netif_receive_skb on veth-xma "
				      "in netns 4026532705 (likely reasons: rx)"),
			 2);
	assert_contains(r.out, "Fates: vanished 2\n");
	assert_contains(r.out, "  - not addressed to this netns and IP forwarding disabled there");
	pt_free(&r);
}

/* DNAT both ways, an nft rule named by its trace, NO_SOCKET. */
static void test_mixed_text_and_json(void **state)
{
	(void)state;
	expect_fixture("expected/explain-mix.txt", NULL, "explain-mix.json");
	expect_fixture("expected/explain-mix.jsonl", "--format", "explain-mix.json");
}

/* A series file gives what its events file gives. */
static void test_series_file(void **state)
{
	char *want = fixture_read("expected/explain-mix.txt");
	const char *sorted = tmp_path("explain-mix.sorted.json");
	struct pt_run r;

	(void)state;
	pt_run(&r, "sort", fixture("explain-mix.json"), "-o", sorted);
	assert_int_equal(r.status, 0);
	pt_free(&r);
	pt_expect_out(0, want, "explain", sorted);
	free(want);
}

/* Retis's OVS fixture: upcalled and re-injected, an OVS drop action. */
static void test_retis_ovs(void **state)
{
	(void)state;
	expect_fixture("expected/explain-ovs.txt", NULL, "ovs-retis.json");
}

/* Retis 1.5 (fixed up by the reader) and a Retis 1.6 series file. */
static void test_retis_old_formats(void **state)
{
	struct pt_run r;

	(void)state;
	pt_run(&r, "explain", fixture("retis-1.5.json"));
	assert_int_equal(r.status, 0);
	assert_contains(r.out, "[1] #1baa83c42ba1ffff8e95c3b67c00 icmp 192.168.125.10 > "
			       "192.168.125.11 id 29004 transmitted: on veth-ns01 in netns "
			       "4026532741; 1 event(s) in 0ns\n");
	assert_contains(r.out, "Series: 1 (1 event(s)), untracked events: 2\n");
	pt_free(&r);
	pt_run(&r, "explain", "--in-flight", "0", fixture("retis-1.6-sorted.json"));
	assert_int_equal(r.status, 0);
	assert_contains(r.out, "vanished: last seen at ip_rcv (likely reasons: rx); 2 event(s) "
			       "in 500ns\n");
	assert_contains(r.out, "    tcp_v4_rcv > ip_rcv: 500ns / 500ns / 500ns (1)\n");
	pt_free(&r);
}

/* Lost events make a series incomplete; the rewrite is still reported. */
static void test_incomplete(void **state)
{
	struct pt_run r;

	(void)state;
	pt_run(&r, "explain", fixture("sort-annotate.json"));
	assert_int_equal(r.status, 0);
	assert_contains(r.out,
			"[1] #3e80000000000001b58 udp 10.0.0.1:1234 > 10.0.0.100:80 "
			"incomplete: 2 event(s) lost; then transmitted: on veth1 in netns "
			"200; nat dst 10.0.0.100:80 -> 10.0.0.2:8080; 3 event(s) in 500ns\n");
	assert_contains(r.out, "Fates: incomplete 1\n");
	pt_free(&r);
}

#define STARTUP                                                                                    \
	"{\"common\":{\"timestamp\":1},\"startup\":{\"retis_version\":\"v1.7.0\",\"cmdline\":"     \
	"\"retisc collect\",\"clock_monotonic_offset\":{\"sec\":1,\"nsec\":0},"                    \
	"\"machine\":{\"kernel_release\":\"a\",\"kernel_version\":\"b\",\"hardware_name\":"        \
	"\"c\"}}}\n"
#define TRK(ts) "\"skb-tracking\":{\"orig_head\":4096,\"timestamp\":" #ts ",\"skb\":8192}"

/* Events without a tracking id are counted, not explained. */
static void test_untracked(void **state)
{
	const char *in = tmp_file("untracked.json",
				  STARTUP "{\"common\":{\"timestamp\":5},\"kernel\":{\"symbol\":"
					  "\"net:netif_rx\",\"probe_type\":\"raw_tracepoint\"}}\n");

	(void)state;
	pt_expect_out(0, "\nFlows: 0\n\nSeries: 0 (0 event(s)), untracked events: 1\nFates: \n",
		      "explain", in);
}

/* Untrusted names are escaped, nothing is fetched, the drop is drawn. */
static void test_report_escapes(void **state)
{
	const char *in =
		tmp_file("report.json", STARTUP
			 "{\"common\":{\"timestamp\":10},\"kernel\":{\"symbol\":"
			 "\"net:netif_receive_skb\",\"probe_type\":\"raw_tracepoint\"}," TRK(
				 10) ",\"dev\":{\"name\":\"<img src=x>\",\"ifindex\":2},\"netns\":"
				     "{\"inum\":7}}\n"
				     "{\"common\":{\"timestamp\":30},\"kernel\":{\"symbol\":\"skb:"
				     "kfree_skb\","
				     "\"probe_type\":\"raw_tracepoint\"}," TRK(
					     10) ",\"skb-drop\":{\"drop_reason\":"
						 "\"<b>&\"},\"netns\":{\"inum\":7}}\n");
	const char *out = tmp_path("report.html");
	struct pt_run r;
	char *html;
	size_t len;

	(void)state;
	pt_run(&r, "report", in, "-o", out);
	assert_int_equal(r.status, 0);
	pt_free(&r);
	html = slurp(out, &len);
	assert_non_null(html);
	assert_not_contains(html, "<img");
	assert_not_contains(html, "<b>&");
	assert_contains(html, "&lt;img src=x&gt;");
	assert_contains(html, "&lt;b&gt;&amp;");
	assert_contains(html, "<meta http-equiv=\"Content-Security-Policy\" "
			      "content=\"default-src 'none';");
	assert_contains(html, "<svg id=\"journey\"");
	assert_contains(html, "<svg id=\"drops-chart\"");
	assert_int_equal(count(html, "<circle class=\"step\""), 2);
	assert_int_equal(count(html, "<script"), 1);
	assert_not_contains(html, "https://");
	free(html);
}

static void test_options(void **state)
{
	struct pt_run r;

	(void)state;
	pt_run(&r, "explain", "--format", "yaml", fixture("explain-fwd.json"));
	assert_int_equal(r.status, 2);
	pt_free(&r);
	pt_run(&r, "report", fixture("explain-fwd.json"));
	assert_int_equal(r.status, 2);
	pt_free(&r);
	pt_run(&r, "explain", "--help");
	assert_int_equal(r.status, 0);
	assert_contains(r.out, "Usage: retisc explain [OPTIONS] [INPUT]\n");
	assert_contains(r.out, "--in-flight <MS>");
	pt_free(&r);
	pt_expect_log(1, "No such file or directory", "explain", tmp_path("missing.json"));
}

/* Bucket bounds grow, and percentiles land within one bucket. */
static void test_histogram(void **state)
{
	struct retisc_xp_hist h;
	uint64_t p50, p99;

	(void)state;
	memset(&h, 0, sizeof(h));
	for (size_t i = 1; i < RETISC_XP_HIST_BUCKETS; i++)
		assert_true(retisc_xp_hist__bucket_low(i) > retisc_xp_hist__bucket_low(i - 1));
	for (uint64_t v = 1; v <= 10000; v++)
		retisc_xp_hist__add(&h, v * 100);
	p50 = retisc_xp_hist__quantile(&h, 0.5);
	p99 = retisc_xp_hist__quantile(&h, 0.99);
	assert_true(p50 >= 500000 * 81 / 100 && p50 <= 500000 * 119 / 100);
	assert_true(p99 >= 990000 * 81 / 100 && p99 <= 1000000);
	assert_int_equal(retisc_xp_hist__quantile(&h, 1.0), 1000000);
	assert_int_equal(h.n, 10000);
	assert_int_equal(h.min, 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forward_disabled_dropped),
		cmocka_unit_test(test_forward_disabled_vanished),
		cmocka_unit_test(test_mixed_text_and_json),
		cmocka_unit_test(test_series_file),
		cmocka_unit_test(test_retis_ovs),
		cmocka_unit_test(test_retis_old_formats),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_untracked),
		cmocka_unit_test(test_report_escapes),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_histogram),
	};

	return cmocka_run_group_tests(tests, pt_group_setup, pt_group_teardown);
}
