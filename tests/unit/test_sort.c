// SPDX-License-Identifier: GPL-2.0-only
/*
 * sort processor (doc/processing.md §2): tracking assignment, OVS upcall
 * stitching, the bounded buffer and POP order, JSON and text output, the
 * refusals, errors, and retisc's bounded state and annotations.
 *
 * The processor runs from the built sort.so, loaded with every other built
 * plugin, exactly as `retisc sort` runs it. Expected series files
 * (tests/fixtures/sort-events.*.json) were written by hand from the rules of
 * doc/processing.md §2.3-§2.5; the input is tests/fixtures/sort-events.json:
 *
 *   line  event                          packet (first-seen ts)
 *   1     startup (ts 50)
 *   2     A1 netif_receive_skb ts 100    A (100), skb 5000
 *   3     B1 netif_receive_skb ts 150    B (150)
 *   4     A2 consume_skb ts 160          A, clone: skb 5001
 *   5     U1 ip_rcv ts 200               untracked
 *   6     B2 ip_rcv ts 170               B (timestamps out of order)
 *   7     A3 ip_rcv ts 180               A
 *   8-10  upcall / upcall_enqueue (queue 77) / upcall_return    C (300)
 *   11-12 recv_upcall / flow_operation (USDT, no skb-tracking, queue 77)
 *   13    action_execute queue 77, re-injected skb with id D (330)
 *   14    net_dev_start_xmit of D: joins C's series
 *   15    flow_lookup ufid 1-2-3-4      F (400)
 *   16    ovs-detrace of that flow (ts 405): enriches line 15 at POP
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proctest.h"

#include <retisc/json.h>

static void assert_file_eq(const char *got_path, const char *want_path)
{
	char *got = slurp(got_path, NULL), *want = slurp(want_path, NULL);

	assert_non_null(got);
	assert_non_null(want);
	assert_str_eq(got, want);
	free(got);
	free(want);
}

/* Series of a series file, parsed (the caller frees). */
static struct retisc_json **read_series(const char *path, size_t *n)
{
	char *data = slurp(path, NULL), *line, *save = NULL;
	struct retisc_json **v = NULL;
	char err[256];

	assert_non_null(data);
	*n = 0;
	for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		v = realloc(v, (*n + 1) * sizeof(*v));
		v[*n] = retisc_json__parse(line, strlen(line), err, sizeof(err));
		if (!v[*n])
			fail_msg("line %zu: %s", *n + 1, err);
		assert_true(retisc_json__is_array(v[*n]));
		(*n)++;
	}
	free(data);
	return v;
}

static void free_series(struct retisc_json **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		retisc_json__free(v[i]);
	free(v);
}

static uint64_t ev_u64(const struct retisc_json *ev, const char *sec, const char *key)
{
	uint64_t v = UINT64_MAX;

	retisc_json__obj_get_u64(retisc_json__obj_get(ev, sec), key, &v);
	return v;
}

static uint64_t ev_idx(const struct retisc_json *ev)
{
	return ev_u64(ev, "tracking", "idx");
}

/* -------------------------------------------------------------------------
 * JSON output and the buffer.
 */

static void test_json_default(void **state)
{
	const char *out = tmp_path("default.json");
	struct pt_run r;

	(void)state;
	pt_run(&r, "sort", fixture("sort-events.json"), "-o", out);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.out_len, 0); /* --out without --print: no text */
	assert_file_eq(out, fixture("sort-events.sorted.json"));
	pt_free(&r);

	/* 0 = unbounded: everything is buffered to the end, like 1000 here. */
	pt_run(&r, "sort", "--max-buffer", "0", fixture("sort-events.json"), "-o", out);
	assert_int_equal(r.status, 0);
	assert_file_eq(out, fixture("sort-events.sorted.json"));
	pt_free(&r);
}

/* A packet spread over more than max_buffer events comes out as several
 * series, idx going on; POP order is by first-seen time vs untracked. */
static void test_json_max_buffer(void **state)
{
	const char *out = tmp_path("mb3.json");
	struct pt_run r;

	(void)state;
	pt_run(&r, "sort", "--max-buffer", "3", "-o", out, fixture("sort-events.json"));
	assert_int_equal(r.status, 0);
	assert_file_eq(out, fixture("sort-events.mb3.json"));
	pt_free(&r);
}

/* --max-buffer 1: every event is popped when added, so the output is the
 * input order, one event per series, and line 15 is popped before its
 * ovs-detrace arrives (no enrichment). */
