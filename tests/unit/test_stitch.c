// SPDX-License-Identifier: GPL-2.0-only
/*
 * Cross-host stitching (processors/stitch/stitch_engine.c) on recorded
 * two-host streams built here: ICMP echoes both ways with host B's clock
 * 5 s ahead, one request NATed on the way (addresses rewritten, identity
 * kept), one that never arrives, and a one-way stream. Then `retisc
 * stitch -o` on the recorded set of tests/fixtures/stitch-gen.py (a TCP
 * handshake and a UDP query through DNAT + SNAT, a lost packet, two boots'
 * clocks 3.000412 s apart; the same as one interleaved stream), whose
 * expected journeys the script computes from the true times.
 */
#include "proctest.h"

#include <inttypes.h>

#include <retisc/base64.h>

#include "registry.h"
#include "stitch_engine.h"

static const struct retisc_api *api;
static struct retisc_registry *reg;

static int setup(void **state)
{
	(void)state;
	reg = retisc_registry__new();
	api = reg ? retisc_registry__api(reg) : NULL;
	return api ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	retisc_registry__free(reg);
	return 0;
}

/* An Ethernet + IPv4 + ICMP echo packet, base64. */
static void icmp_b64(struct retisc_strbuf *sb, uint32_t src, uint32_t dst, uint8_t type,
		     uint16_t id, uint16_t seq)
{
	uint8_t p[14 + 20 + 8] = {};

	p[12] = 0x08;
	p[14] = 0x45;
	p[16] = 0, p[17] = 28;
	p[22] = 64, p[23] = 1;
	for (int i = 0; i < 4; i++) {
		p[26 + i] = (uint8_t)(src >> (24 - 8 * i));
		p[30 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	p[34] = type;
	p[38] = (uint8_t)(id >> 8), p[39] = (uint8_t)id;
	p[40] = (uint8_t)(seq >> 8), p[41] = (uint8_t)seq;
	assert_int_equal(retisc_base64__encode(sb, p, sizeof(p)), 0);
}

/* One event of host h at monotonic time ts, tracking key (head, tts). */
static void add(struct stitch *s, int h, uint64_t ts, uint64_t head, uint64_t tts,
		const char *symbol, uint32_t src, uint32_t dst, uint8_t type, uint16_t seq)
{
	struct retisc_strbuf b64 = {}, line = {};
	struct retisc_json *ev;
	char err[128];

	icmp_b64(&b64, src, dst, type, 0x4242, seq);
	retisc_strbuf__printf(
		&line,
		"{\"common\":{\"timestamp\":%" PRIu64 "},\"kernel\":{\"symbol\":\"%s\","
		"\"probe_type\":\"raw_tracepoint\"},\"skb-tracking\":{\"orig_head\":%" PRIu64
		",\"timestamp\":%" PRIu64 ",\"skb\":1},\"packet\":{\"len\":42,"
		"\"capture_len\":42,\"data\":\"%s\"}}",
		ts, symbol, head, tts, b64.buf);
	ev = api->json_parse(line.buf, line.len, err, sizeof(err));
	assert_non_null(ev);
	assert_int_equal(stitch__add_event(s, h, ev), 0);
	retisc_strbuf__release(&b64);
	retisc_strbuf__release(&line);
}

static void add_startup(struct stitch *s, int h, int64_t sec)
{
	char line[256], err[128];
	struct retisc_json *ev;

	snprintf(line, sizeof(line),
		 "{\"common\":{\"timestamp\":1},\"startup\":{\"retis_version\":\"v1.7.0\","
		 "\"clock_monotonic_offset\":{\"sec\":%" PRId64 ",\"nsec\":0}}}",
		 sec);
	ev = api->json_parse(line, strlen(line), err, sizeof(err));
	assert_int_equal(stitch__add_event(s, h, ev), 0);
}

#define A_IP 0x0a000001 /* 10.0.0.1 */
#define B_IP 0x0a000102 /* 10.0.1.2 */
#define VIP 0x0a000964	/* 10.0.9.100, NATed to B */
#define MS 1000000ull

static void test_two_hosts(void **state)
{
	struct stitch *s = stitch__new(api, 1000 * MS);
	const struct stitch_offset *off;
	int a, b, host;
	int64_t t0, t1;

	(void)state;
	assert_non_null(s);
	a = stitch__add_host(s, "a");
	b = stitch__add_host(s, "b");
	assert_int_equal(a, 0);
	assert_int_equal(b, 1);
	add_startup(s, a, 1000);
	add_startup(s, b, 1005); /* B's wall clock is 5 s ahead */
	/* seq 1..3: request a -> b (100 us on the wire), reply b -> a. seq 2
	 * is addressed to a VIP that NAT rewrites before B. */
	for (uint16_t q = 1; q <= 3; q++) {
		uint64_t t = q * 1000 * MS;

		add(s, a, t, 10 + q, t, "net_dev_start_xmit", A_IP, q == 2 ? VIP : B_IP, 8, q);
		add(s, b, t + 100000, 20 + q, t + 100000, "netif_receive_skb", A_IP, B_IP, 8, q);
		add(s, b, t + 150000, 30 + q, t + 150000, "net_dev_start_xmit", B_IP, A_IP, 0, q);
		add(s, a, t + 250000, 40 + q, t + 250000, "netif_receive_skb", B_IP, A_IP, 0, q);
	}
	/* seq 4: the request never reaches B. */
	add(s, a, 4000 * MS, 14, 4000 * MS, "net_dev_start_xmit", A_IP, B_IP, 8, 4);
	assert_int_equal(stitch__run(s), 0);

	off = stitch__offset(s, b);
	assert_int_equal(off->matches, 6);
	assert_true(off->two_way);
	assert_int_equal(off->ns, -5000 * (int64_t)MS);

	/* 3 requests + 3 replies across both hosts, and the lost request. */
	assert_int_equal(stitch__n_journeys(s), 7);
	for (size_t j = 0; j < 6; j++) {
		assert_int_equal(stitch__journey_hosts(s, j), 2);
		assert_int_equal(stitch__journey_len(s, j), 2);
		stitch__journey_event(s, j, 0, &host, &t0);
		assert_int_equal(host, j % 2 ? b : a);
		stitch__journey_event(s, j, 1, &host, &t1);
		assert_int_equal(host, j % 2 ? a : b);
		assert_int_equal(t1 - t0, 100000);
	}
	assert_int_equal(stitch__journey_hosts(s, 6), 1);
	assert_int_equal(stitch__journey_len(s, 6), 1);
	stitch__free(s);
}

/* Packets one way only: the offset includes the link delay. */
static void test_one_way(void **state)
{
	struct stitch *s = stitch__new(api, 1000 * MS);
	const struct stitch_offset *off;

	(void)state;
	stitch__add_host(s, "a");
	stitch__add_host(s, "b");
	for (uint16_t q = 1; q <= 5; q++) {
		uint64_t t = q * 1000 * MS;

		add(s, 0, t, 10 + q, t, "net_dev_start_xmit", A_IP, B_IP, 8, q);
		add(s, 1, t + 2000 * MS + 100000, 20 + q, t, "netif_receive_skb", A_IP, B_IP, 8, q);
	}
	assert_int_equal(stitch__run(s), 0);
	off = stitch__offset(s, 1);
	assert_int_equal(off->matches, 5);
	assert_false(off->two_way);
	assert_int_equal(off->ns, -(2000 * (int64_t)MS + 100000));
	assert_int_equal(stitch__n_journeys(s), 5);
	stitch__free(s);
}

/* One way with delays that vary: intervals apart from each other, but all
 * of one direction, so no split into two directions. */
static void test_one_way_jitter(void **state)
{
	static const uint64_t delay_us[] = {100, 900, 300, 2000, 50};
	struct stitch *s = stitch__new(api, 1000 * MS);
	const struct stitch_offset *off;

	(void)state;
	stitch__add_host(s, "a");
	stitch__add_host(s, "b");
	for (uint16_t q = 1; q <= 5; q++) {
		uint64_t t = q * 1000 * MS;

		add(s, 0, t, 10 + q, t, "net_dev_start_xmit", A_IP, B_IP, 8, q);
		add(s, 1, t + delay_us[q - 1] * 1000, 20 + q, t, "netif_receive_skb", A_IP, B_IP, 8,
		    q);
	}
	assert_int_equal(stitch__run(s), 0);
	off = stitch__offset(s, 1);
	assert_int_equal(off->matches, 5);
	assert_false(off->two_way);
	assert_int_equal(off->ns, -300000); /* the median delay */
	stitch__free(s);
}

/* Both ways, where each host sees a packet for longer than the wire
 * takes (two events per series, 0.5 to 3 ms apart, 100 us on the wire):
 * the middles of the two directions are not split by their widest gap,
 * but their intervals are. */
static void test_two_way_long_series(void **state)
{
	static const uint64_t dur_us[] = {500, 3000, 1200, 2500};
	struct stitch *s = stitch__new(api, 1000 * MS);
	const struct stitch_offset *off;

	(void)state;
	stitch__add_host(s, "a");
	stitch__add_host(s, "b");
	for (uint16_t q = 1; q <= 4; q++) {
		uint64_t t = q * 1000 * MS, d = dur_us[q - 1] * 1000;

		/* request: on a for d, then on b for d */
		add(s, 0, t, 10 + q, t, "net_dev_queue", A_IP, B_IP, 8, q);
		add(s, 0, t + d, 10 + q, t, "net_dev_start_xmit", A_IP, B_IP, 8, q);
		add(s, 1, t + d + 100000, 20 + q, t, "netif_receive_skb", A_IP, B_IP, 8, q);
		add(s, 1, t + 2 * d + 100000, 20 + q, t, "consume_skb", A_IP, B_IP, 8, q);
		/* reply: on b for d, then on a for d */
		t += 2 * d + 200000;
		add(s, 1, t, 30 + q, t, "net_dev_queue", B_IP, A_IP, 0, q);
		add(s, 1, t + d, 30 + q, t, "net_dev_start_xmit", B_IP, A_IP, 0, q);
		add(s, 0, t + d + 100000, 40 + q, t, "netif_receive_skb", B_IP, A_IP, 0, q);
		add(s, 0, t + 2 * d + 100000, 40 + q, t, "consume_skb", B_IP, A_IP, 0, q);
	}
	assert_int_equal(stitch__run(s), 0);
	off = stitch__offset(s, 1);
	assert_int_equal(off->matches, 8);
	assert_true(off->two_way);
	assert_int_equal(off->ns, 0);
	stitch__free(s);
}

/* Host c only talks to b, b to a: c gets on a's clock through b. */
static void test_chained_offset(void **state)
{
	struct stitch *s = stitch__new(api, 1000 * MS);
	const struct stitch_offset *off;
	const uint32_t c_ip = 0x0a000203; /* 10.0.2.3 */

	(void)state;
	stitch__add_host(s, "a");
	stitch__add_host(s, "b");
	stitch__add_host(s, "c");
	add_startup(s, 0, 1000);
	add_startup(s, 1, 1005); /* b 5 s ahead of a */
	add_startup(s, 2, 998);	 /* c 2 s behind a */
	for (uint16_t q = 1; q <= 3; q++) {
		uint64_t t = q * 1000 * MS;

		/* a <-> b, 100 us each way */
		add(s, 0, t, 10 + q, t, "net_dev_start_xmit", A_IP, B_IP, 8, q);
		add(s, 1, t + 100000, 20 + q, t, "netif_receive_skb", A_IP, B_IP, 8, q);
		add(s, 1, t + 150000, 30 + q, t, "net_dev_start_xmit", B_IP, A_IP, 0, q);
		add(s, 0, t + 250000, 40 + q, t, "netif_receive_skb", B_IP, A_IP, 0, q);
		/* b <-> c, 300 us each way, other echoes */
		t += 500 * MS;
		add(s, 1, t, 50 + q, t, "net_dev_start_xmit", B_IP, c_ip, 8, 100 + q);
		add(s, 2, t + 300000, 60 + q, t, "netif_receive_skb", B_IP, c_ip, 8, 100 + q);
		add(s, 2, t + 400000, 70 + q, t, "net_dev_start_xmit", c_ip, B_IP, 0, 100 + q);
		add(s, 1, t + 700000, 80 + q, t, "netif_receive_skb", c_ip, B_IP, 0, 100 + q);
	}
	assert_int_equal(stitch__run(s), 0);
	off = stitch__offset(s, 1);
	assert_int_equal(off->via, 0);
	assert_int_equal(off->matches, 6);
	assert_int_equal(off->ns, -5000 * (int64_t)MS);
	off = stitch__offset(s, 2);
	assert_int_equal(off->via, 1);
	assert_int_equal(off->matches, 6);
	assert_true(off->two_way);
	assert_int_equal(off->ns, 2000 * (int64_t)MS);
	/* 12 echoes, each over two hosts, c's on a's clock: 300 us after b. */
	assert_int_equal(stitch__n_journeys(s), 12);
	for (size_t j = 0; j < 12; j++) {
		int64_t t0, t1;
		int h0, h1;

		assert_int_equal(stitch__journey_hosts(s, j), 2);
		stitch__journey_event(s, j, 0, &h0, &t0);
		stitch__journey_event(s, j, 1, &h1, &t1);
		assert_int_equal(t1 - t0, h0 == 2 || h1 == 2 ? 300000 : 100000);
	}
	stitch__free(s);
}

static void expect_file(const char *path, const char *want_path)
{
	size_t n, want_n;
	char *got = slurp(path, &n), *want = slurp(want_path, &want_n);

	assert_non_null(got);
	assert_non_null(want);
	assert_str_eq(got, want);
	free(got);
	free(want);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Two files, one per host: the journeys as JSON, exactly. */
static void test_json_out(void **state)
{
	const char *out = tmp_path("journeys.json");
	char a[PATH_MAX], b[PATH_MAX];
	struct pt_run r;

	(void)state;
	snprintf(a, sizeof(a), "a=%s", fixture("stitch-a.json"));
	snprintf(b, sizeof(b), "b=%s", fixture("stitch-b.json"));
	pt_run(&r, "stitch", "-o", out, a, b);
	assert_int_equal(r.status, 0);
	assert_str_eq(r.out, "");
	assert_contains(pt_log(&r),
			"clock of b: -3000.412 ms to align with a (6 matched packet(s), "
			"both ways)");
	pt_free(&r);
	expect_file(out, fixture("expected/stitch-journeys.json"));
	/* A series file to the other processors (doc/files.md §9). */
	pt_run(&r, "print", "--format", "single-line", out);
	assert_int_equal(r.status, 0);
	assert_contains(r.out, "  \u21b3 10007540512000 (0) [tp] net:netif_receive_skb");
	pt_free(&r);
}

/* One input holding every host, runs interleaved (a stream read with
 * annotate=1): split by identity, each run on its own clock offset. */
static void test_json_stream(void **state)
{
	const char *out = tmp_path("stream-journeys.json");
	struct pt_run r;

	(void)state;
	pt_run(&r, "stitch", "--out", out, fixture("stitch-stream.json"));
	assert_int_equal(r.status, 0);
	assert_contains(pt_log(&r),
			"clock of b: -3000.412 ms to align with a (6 matched packet(s), "
			"both ways)");
	assert_contains(pt_log(&r), "clock of a/boot-a2: no packet matched with a, not aligned");
	pt_free(&r);
	expect_file(out, fixture("expected/stitch-stream-journeys.json"));
}

/* --cross leaves out the packet that never arrived; --print adds the text. */
static void test_json_cross_print(void **state)
{
	const char *out = tmp_path("cross.json");
	char a[PATH_MAX], b[PATH_MAX], *json;
	struct pt_run r;
	size_t n;

	(void)state;
	snprintf(a, sizeof(a), "a=%s", fixture("stitch-a.json"));
	snprintf(b, sizeof(b), "b=%s", fixture("stitch-b.json"));
	pt_run(&r, "stitch", "--cross", "--print", "--format", "single-line", "-o", out, a, b);
	assert_int_equal(r.status, 0);
	json = slurp(out, &n);
	assert_non_null(json);
	assert_int_equal(count_lines(json), 7); /* the startups, 6 journeys */
	assert_not_contains(json, "\"timestamp\":6000015000");
	free(json);
	/* 13 events, a blank line after each journey */
	assert_int_equal(count_lines(r.out), 13 + 6);
	assert_contains(r.out,
			"  \u21b3 [a \u2192 b] 10007540512000 (0) [tp] net:netif_receive_skb");
	assert_not_contains(r.out, "6000015000");
	pt_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_hosts),      cmocka_unit_test(test_one_way),
		cmocka_unit_test(test_one_way_jitter), cmocka_unit_test(test_two_way_long_series),
		cmocka_unit_test(test_chained_offset),
	};
	const struct CMUnitTest proc_tests[] = {
		cmocka_unit_test(test_json_out),
		cmocka_unit_test(test_json_stream),
		cmocka_unit_test(test_json_cross_print),
	};

	return cmocka_run_group_tests(tests, setup, teardown) |
	       cmocka_run_group_tests(proc_tests, pt_group_setup, pt_group_teardown);
}