static void test_json_max_buffer_1(void **state)
{
	static const uint64_t want_idx[] = {UINT64_MAX, 0, 0, 1, UINT64_MAX, 1, 2, 0,
					    1,		2, 3, 4, 5,	     6, 0, UINT64_MAX};
	const char *out = tmp_path("mb1.json");
	struct retisc_json **s;
	struct pt_run r;
	size_t n;

	(void)state;
	pt_run(&r, "sort", "--max-buffer", "1", "-o", out, fixture("sort-events.json"));
	assert_int_equal(r.status, 0);
	s = read_series(out, &n);
	assert_int_equal(n, 16);
	for (size_t i = 0; i < n; i++) {
		const struct retisc_json *ev = retisc_json__arr_get(s[i], 0);

		assert_int_equal(retisc_json__arr_len(s[i]), 1);
		assert_int_equal(ev_idx(ev), want_idx[i]);
	}
	assert_string_equal(
		retisc_json__obj_get_str(
			retisc_json__obj_get(retisc_json__arr_get(s[14], 0), "ovs"), "dpflow"),
		"");
	free_series(s, n);
	pt_free(&r);
}

/* The OVS rules in detail, from the default output. */
static void test_ovs_stitching(void **state)
{
	const char *out = tmp_path("ovs.json");
	const struct retisc_json *c, *ev, *ovs;
	struct retisc_json **s;
	struct pt_run r;
	size_t n;

	(void)state;
	pt_run(&r, "sort", "-o", out, fixture("sort-events.json"));
	assert_int_equal(r.status, 0);
	s = read_series(out, &n);
	assert_int_equal(n, 7);
	c = s[4];
	assert_int_equal(retisc_json__arr_len(c), 7);
	for (size_t i = 0; i < 7; i++) {
		ev = retisc_json__arr_get(c, i);
		assert_int_equal(ev_idx(ev), i);
		/* Every event shows the upcalled packet's first skb-tracking. */
		assert_int_equal(ev_u64(retisc_json__obj_get(ev, "tracking"), "skb", "orig_head"),
				 3000);
		assert_int_equal(ev_u64(retisc_json__obj_get(ev, "tracking"), "skb", "skb"), 7000);
	}
	/* USDT events have no skb-tracking and still join the series. */
	ev = retisc_json__arr_get(c, 3);
	assert_null(retisc_json__obj_get(ev, "skb-tracking"));
	assert_non_null(retisc_json__obj_get(ev, "userspace"));
	/* The re-injected skb keeps its own skb-tracking (id D). */
	ev = retisc_json__arr_get(c, 6);
	assert_int_equal(ev_u64(ev, "skb-tracking", "orig_head"), 4000);
	/* flow_lookup enriched from the later ovs-detrace event. */
	ovs = retisc_json__obj_get(retisc_json__arr_get(s[5], 0), "ovs");
	assert_string_equal(retisc_json__obj_get_str(ovs, "dpflow"),
			    "recirc_id(0),in_port(2),eth_type(0x0800), actions:3");
	assert_int_equal(retisc_json__arr_len(retisc_json__obj_get(ovs, "ofpflows")), 1);
	/* The detrace event itself is a series of its own, last. */
	assert_non_null(retisc_json__obj_get(retisc_json__arr_get(s[6], 0), "ovs-detrace"));
	free_series(s, n);
	pt_free(&r);
}

static void test_ovs_errors(void **state)
{
	const char *in;
	struct pt_run r;
	char want[PATH_MAX + 128];

	(void)state;
	in = tmp_file("enq.json",
		      "{\"common\":{\"timestamp\":1},\"startup\":{\"retis_version\":\"v1.7.0\","
		      "\"cmdline\":\"x\",\"clock_monotonic_offset\":{\"sec\":0,\"nsec\":0},"
		      "\"machine\":{\"kernel_release\":\"a\",\"kernel_version\":\"b\","
		      "\"hardware_name\":\"c\"}}}\n"
		      "{\"common\":{\"timestamp\":5},\"kernel\":{\"symbol\":\"x\",\"probe_type\":"
		      "\"kretprobe\"},\"skb-tracking\":{\"orig_head\":1,\"timestamp\":2,\"skb\":3},"
		      "\"ovs\":{\"event_type\":\"upcall_enqueue\",\"ret\":0,\"cmd\":1,\"port\":1,"
		      "\"upcall_ts\":4,\"upcall_cpu\":0,\"queue_id\":9}}\n");
	pt_run(&r, "sort", in);
	assert_int_equal(r.status, 1);
	snprintf(want, sizeof(want), "%s:2: Enqueue without an associated upcall event.", in);
	assert_contains(pt_log(&r), want);
	/* What came before the error is written. */
	assert_contains(r.out, "collected with Retis v1.7.0");
	pt_free(&r);

	in = tmp_file("queue.json",
		      "{\"common\":{\"timestamp\":1},\"startup\":{\"retis_version\":\"v1.7.0\","
		      "\"cmdline\":\"x\",\"clock_monotonic_offset\":{\"sec\":0,\"nsec\":0},"
		      "\"machine\":{\"kernel_release\":\"a\",\"kernel_version\":\"b\","
		      "\"hardware_name\":\"c\"}}}\n"
		      "{\"common\":{\"timestamp\":5},\"userspace\":{\"probe_type\":\"usdt\","
		      "\"symbol\":\"dpif_recv:recv_upcall\",\"ip\":1,\"path\":\"/x\",\"pid\":1,"
		      "\"tid\":1},\"ovs\":{\"event_type\":\"recv_upcall\",\"type\":0,"
		      "\"pkt_size\":1,\"key_size\":1,\"queue_id\":99,\"batch_ts\":1,"
		      "\"batch_idx\":0}}\n");
	pt_run(&r, "sort", in);
	assert_int_equal(r.status, 1);
	snprintf(want, sizeof(want), "%s:2: Queue Id lookup failed for OVS userspace event: 99",
		 in);
	assert_contains(pt_log(&r), want);
	pt_free(&r);
}

/* An input event that already has a tracking section keeps it when it
 * names the computed packet, and is refused otherwise (§2.3 ATTACH). */
static void test_existing_tracking(void **state)
{
	const char *out = tmp_path("existing.json"), *in;
	char want[PATH_MAX + 128];
	struct retisc_json **s;
	struct pt_run r;
	size_t n;

	(void)state;
	in = tmp_file(
		"existing-in.json",
		"{\"common\":{\"timestamp\":1},\"startup\":{\"retis_version\":\"v1.7.0\","
		"\"cmdline\":\"x\",\"clock_monotonic_offset\":{\"sec\":0,\"nsec\":0},"
		"\"machine\":{\"kernel_release\":\"a\",\"kernel_version\":\"b\","
		"\"hardware_name\":\"c\"}}}\n"
		"{\"common\":{\"timestamp\":5},\"kernel\":{\"symbol\":\"x\",\"probe_type\":"
		"\"kprobe\"},\"tracking\":{\"skb\":{\"orig_head\":1,\"timestamp\":2,\"skb\":3},"
		"\"idx\":7},\"skb-tracking\":{\"orig_head\":1,\"timestamp\":2,\"skb\":3}}\n"
		"{\"common\":{\"timestamp\":6},\"kernel\":{\"symbol\":\"x\",\"probe_type\":"
		"\"kprobe\"},\"tracking\":{\"skb\":{\"orig_head\":9,\"timestamp\":2,\"skb\":3},"
		"\"idx\":0},\"skb-tracking\":{\"orig_head\":1,\"timestamp\":2,\"skb\":3}}\n");
	pt_run(&r, "sort", "--keep-going", in, "-o", out);
	assert_int_equal(r.status, 1);
	snprintf(want, sizeof(want),
		 "%s:3: Event already has info section (#20000000000000009) and does not match "
		 "computed (#20000000000000001)",
		 in);
	assert_contains(pt_log(&r), want);
	s = read_series(out, &n);
	assert_int_equal(n, 2);
	assert_int_equal(ev_idx(retisc_json__arr_get(s[1], 0)), 7);
	free_series(s, n);
	pt_free(&r);
}

/* -------------------------------------------------------------------------
 * Text output (doc/processing.md §2.6); the expected text of sort-text.json
 * is in tests/fixtures/expected/sort-text-*.txt.
 */

static void test_text_multi_line(void **state)
{
	char *want = fixture_read("expected/sort-text-multi.txt");

	(void)state;
	pt_expect_out(0, want, "sort", fixture("sort-text.json"));
	free(want);
}

static void test_text_single_line(void **state)
{
	char *want = fixture_read("expected/sort-text-single.txt");

	(void)state;
	pt_expect_out(0, want, "sort", "--format", "single-line", fixture("sort-text.json"));
	free(want);
}

/* --utc: times from the startup event's offset (1742309146.691042 s). */
static void test_text_utc(void **state)
{
	struct pt_run r;

	(void)state;
	pt_run(&r, "sort", "--utc", "--format", "single-line", fixture("sort-text.json"));
	assert_int_equal(r.status, 0);
	assert_contains(r.out, "\n2025-03-18 14:45:46.691042 (0) [swapper/0] 0 [tp] "
			       "net:netif_receive_skb");
	pt_free(&r);
}

/* --print with --out: the same series as text and as JSON. */
static void test_print_and_out(void **state)
{
	char *want = fixture_read("expected/sort-text-multi.txt");
	const char *out = tmp_path("print.json");
	char *json;
	struct pt_run r;

	(void)state;
	pt_run(&r, "sort", "--print", "-o", out, fixture("sort-text.json"));
	assert_int_equal(r.status, 0);
	assert_str_eq(r.out, want);
	json = slurp(out, NULL);
	assert_non_null(json);
	assert_true(!strncmp(json, "[{\"common\":{\"timestamp\":50},\"startup\":", 38));
	free(json);
	pt_free(&r);
	free(want);
}

/* -------------------------------------------------------------------------
 * retisc annotations (off by default).
 */

static void test_annotations(void **state)
{
	struct pt_run r;

	(void)state;
	pt_run(&r, "sort", "--deltas", "--diff", "--mark-lost", fixture("sort-annotate.json"));
	assert_int_equal(r.status, 0);
	/* Markers and delta end the event's first line. */
	assert_contains(r.out, "net:netif_receive_skb #3e80000000000001b58 (skb 26ac) n 0 "
			       "[series: 2 lost]\n");
	assert_contains(r.out, "net:net_dev_start_xmit #3e80000000000001b58 (skb 26ac) n 1 "
			       "(+0.500us)\n");
	assert_contains(r.out, "skb:consume_skb #3e80000000000001b58 (skb 26ac) n 2 [2 lost] "
			       "(-0.100us)\n");
	/* The change list is one more body line (B + 2 = 6 columns). */
	assert_contains(r.out, "\n      changed: dst 10.0.0.100.80 -> 10.0.0.2.8080, "
			       "if 2 (eth0) -> 3 (veth1), ns 0x1/100 -> 0x2/200, mark 0 -> 5\n");
	/* Nothing changed for the third event (no packet: last values kept). */
	assert_null(strstr(strstr(r.out, "changed:") + 1, "changed:"));
	pt_free(&r);

	pt_run(&r, "sort", "--deltas", "--diff", "--format", "single-line",
	       fixture("sort-annotate.json"));
	assert_int_equal(r.status, 0);
	assert_contains(r.out, " (+0.500us) changed: dst 10.0.0.100.80 -> 10.0.0.2.8080, if 2 "
			       "(eth0) -> 3 (veth1), ns 0x1/100 -> 0x2/200, mark 0 -> 5\n");
	assert_not_contains(r.out, "lost]");
	pt_free(&r);
}

/* Annotations that have nothing to say leave the Retis layout untouched. */
static void test_annotations_neutral(void **state)
{
	char *want = fixture_read("expected/sort-text-multi.txt");

	(void)state;
	pt_expect_out(0, want, "sort", "--diff", "--mark-lost", fixture("sort-text.json"));
	free(want);
}

/* -------------------------------------------------------------------------
 * Refusals (§2.1), input forms, errors.
 */

static void test_refuse_series(void **state)
{
	const char *out = tmp_path("never.json");
	struct pt_run r;

	(void)state;
	pt_run(&r, "sort", fixture("retisc-sorted.json"), "-o", out);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.out_len, 0);
	assert_contains(pt_log(&r), "File already sorted");
	assert_int_equal(access(out, F_OK), -1);
	pt_free(&r);
}

static void test_refuse_compat_out(void **state)
{
	const char *out = tmp_path("compat.json");
	struct pt_run r;

	(void)state;
	pt_run(&r, "sort", fixture("retis-1.6.json"), "-o", out);
	assert_int_equal(r.status, 1);
	assert_contains(pt_log(&r), "Storing sorted events is not supported (input event format "
				    "is too old, remove `--out`)");
	assert_int_equal(access(out, F_OK), -1);
	pt_free(&r);

	/* Printing alone is allowed, older formats fixed up by the reader. */
	pt_run(&r, "sort", fixture("retis-1.6.json"));
	assert_int_equal(r.status, 0);
	assert_contains(r.out, "collected with Retis v1.6.2\n  on machine unknown unknown unknown");
	pt_free(&r);
	/* Its third event has a ct parent without ct_status, which 1.5 did
	 * not write and no fix-up adds: it cannot be rendered (doc/files.md §4). */
	pt_run(&r, "sort", fixture("retis-1.5.json"));
	assert_int_equal(r.status, 1);
	assert_contains(r.out, "collected with Retis v1.5");
	assert_contains(pt_log(&r), "retis-1.5.json:3: cannot render event");
	pt_free(&r);
}

static void test_refuse_in_place(void **state)
{
	char *before, *after;
	const char *in;
	struct pt_run r;

	(void)state;
	before = slurp(fixture("sort-text.json"), NULL);
	in = tmp_file("inplace.json", before);
	pt_run(&r, "sort", in, "-o", in);
	assert_int_equal(r.status, 1);
	assert_contains(pt_log(&r), "Cannot sort a file in-place. Please specify an output file "
				    "that's different to the input one.");
	after = slurp(in, NULL);
	assert_str_eq(after, before);
	free(before);
	free(after);
	pt_free(&r);
}

static void test_cannot_create(void **state)
{
	(void)state;
	pt_expect_log(1, "Could not create or open '/nonexistent-dir/x.json'", "sort",
		      fixture("sort-text.json"), "-o", "/nonexistent-dir/x.json");
}

/* retisc: the first startup event comes first even when a packet was first
 * seen before it (files written by Retis take the startup time late). */
static void test_startup_first(void **state)
{
	const char *out = tmp_path("startup.json");
	const char *in;
	char *got;
	struct pt_run r;

	(void)state;
	in = tmp_file(
		"late-startup.json",
		"{\"common\":{\"timestamp\":500},\"startup\":{\"retis_version\":\"v1.7.0\","
		"\"cmdline\":\"x\",\"clock_monotonic_offset\":{\"sec\":0,\"nsec\":0},"
		"\"machine\":{\"kernel_release\":\"a\",\"kernel_version\":\"b\","
		"\"hardware_name\":\"c\"}}}\n"
		"{\"common\":{\"timestamp\":600},\"kernel\":{\"symbol\":\"x\",\"probe_type\":"
		"\"kprobe\"},\"skb-tracking\":{\"orig_head\":1,\"timestamp\":100,\"skb\":3}}\n");
	pt_run(&r, "sort", in, "-o", out);
	assert_int_equal(r.status, 0);
	got = slurp(out, NULL);
	assert_true(!strncmp(got, "[{\"common\":{\"timestamp\":500},\"startup\"", 38));
	free(got);
	pt_free(&r);
}

/* Rotated set: the later startup lines are untracked events. */
static void test_rotated_set(void **state)
{
	const char *out = tmp_path("split.json");
	char in[PATH_MAX];
	struct retisc_json **s;
	struct pt_run r;
	size_t n;

	(void)state;
	snprintf(in, sizeof(in), "%s..", fixture("split.data.0"));
	pt_run(&r, "sort", in, "-o", out);
	assert_int_equal(r.status, 0);
	s = read_series(out, &n);
	/* .0: startup + 2, .1: startup + 1, .2: startup + 2 (.3 missing). */
	assert_int_equal(n, 8);
	assert_int_equal(ev_u64(retisc_json__obj_get(retisc_json__arr_get(s[0], 0), "startup"),
				"split_file", "id"),
			 0);
	assert_int_equal(ev_u64(retisc_json__obj_get(retisc_json__arr_get(s[3], 0), "startup"),
				"split_file", "id"),
			 1);
	assert_int_equal(ev_u64(retisc_json__obj_get(retisc_json__arr_get(s[5], 0), "startup"),
				"split_file", "id"),
			 2);
	free_series(s, n);
	pt_free(&r);
}

/* A malformed line: reported with file and line; what was read before it
 * is written, nothing after it unless --keep-going. */
/*
 * doc/processing.md §2.7: with --out alone, lines the scanner accepts are
 * copied through; the series file must be the one the tree path writes
 * (--print makes sort parse every line), byte for byte, errors included.
 */
static void test_copy_through(void **state)
{
	const char *raw_out = tmp_path("raw.json"), *tree_out = tmp_path("tree.json");
	char *text, *want_err, buf[16384];
	const char *in;
	struct pt_run r, t;

	(void)state;
	text = slurp(fixture("sort-events.json"), NULL);
	assert_non_null(text);
	/* The fixture (OVS lines go the tree way), then lines the scanner
	 * declines or takes, for packets A (ts 100) and a new one E. */
	snprintf(buf, sizeof(buf),
		 "%s"
		 "{\"common\":{\"timestamp\": 500},\"kernel\":{\"symbol\":\"a\"},"
		 "\"skb-tracking\":{\"orig_head\":1000,\"timestamp\":100,\"skb\":5000}}\n"
		 "{\"common\":{\"timestamp\":501},\"x\":\"q\\\"\",\"skb-tracking\":"
		 "{\"orig_head\":7000,\"timestamp\":490,\"skb\":7001,\"lost\":1}}\n"
		 "{\"common\":{\"timestamp\":502},\"x\":tru}\n"
		 "{\"common\":{\"timestamp\":503,\"timestamp\":504},\"skb-tracking\":"
		 "{\"orig_head\":7000,\"timestamp\":490,\"skb\":7001}}\n"
		 "{\"common\":{\"timestamp\":505},\"dev\":{\"ifindex\":2},\"kernel\":{},"
		 "\"skb-tracking\":{\"orig_head\":7000,\"timestamp\":490,\"skb\":7002}}\n"
		 "{\"common\":{\"timestamp\":506},\"skb-tracking\":{\"orig_head\":7000}}\n"
		 "{\"common\":{\"timestamp\":507},\"v\":[1.5,-3,0,{}],\"skb-tracking\":"
		 "{\"orig_head\":7000,\"timestamp\":490,\"skb\":7003}}\n"
		 "{\"common\":{\"timestamp\":508},\"skb-tracking\":{\"orig_head\":7000,"
		 "\"timestamp\":490,\"skb\":7004}}\n",
		 text);
	free(text);
	in = tmp_file("copy.json", buf);

	pt_run_debug(&r, "sort", "--keep-going", "--max-buffer", "4", in, "-o", raw_out);
	pt_run_debug(&t, "sort", "--keep-going", "--max-buffer", "4", "--print", in, "-o",
		     tree_out);
	assert_int_equal(r.status, 1);
	assert_int_equal(t.status, 1);
	assert_file_eq(raw_out, tree_out);
	/* The bad lines are reported alike, naming file and line. */
	want_err = strdup(ring_path("%s:19: invalid literal at column 33", in));
	assert_contains(pt_log(&r), want_err);
	assert_contains(pt_log(&t), want_err);
	free(want_err);
	want_err = strdup(ring_path("%s:22: malformed skb-tracking section", in));
	assert_contains(pt_log(&r), want_err);
	assert_contains(pt_log(&t), want_err);
	free(want_err);
	/* Lines 17 (a blank), 18 (an escape), 19, 20 (repeated key), 22, 23
	 * (double) were parsed; 21, 24 and the fixture's plain lines not. */
	assert_contains(pt_log(&r), "copied through unparsed");
	assert_not_contains(pt_log(&r), " 0 of ");
	assert_contains(pt_log(&t), "0 of ");
	pt_free(&r);
	pt_free(&t);
}

/*
 * The same over many batches of the scanning thread (1024 lines each): bad
 * lines reported in order with their line numbers, and without
 * --keep-going, what was read before the first one is sorted and written.
 */
static void test_copy_through_batches(void **state)
{
	const char *raw_out = tmp_path("rawb.json"), *tree_out = tmp_path("treeb.json");
	const char *in = tmp_path("many.json"), *head = tmp_path("head.json");
	char *want1, *want2;
	struct pt_run r, t;
	FILE *f, *h;

	(void)state;
	f = fopen(in, "w");
	h = fopen(head, "w");
	assert_non_null(f);
	assert_non_null(h);
	fprintf(f, "{\"common\":{\"timestamp\":1},\"startup\":{\"retis_version\":\"v1.7.0\"}}\n");
	fprintf(h, "{\"common\":{\"timestamp\":1},\"startup\":{\"retis_version\":\"v1.7.0\"}}\n");
	for (unsigned int n = 2; n <= 5000; n++) {
		char line[512];

		if (n == 1500 || n == 3001)
			snprintf(line, sizeof(line), "{\"common\":{\"timestamp\":%u},\"x\":[}", n);
		else
			snprintf(line, sizeof(line),
				 "{\"common\":{\"timestamp\":%u},\"kernel\":{\"symbol\":\"s\"},"
				 "\"skb-tracking\":{\"orig_head\":%u,\"timestamp\":%u,\"skb\":%u}%"
				 "s}",
				 1000 + n, 100 + n % 37, 1000 + n % 37, n,
				 n % 5 ? "" : ",\"x\":1.5");
		fprintf(f, "%s\n", line);
		if (n < 1500)
			fprintf(h, "%s\n", line);
	}
	fclose(f);
	fclose(h);

	pt_run(&r, "sort", "--keep-going", in, "-o", raw_out);
	pt_run(&t, "sort", "--keep-going", "--print", in, "-o", tree_out);
	assert_int_equal(r.status, 1);
	assert_int_equal(t.status, 1);
	assert_file_eq(raw_out, tree_out);
	want1 = strdup(ring_path("%s:1500: expected value at column", in));
	want2 = strdup(ring_path("%s:3001: expected value at column", in));
	assert_non_null(strstr(pt_log(&r), want1));
	assert_non_null(strstr(pt_log(&r), want2));
	assert_true(strstr(pt_log(&r), want1) < strstr(pt_log(&r), want2));
	pt_free(&r);
	pt_free(&t);

	/* Stopped at line 1500: the series of lines 1-1499, nothing more. */
	pt_run(&r, "sort", in, "-o", raw_out);
	pt_run(&t, "sort", head, "-o", tree_out);
	assert_int_equal(r.status, 1);
	assert_int_equal(t.status, 0);
	assert_file_eq(raw_out, tree_out);
	assert_contains(pt_log(&r), want1);
	assert_not_contains(pt_log(&r), ":3001:");
	free(want1);
	free(want2);
	pt_free(&r);
	pt_free(&t);
}

static void test_malformed_line(void **state)
{
	const char *out = tmp_path("bad-out.json");
	char *text, want[PATH_MAX + 64];
	const char *in;
	struct retisc_json **s;
	struct pt_run r;
	size_t n;

	(void)state;
	text = slurp(fixture("sort-text.json"), NULL);
	/* Lines 1-3 (startup, A1, B1), a broken line 4, then A2. */
	*strstr(strstr(strstr(text, "\n") + 1, "\n") + 1, "\n") = '\0';
	{
		char buf[8192];

		snprintf(buf, sizeof(buf),
			 "%s\n{\"common\":{\"timestamp\":3,\n"
			 "{\"common\":{\"timestamp\":160},\"kernel\":{\"symbol\":\"y\","
			 "\"probe_type\":\"kprobe\"},\"skb-tracking\":{\"orig_head\":1000,"
			 "\"timestamp\":100,\"skb\":5001}}\n",
			 text);
		in = tmp_file("bad.json", buf);
	}
	free(text);

	pt_run(&r, "sort", in, "-o", out);
	assert_int_equal(r.status, 1);
	snprintf(want, sizeof(want), "%s:4: ", in);
	assert_contains(pt_log(&r), want);
	s = read_series(out, &n);
	assert_int_equal(n, 3);
	assert_int_equal(retisc_json__arr_len(s[1]), 1);
	free_series(s, n);
	pt_free(&r);

	pt_run(&r, "sort", "--keep-going", in, "-o", out);
	assert_int_equal(r.status, 1);
	assert_contains(pt_log(&r), want);
	s = read_series(out, &n);
	assert_int_equal(n, 3);
	/* A2 read after the bad line joined A's series. */
	assert_int_equal(retisc_json__arr_len(s[1]), 2);
	assert_int_equal(ev_idx(retisc_json__arr_get(s[1], 1)), 1);
	free_series(s, n);
	pt_free(&r);
}

static void test_usage_errors(void **state)
{
	struct pt_run r;

	(void)state;
	pt_run(&r, "sort", "--max-buffer", "x", fixture("sort-text.json"));
	assert_int_equal(r.status, 2);
	pt_free(&r);
	pt_run(&r, "sort", "--format", "wide", fixture("sort-text.json"));
	assert_int_equal(r.status, 2);
	pt_free(&r);
	pt_run(&r, "sort", fixture("sort-text.json"), fixture("sort-text.json"));
	assert_int_equal(r.status, 2);
	pt_free(&r);
	pt_run(&r, "sort", "--no-such-option");
	assert_int_equal(r.status, 2);
	pt_free(&r);
	pt_expect_log(1, "/nonexistent-dir/in.json: No such file or directory", "sort",
		      "/nonexistent-dir/in.json");
}

/* -------------------------------------------------------------------------
 * Bounded memory (retisc): a long stream of short-lived packets, some with
 * an OVS upcall; the state must stay near what 65 s of event time holds,
 * not grow with the file.
 */
#define LONG_PACKETS 30000
#define LONG_STEP_NS 10000000ULL /* one packet every 10 ms: 300 s in all */

static const char *long_stream(void)
{
	const char *path = tmp_path("long.json");
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f, "{\"common\":{\"timestamp\":1},\"startup\":{\"retis_version\":\"v1.7.0\","
		   "\"cmdline\":\"x\",\"clock_monotonic_offset\":{\"sec\":0,\"nsec\":0},"
		   "\"machine\":{\"kernel_release\":\"a\",\"kernel_version\":\"b\","
		   "\"hardware_name\":\"c\"}}}\n");
	for (uint64_t k = 1; k <= LONG_PACKETS; k++) {
		uint64_t t = k * LONG_STEP_NS;
		const char *st = "\"skb-tracking\":{\"orig_head\":%" PRIu64
				 ",\"timestamp\":%" PRIu64 ",\"skb\":7}";
		char trk[160];

		snprintf(trk, sizeof(trk), st, k, t);
		fprintf(f,
			"{\"common\":{\"timestamp\":%" PRIu64 "},\"kernel\":{\"symbol\":\"a\","
			"\"probe_type\":\"kprobe\"},%s}\n",
			t, trk);
		if (!(k % 4)) {
			fprintf(f,
				"{\"common\":{\"timestamp\":%" PRIu64 "},\"kernel\":{\"symbol\":"
				"\"u\",\"probe_type\":\"raw_tracepoint\"},%s,\"ovs\":{\"event_"
				"type\":"
				"\"upcall\",\"cmd\":1,\"port\":1,\"cpu\":0}}\n",
				t + 1, trk);
			fprintf(f,
				"{\"common\":{\"timestamp\":%" PRIu64 "},\"kernel\":{\"symbol\":"
				"\"e\",\"probe_type\":\"kretprobe\"},%s,\"ovs\":{\"event_type\":"
				"\"upcall_enqueue\",\"ret\":0,\"cmd\":1,\"port\":1,\"upcall_ts\":"
				"%" PRIu64 ",\"upcall_cpu\":0,\"queue_id\":%" PRIu64 "}}\n",
				t + 2, trk, t + 1, k);
			fprintf(f,
				"{\"common\":{\"timestamp\":%" PRIu64 "},\"kernel\":{\"symbol\":"
				"\"r\",\"probe_type\":\"kretprobe\"},%s,\"ovs\":{\"event_type\":"
				"\"upcall_return\",\"upcall_ts\":%" PRIu64 ",\"upcall_cpu\":0,"
				"\"ret\":0}}\n",
				t + 3, trk, t + 1);
		}
		fprintf(f,
			"{\"common\":{\"timestamp\":%" PRIu64 "},\"kernel\":{\"symbol\":\"b\","
			"\"probe_type\":\"kprobe\"},%s}\n",
			t + 1000000, trk);
	}
	assert_int_equal(fclose(f), 0);
	return path;
}

/* "peak state: B event(s) buffered, I id(s), Q queue id(s), U upcall(s)" */
static void peaks(const char *log, unsigned long *buf, unsigned long *ids, unsigned long *queues,
		  unsigned long *upcalls)
{
	const char *p = strstr(log, "peak state: ");

	assert_non_null(p);
	assert_int_equal(sscanf(p,
				"peak state: %lu event(s) buffered, %lu id(s), %lu queue id(s), "
				"%lu upcall(s)",
				buf, ids, queues, upcalls),
			 4);
}

static void test_bounded_memory(void **state)
{
	const char *in = long_stream(), *out = tmp_path("long-out.json");
	unsigned long buf, ids, queues, upcalls;
	/* Ids that 65 s of event time can hold, plus what the buffer keeps. */
	unsigned long open_ids = 65 * 1000000000ULL / LONG_STEP_NS + 1 + 100;
	struct retisc_json **s;
	struct pt_run r;
	size_t n;

	(void)state;
	pt_run_debug(&r, "sort", "--max-buffer", "100", in, "-o", out);
	assert_int_equal(r.status, 0);
	peaks(pt_log(&r), &buf, &ids, &queues, &upcalls);
	assert_true(buf <= 100);
	if (ids > open_ids || ids < open_ids - 200 || queues > open_ids / 4 + 2 || upcalls > 2)
		fail_msg("state not bounded: %s", pt_log(&r));
	pt_free(&r);

	/* The output is what Retis gives: every packet whole, in order. */
	s = read_series(out, &n);
	assert_int_equal(n, LONG_PACKETS + 1);
	for (size_t i = 1; i < n; i += 997) {
		size_t len = retisc_json__arr_len(s[i]);

		assert_int_equal(len, i % 4 ? 2 : 5);
		assert_int_equal(ev_idx(retisc_json__arr_get(s[i], len - 1)), len - 1);
	}
	free_series(s, n);

	/* Retis's behaviour on request: nothing forgotten, state grows. */
	pt_run_debug(&r, "sort", "--max-buffer", "100", "--forget-after", "0", in, "-o", out);
	assert_int_equal(r.status, 0);
	peaks(pt_log(&r), &buf, &ids, &queues, &upcalls);
	assert_int_equal(ids, LONG_PACKETS);
	assert_int_equal(queues, LONG_PACKETS / 4);
	pt_free(&r);
}

/* An id unseen for longer than --forget-after starts again at n 0. */
static void test_forget_after(void **state)
{
	const char *out = tmp_path("forget.json"), *in;
	struct retisc_json **s;
	struct pt_run r;
	size_t n;

	(void)state;
	in = tmp_file(
		"forget-in.json",
		"{\"common\":{\"timestamp\":1},\"startup\":{\"retis_version\":\"v1.7.0\","
		"\"cmdline\":\"x\",\"clock_monotonic_offset\":{\"sec\":0,\"nsec\":0},"
		"\"machine\":{\"kernel_release\":\"a\",\"kernel_version\":\"b\","
		"\"hardware_name\":\"c\"}}}\n"
		"{\"common\":{\"timestamp\":10},\"kernel\":{\"symbol\":\"a\",\"probe_type\":"
		"\"kprobe\"},\"skb-tracking\":{\"orig_head\":1,\"timestamp\":10,\"skb\":3}}\n"
		"{\"common\":{\"timestamp\":5000000000},\"kernel\":{\"symbol\":\"b\","
		"\"probe_type\":\"kprobe\"}}\n"
		"{\"common\":{\"timestamp\":5000000001},\"kernel\":{\"symbol\":\"a\","
		"\"probe_type\":\"kprobe\"},\"skb-tracking\":{\"orig_head\":1,\"timestamp\":10,"
		"\"skb\":3}}\n");
	pt_run(&r, "sort", "--max-buffer", "1", "--forget-after", "2", in, "-o", out);
	assert_int_equal(r.status, 0);
	s = read_series(out, &n);
	assert_int_equal(n, 4);
	assert_int_equal(ev_idx(retisc_json__arr_get(s[3], 0)), 0);
	free_series(s, n);
	pt_free(&r);

	pt_run(&r, "sort", "--max-buffer", "1", in, "-o", out);
	assert_int_equal(r.status, 0);
	s = read_series(out, &n);
	assert_int_equal(ev_idx(retisc_json__arr_get(s[3], 0)), 1);
	free_series(s, n);
	pt_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_default),
		cmocka_unit_test(test_json_max_buffer),
		cmocka_unit_test(test_json_max_buffer_1),
		cmocka_unit_test(test_ovs_stitching),
		cmocka_unit_test(test_ovs_errors),
		cmocka_unit_test(test_existing_tracking),
		cmocka_unit_test(test_text_multi_line),
		cmocka_unit_test(test_text_single_line),
		cmocka_unit_test(test_text_utc),
		cmocka_unit_test(test_print_and_out),
		cmocka_unit_test(test_annotations),
		cmocka_unit_test(test_annotations_neutral),
		cmocka_unit_test(test_refuse_series),
		cmocka_unit_test(test_refuse_compat_out),
		cmocka_unit_test(test_refuse_in_place),
		cmocka_unit_test(test_cannot_create),
		cmocka_unit_test(test_startup_first),
		cmocka_unit_test(test_rotated_set),
		cmocka_unit_test(test_malformed_line),
		cmocka_unit_test(test_copy_through),
		cmocka_unit_test(test_copy_through_batches),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_bounded_memory),
		cmocka_unit_test(test_forget_after),
	};

	return cmocka_run_group_tests(tests, pt_group_setup, pt_group_teardown);
}
