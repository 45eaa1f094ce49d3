// SPDX-License-Identifier: GPL-2.0-only
/*
 * Raw event decoding (core/events/decode.c): ring buffer records built by hand,
 * section by section (bpf/include/retisc/event.h), and the JSON they must
 * give (doc/events.md §2, §3, §4.1, §4.2, §4.4), including malformed records.
 *
 * Plugin sections come from real plugins: the skb-tracking plugin
 * (build/plugins/skb-tracking.so, owner 4) and the good_a test plugin
 * (build/tests/plugins/good_a.so, section "good-a", rank 1000, dynamic
 * owner 32, decoded as {"type":T,"size":N}; data type 0xff is refused).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "plugtest.h"

#include <retisc/event.h>
#include <retisc/json.h>
#include <retisc/strbuf.h>

#include "collect.h"
#include "log.h"
#include "registry.h"

static struct retisc_registry *reg;
static int good_a_owner;

/* -------------------------------------------------------------------------
 * Raw records.
 */

static void put_common(struct rawbuf *r, uint64_t ts, uint32_t cpu)
{
	struct retisc_raw_common c = {.timestamp = ts, .smp_id = cpu};

	raw_put(r, RETISC_OWNER_COMMON, RETISC_COMMON_TYPE_EVENT, &c, sizeof(c));
}

/* comm: 16 bytes, not necessarily NUL-terminated. */
static void put_task(struct rawbuf *r, uint64_t pid_tgid, const char *comm)
{
	struct retisc_raw_task t = {.pid_tgid = pid_tgid};

	memcpy(t.comm, comm, sizeof(t.comm));
	raw_put(r, RETISC_OWNER_COMMON, RETISC_COMMON_TYPE_TASK, &t, sizeof(t));
}

static void put_kernel(struct rawbuf *r, uint32_t probe_id, int32_t stack_id, uint8_t type)
{
	struct retisc_raw_kernel k = {
		.probe_id = probe_id, .stack_id = stack_id, .probe_type = type};

	raw_put(r, RETISC_OWNER_KERNEL, RETISC_KERNEL_TYPE_PROBE, &k, sizeof(k));
}

/* size 24: Retis's layout; 32: with retisc's `lost`. */
static void put_tracking(struct rawbuf *r, uint64_t head, uint64_t ts, uint64_t skb, uint32_t lost,
			 size_t size)
{
	struct retisc_raw_skb_tracking t = {
		.orig_head = head, .timestamp = ts, .skb = skb, .lost = lost};

	raw_put(r, RETISC_OWNER_SKB_TRACKING, 1, &t, size);
}

/* The usual probe event prefix: common (event + task) and kernel. */
static void put_probe(struct rawbuf *r)
{
	raw_put_probe(r, 30419169061793ULL, 6, (11330ULL << 32) | 11330, "ping", 0,
		      RETISC_PROBE_RAW_TP);
}

#define PROBE_JSON                                                                                 \
	"\"common\":{\"timestamp\":30419169061793,\"smp_id\":6,\"task\":{\"pid\":11330,"           \
	"\"tgid\":11330,\"comm\":\"ping\"}},\"kernel\":{\"symbol\":\"net:net_dev_start_xmit\","    \
	"\"probe_type\":\"raw_tracepoint\"}"

#define TRACKING_JSON                                                                              \
	"\"skb-tracking\":{\"orig_head\":18446619372617628672,\"timestamp\":30419169061793,"       \
	"\"skb\":18446619372874141952}"

/* -------------------------------------------------------------------------
 * Decoding helpers.
 */

static const char *symbol_of(void *priv, uint32_t probe_id)
{
	static const char *const table[] = {
		"net:net_dev_start_xmit",
		"skb:kfree_skb",
		"ovs_dp_upcall",
		"openvswitch:ovs_do_execute_action",
	};

	assert_ptr_equal(priv, &good_a_owner);
	return probe_id < sizeof(table) / sizeof(table[0]) ? table[probe_id] : NULL;
}

static struct retisc_decode_ctx ctx(void)
{
	return (struct retisc_decode_ctx){
		.reg = reg,
		.symbol_of = symbol_of,
		.priv = &good_a_owner,
		.stack_map_fd = -1,
	};
}

/* Decode r with dc and compare; returns the malformed count. */
static uint64_t decode_with(struct retisc_decode_ctx *dc, const struct rawbuf *r, const char *want)
{
	struct retisc_json *ev;

	ev = retisc_event__decode(dc, r->b, r->len);
	if (!ev)
		fail_msg("decode failed: %s; log:\n%s", strerror(errno), retisc_strbuf__str(&logs));
	assert_json(ev, want);
	assert_encode_same(dc, r->b, r->len, ev);
	retisc_json__free(ev);
	return dc->malformed;
}

/* Does the direct path take r (0), or leave it to the tree (-EAGAIN)? */
static int encode_rc(const struct rawbuf *r)
{
	struct retisc_decode_ctx dc = ctx();
	struct retisc_json *ev = retisc_event__decode(&dc, r->b, r->len);
	int err;

	if (!ev) {
		struct retisc_strbuf out = RETISC_STRBUF_INIT;

		err = retisc_event__encode(&dc, r->b, r->len, &out);
		retisc_strbuf__release(&out);
		retisc_decode_ctx__release(&dc);
		return err;
	}
	err = assert_encode_same(&dc, r->b, r->len, ev);
	retisc_json__free(ev);
	return err;
}

static uint64_t decode(const struct rawbuf *r, const char *want)
{
	struct retisc_decode_ctx dc = ctx();

	return decode_with(&dc, r, want);
}

/* The record must be refused: NULL with errno. */
static uint64_t decode_fails(const struct rawbuf *r, int want_errno)
{
	struct retisc_decode_ctx dc = ctx();
	struct retisc_json *ev;

	errno = 0;
	ev = retisc_event__decode(&dc, r->b, r->len);
	if (ev) {
		assert_json(ev, "(decode should have failed)");
		retisc_json__free(ev);
	}
	assert_int_equal(errno, want_errno);
	return dc.malformed;
}

/* -------------------------------------------------------------------------
 * Fixtures.
 */

static int group_setup(void **state)
{
	static const char *const plugins[] = {"skb-tracking", NULL};
	const struct retisc_section *s;

	(void)state;
	if (plug_group_setup(&reg, plugins) || plug_load_built(reg, "tests/plugins", "good_a"))
		return -1;
	s = retisc_registry__section_by_key(reg, "good-a");
	if (!s)
		return -1;
	good_a_owner = s->owner;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	plug_group_teardown(reg);
	return 0;
}

/* -------------------------------------------------------------------------
 * Well-formed events.
 */

/* doc/events.md §7 example 1, up to skb-tracking. */
static void test_probe_event(void **state)
{
	struct rawbuf r = {};

	(void)state;
	put_probe(&r);
	put_tracking(&r, 18446619372617628672ULL, 30419169061793ULL, 18446619372874141952ULL, 0,
		     24);
	assert_int_equal(decode(&r, "{" PROBE_JSON "," TRACKING_JSON "}"), 0);
	assert_string_equal(retisc_strbuf__str(&logs), "");
}

/* doc/events.md §3 quirk: task.pid is the high half of pid_tgid (example 4). */
static void test_pid_tgid(void **state)
{
	struct rawbuf r = {};

	(void)state;
	put_common(&r, 30419169314440ULL, 6);
	put_task(&r, (985ULL << 32) | 995, "handler8\0\0\0\0\0\0\0");
	put_kernel(&r, 3, -1, RETISC_PROBE_RAW_TP);
	assert_int_equal(decode(&r, "{\"common\":{\"timestamp\":30419169314440,\"smp_id\":6,"
				    "\"task\":{\"pid\":985,\"tgid\":995,\"comm\":\"handler8\"}},"
				    "\"kernel\":{\"symbol\":\"openvswitch:ovs_do_execute_action\","
				    "\"probe_type\":\"raw_tracepoint\"}}"),
			 0);

	/* Both halves are i32. */
	r.len = 0;
	put_common(&r, 1, 0);
	put_task(&r, (0xfffffffeULL << 32) | 0x80000000ULL, "x\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
	assert_int_equal(decode(&r,
				"{\"common\":{\"timestamp\":1,\"smp_id\":0,\"task\":{\"pid\":-2,"
				"\"tgid\":-2147483648,\"comm\":\"x\"}}}"),
			 0);
}

static void check_comm(const char comm[16], const char *want_comm)
{
	char want[256];
	struct rawbuf r = {};

	put_common(&r, 5, 1);
	put_task(&r, (7ULL << 32) | 8, comm);
	snprintf(want, sizeof(want),
		 "{\"common\":{\"timestamp\":5,\"smp_id\":1,\"task\":{\"pid\":7,\"tgid\":8,"
		 "\"comm\":\"%s\"}}}",
		 want_comm);
	assert_int_equal(decode(&r, want), 0);
}

/* doc/events.md §3: cut at the first NUL, invalid UTF-8 -> U+FFFD. */
static void test_comm(void **state)
{
	(void)state;
	/* Bytes after the NUL are ignored. */
	check_comm("ping\0garbage\xff\xfe"
		   "12",
		   "ping");
	/* No NUL: all 16 bytes. */
	check_comm("0123456789abcdef", "0123456789abcdef");
	check_comm("\0bcdefghijklmnop", "");
	/* Valid UTF-8 verbatim. */
	check_comm("caf\xc3\xa9\0\0\0\0\0\0\0\0\0\0", "caf\xc3\xa9");
	/* A stray byte, a lead byte without its continuation, a sequence cut
	 * by the NUL: one U+FFFD each. */
	check_comm("a\xff"
		   "b\xc3(\xe2\x82\0\0\0\0\0\0\0\0",
		   "a\xef\xbf\xbd"
		   "b\xef\xbf\xbd(\xef\xbf\xbd");
	/* A multi-byte character cut by the end of the buffer. */
	check_comm("0123456789abcde\xc3", "0123456789abcde\xef\xbf\xbd");
	/* Control characters are escaped by the writer. */
	check_comm("a\tb\x01\0\0\0\0\0\0\0\0\0\0\0\0", "a\\tb\\u0001");
}

static void check_kernel(uint32_t probe_id, int32_t stack_id, uint8_t type, const char *want_kernel)
{
	char want[512];
	struct rawbuf r = {};

	put_common(&r, 9, 2);
	put_kernel(&r, probe_id, stack_id, type);
	snprintf(want, sizeof(want), "{\"common\":{\"timestamp\":9,\"smp_id\":2},\"kernel\":%s}",
		 want_kernel);
	assert_int_equal(decode(&r, want), 0);
}

static const char *path_of(void *priv, uint32_t probe_id)
{
	(void)priv;
	return probe_id == 2 ? "/usr/sbin/ovs-vswitchd" : NULL;
}

/* doc/events.md §4.3: the userspace section of USDT events. */
static void test_userspace(void **state)
{
	struct retisc_decode_ctx dc = ctx();
	struct retisc_raw_userspace u = {.ip = 4096,
					 .pid_tgid = (10ULL << 32) | 11,
					 .probe_id = 2,
					 .probe_type = RETISC_PROBE_USDT};
	struct rawbuf r = {};

	(void)state;
	dc.path_of = path_of;
	put_common(&r, 9, 2);
	raw_put(&r, RETISC_OWNER_USERSPACE, RETISC_USERSPACE_TYPE_PROBE, &u, sizeof(u));
	assert_int_equal(decode_with(&dc, &r,
				     "{\"common\":{\"timestamp\":9,\"smp_id\":2},\"userspace\":{"
				     "\"probe_type\":\"usdt\",\"symbol\":\"ovs_dp_upcall\","
				     "\"ip\":4096,\"path\":\"/usr/sbin/ovs-vswitchd\",\"pid\":10,"
				     "\"tid\":11}}"),
			 0);
	/* No path known, unknown probe; a short section is malformed. */
	u.probe_id = 9;
	r = (struct rawbuf){};
	put_common(&r, 9, 2);
	raw_put(&r, RETISC_OWNER_USERSPACE, RETISC_USERSPACE_TYPE_PROBE, &u, sizeof(u));
	assert_int_equal(decode_with(&dc, &r,
				     "{\"common\":{\"timestamp\":9,\"smp_id\":2},\"userspace\":{"
				     "\"probe_type\":\"usdt\",\"symbol\":\"unknown-probe:9\","
				     "\"ip\":4096,\"pid\":10,\"tid\":11}}"),
			 0);
	r = (struct rawbuf){};
	put_common(&r, 9, 2);
	raw_put(&r, RETISC_OWNER_USERSPACE, RETISC_USERSPACE_TYPE_PROBE, &u, sizeof(u) - 1);
	assert_int_equal(decode_with(&dc, &r, "{\"common\":{\"timestamp\":9,\"smp_id\":2}}"), 1);
}

/* doc/events.md §4.2 */
static void test_kernel(void **state)
{
	struct retisc_decode_ctx dc = ctx();
	struct rawbuf r = {};

	(void)state;
	check_kernel(1, -1, RETISC_PROBE_RAW_TP,
		     "{\"symbol\":\"skb:kfree_skb\",\"probe_type\":\"raw_tracepoint\"}");
	check_kernel(2, -1, RETISC_PROBE_KPROBE,
		     "{\"symbol\":\"ovs_dp_upcall\",\"probe_type\":\"kprobe\"}");
	check_kernel(2, -1, RETISC_PROBE_KRETPROBE,
		     "{\"symbol\":\"ovs_dp_upcall\",\"probe_type\":\"kretprobe\"}");
	/* Anything else is "invalid" (§4.2 text tag). */
	check_kernel(2, -1, 0, "{\"symbol\":\"ovs_dp_upcall\",\"probe_type\":\"invalid\"}");
	check_kernel(2, -1, RETISC_PROBE_USDT,
		     "{\"symbol\":\"ovs_dp_upcall\",\"probe_type\":\"invalid\"}");
	check_kernel(2, -1, 200, "{\"symbol\":\"ovs_dp_upcall\",\"probe_type\":\"invalid\"}");
	/* Probe id unknown to the probe table. */
	check_kernel(7, -1, RETISC_PROBE_KPROBE,
		     "{\"symbol\":\"unknown-probe:7\",\"probe_type\":\"kprobe\"}");
	check_kernel(4294967295U, -1, RETISC_PROBE_KPROBE,
		     "{\"symbol\":\"unknown-probe:4294967295\",\"probe_type\":\"kprobe\"}");
	/* A stack was requested: without a stack map it cannot be read, so the
	 * key is there and empty; a negative id other than -1 means the BPF
	 * side failed to get it. */
	check_kernel(1, 3, RETISC_PROBE_RAW_TP,
		     "{\"symbol\":\"skb:kfree_skb\",\"probe_type\":\"raw_tracepoint\","
		     "\"stack_trace\":[]}");
	check_kernel(1, -EFAULT, RETISC_PROBE_RAW_TP,
		     "{\"symbol\":\"skb:kfree_skb\",\"probe_type\":\"raw_tracepoint\","
		     "\"stack_trace\":[]}");

	/* No probe table at all. */
	dc.symbol_of = NULL;
	put_common(&r, 9, 2);
	put_kernel(&r, 0, -1, RETISC_PROBE_RAW_TP);
	assert_int_equal(
		decode_with(&dc, &r,
			    "{\"common\":{\"timestamp\":9,\"smp_id\":2},\"kernel\":"
			    "{\"symbol\":\"unknown-probe:0\",\"probe_type\":\"raw_tracepoint\"}}"),
		0);
}

/* doc/events.md §4.4, through the skb-tracking plugin's decoder. */
static void test_skb_tracking(void **state)
{
	struct rawbuf r = {};

	(void)state;
	put_probe(&r);
	put_tracking(&r, 18446619372617628672ULL, 30419169061793ULL, 18446619372874141952ULL, 0,
		     sizeof(struct retisc_raw_skb_tracking));
	assert_int_equal(decode(&r, "{" PROBE_JSON "," TRACKING_JSON "}"), 0);

	/* retisc's `lost`, only when non-zero. */
	r.len = 0;
	put_probe(&r);
	put_tracking(&r, 1, 0, 2, 3, sizeof(struct retisc_raw_skb_tracking));
	assert_int_equal(decode(&r, "{" PROBE_JSON ",\"skb-tracking\":{\"orig_head\":1,"
				    "\"timestamp\":0,\"skb\":2,\"lost\":3}}"),
			 0);

	/* Too short for the plugin: skipped, the event is kept. */
	r.len = 0;
	put_probe(&r);
	put_tracking(&r, 1, 0, 2, 0, 16);
	assert_int_equal(decode(&r, "{" PROBE_JSON "}"), 1);
	assert_log_has("Skipping malformed section (owner 4, type 1, 16 bytes): Invalid argument");
}

/* A plugin section with a dynamic owner id. */
static void test_dynamic_owner(void **state)
{
	uint8_t payload[5] = {1, 2, 3, 4, 5};
	struct rawbuf r = {};

	(void)state;
	assert_true(good_a_owner >= RETISC_OWNER_DYNAMIC);
	put_probe(&r);
	raw_put(&r, (uint8_t)good_a_owner, 7, payload, sizeof(payload));
	assert_int_equal(decode(&r, "{" PROBE_JSON ",\"good-a\":{\"type\":7,\"size\":5}}"), 0);

	/* The decoder's own error: the section is skipped. */
	r.len = 0;
	put_probe(&r);
	raw_put(&r, (uint8_t)good_a_owner, 0xff, payload, sizeof(payload));
	assert_int_equal(decode(&r, "{" PROBE_JSON "}"), 1);
	assert_log_has("Skipping malformed section (owner 32, type 255, 5 bytes)");

	/* Empty payloads are legal. */
	r.len = 0;
	put_probe(&r);
	raw_put(&r, (uint8_t)good_a_owner, 0, NULL, 0);
	assert_int_equal(decode(&r, "{" PROBE_JSON ",\"good-a\":{\"type\":0,\"size\":0}}"), 0);
}

/* doc/events.md §2 key order, whatever order the hooks wrote the sections in. */
static void test_out_of_order(void **state)
{
	uint8_t payload[2] = {0};
	struct rawbuf r = {};
	struct retisc_raw_task t = {.pid_tgid = (11330ULL << 32) | 11330};

	(void)state;
	memcpy(t.comm, "ping", 4);
	raw_put(&r, (uint8_t)good_a_owner, 1, payload, sizeof(payload));
	put_tracking(&r, 18446619372617628672ULL, 30419169061793ULL, 18446619372874141952ULL, 0,
		     24);
	put_kernel(&r, 0, -1, RETISC_PROBE_RAW_TP);
	/* Even the task before the common event data. */
	raw_put(&r, RETISC_OWNER_COMMON, RETISC_COMMON_TYPE_TASK, &t, sizeof(t));
	put_common(&r, 30419169061793ULL, 6);
	assert_int_equal(
		decode(&r, "{" PROBE_JSON "," TRACKING_JSON ",\"good-a\":{\"type\":1,\"size\":2}}"),
		0);
}

/* retisc_event__sort_sections() on its own. */
static void test_sort_sections(void **state)
{
	static const char in[] = "{\"x-unknown\":1,\"startup\":{},\"good-a\":2,\"tracking\":3,"
				 "\"y-unknown\":4,\"common\":{\"b\":1,\"a\":2},\"kernel\":5}";
	struct retisc_json *ev;

	(void)state;
	ev = retisc_json__parse(in, strlen(in), NULL, 0);
	assert_non_null(ev);
	assert_int_equal(retisc_event__sort_sections(reg, ev), 0);
	/* Known ranks first, unknown keys last in their original order;
	 * nested objects untouched. */
	assert_json(ev, "{\"common\":{\"b\":1,\"a\":2},\"kernel\":5,\"tracking\":3,\"startup\":{},"
			"\"good-a\":2,\"x-unknown\":1,\"y-unknown\":4}");
	/* Already sorted: unchanged. */
	assert_int_equal(retisc_event__sort_sections(reg, ev), 0);
	assert_json(ev, "{\"common\":{\"b\":1,\"a\":2},\"kernel\":5,\"tracking\":3,\"startup\":{},"
			"\"good-a\":2,\"x-unknown\":1,\"y-unknown\":4}");
	retisc_json__free(ev);
}

/* -------------------------------------------------------------------------
 * Malformed records: the bad part is counted in dc.malformed, logged and
 * skipped; the event survives as long as it has a common section.
 */

static void test_truncated_header(void **state)
{
	struct rawbuf r = {};

	(void)state;
	put_probe(&r);
	raw_put_bytes(&r, "\x04\x01", 2);
	assert_int_equal(decode(&r, "{" PROBE_JSON "}"), 1);
	assert_log_has("Malformed event: 2 trailing bytes after the last section");
	/* Nothing but a partial header. */
	r.len = 0;
	raw_put_bytes(&r, "\x01\x01\x10", 3);
	assert_int_equal(decode_fails(&r, EINVAL), 1);
}

static void test_oversized_section(void **state)
{
	struct retisc_raw_skb_tracking t = {};
	struct rawbuf r = {};

	(void)state;
	put_probe(&r);
	/* Claims 24 bytes, 10 follow: the rest of the record is dropped. */
	raw_put_hdr(&r, RETISC_OWNER_SKB_TRACKING, 1, 24);
	raw_put_bytes(&r, &t, 10);
	assert_int_equal(decode(&r, "{" PROBE_JSON "}"), 1);
	assert_log_has("Malformed event: section owner 4 type 1 claims 24 bytes, 10 left");

	/* The same before the common section: no event at all. */
	r.len = 0;
	raw_put_hdr(&r, RETISC_OWNER_COMMON, RETISC_COMMON_TYPE_EVENT, 0xffff);
	put_common(&r, 1, 2);
	assert_int_equal(decode_fails(&r, EINVAL), 1);
}

static void test_unknown_owner(void **state)
{
	uint8_t payload[8] = {0};
	struct rawbuf r = {};

	(void)state;
	put_common(&r, 30419169061793ULL, 6);
	/* Owner nobody registered, between known sections. */
	raw_put(&r, 200, 1, payload, sizeof(payload));
	put_task(&r, (11330ULL << 32) | 11330, "ping\0\0\0\0\0\0\0\0\0\0\0");
	/* The core's userspace section has no raw decoder here. */
	raw_put(&r, RETISC_OWNER_USERSPACE, 1, payload, sizeof(payload));
	put_kernel(&r, 0, -1, RETISC_PROBE_RAW_TP);
	raw_put(&r, 0, 0, NULL, 0);
	put_tracking(&r, 18446619372617628672ULL, 30419169061793ULL, 18446619372874141952ULL, 0,
		     24);
	assert_int_equal(decode(&r, "{" PROBE_JSON "," TRACKING_JSON "}"), 3);
	assert_log_has("Skipping malformed section (owner 200, type 1, 8 bytes): no decoder for "
		       "this owner");
	assert_log_has("Skipping malformed section (owner 3, type 1, 8 bytes)");
	assert_log_has("Skipping malformed section (owner 0, type 0, 0 bytes)");
}

static void test_short_common(void **state)
{
	struct retisc_raw_common c = {.timestamp = 1};
	struct retisc_raw_task t = {.pid_tgid = 1};
	struct rawbuf r = {};

	(void)state;
	/* A task one byte short: common keeps the event data only. */
	put_common(&r, 30419169061793ULL, 6);
	raw_put(&r, RETISC_OWNER_COMMON, RETISC_COMMON_TYPE_TASK, &t, sizeof(t) - 1);
	put_kernel(&r, 0, -1, RETISC_PROBE_RAW_TP);
	assert_int_equal(decode(&r, "{\"common\":{\"timestamp\":30419169061793,\"smp_id\":6},"
				    "\"kernel\":{\"symbol\":\"net:net_dev_start_xmit\","
				    "\"probe_type\":\"raw_tracepoint\"}}"),
			 1);
	assert_log_has("Skipping malformed section (owner 1, type 2, 23 bytes): Invalid argument");

	/* The only common section is too short: no common, no event. */
	r.len = 0;
	raw_put(&r, RETISC_OWNER_COMMON, RETISC_COMMON_TYPE_EVENT, &c, 8);
	put_kernel(&r, 0, -1, RETISC_PROBE_RAW_TP);
	assert_int_equal(decode_fails(&r, EINVAL), 1);

	/* Same with a common data type the core does not know. */
	r.len = 0;
	raw_put(&r, RETISC_OWNER_COMMON, 9, &c, sizeof(c));
	put_kernel(&r, 0, -1, RETISC_PROBE_RAW_TP);
	assert_int_equal(decode_fails(&r, EINVAL), 1);

	/* A short kernel section is skipped like any other. */
	r.len = 0;
	put_common(&r, 3, 4);
	raw_put(&r, RETISC_OWNER_KERNEL, RETISC_KERNEL_TYPE_PROBE, &c, 8);
	raw_put(&r, RETISC_OWNER_KERNEL, 2, &c, sizeof(c));
	assert_int_equal(decode(&r, "{\"common\":{\"timestamp\":3,\"smp_id\":4}}"), 2);
}

static void test_no_common(void **state)
{
	struct rawbuf r = {};

	(void)state;
	put_kernel(&r, 0, -1, RETISC_PROBE_RAW_TP);
	put_tracking(&r, 1, 2, 3, 0, 24);
	assert_int_equal(decode_fails(&r, EINVAL), 0);
	/* Empty record. */
	r.len = 0;
	assert_int_equal(decode_fails(&r, EINVAL), 0);
}

/*
 * Which records the direct path writes itself (doc/architecture.md §4.3):
 * core sections and skb-tracking; anything else goes to the tree path, and
 * then decode_with() above checks both give the same bytes when it does.
 */
static void test_direct_path(void **state)
{
	struct retisc_raw_userspace u = {.probe_id = 0};
	const char comm[16] = "x";
	struct rawbuf r = {};

	(void)state;
	put_probe(&r);
	assert_int_equal(encode_rc(&r), 0);
	put_tracking(&r, 1, 2, 3, 0, 24);
	assert_int_equal(encode_rc(&r), 0);
	/* skb-tracking's lost counter, and a common section without a task. */
	r.len = 0;
	put_common(&r, 5, 1);
	put_tracking(&r, 1, 2, 3, 7, sizeof(struct retisc_raw_skb_tracking));
	assert_int_equal(encode_rc(&r), 0);
	/* A section whose owner has no encoder (good-a). */
	raw_put(&r, (uint8_t)good_a_owner, 0, NULL, 0);
	assert_int_equal(encode_rc(&r), -EAGAIN);
	/* A stack, a USDT section. */
	r.len = 0;
	put_common(&r, 5, 1);
	put_kernel(&r, 0, 3, RETISC_PROBE_KPROBE);
	assert_int_equal(encode_rc(&r), -EAGAIN);
	r.len = 0;
	put_common(&r, 5, 1);
	raw_put(&r, RETISC_OWNER_USERSPACE, RETISC_USERSPACE_TYPE_PROBE, &u, sizeof(u));
	assert_int_equal(encode_rc(&r), -EAGAIN);
	/* Repeated sections, which the tree path overwrites. */
	r.len = 0;
	put_probe(&r);
	put_common(&r, 6, 1);
	assert_int_equal(encode_rc(&r), -EAGAIN);
	r.len = 0;
	put_probe(&r);
	put_tracking(&r, 1, 2, 3, 0, 24);
	put_tracking(&r, 1, 2, 4, 0, 24);
	assert_int_equal(encode_rc(&r), -EAGAIN);
	/* Malformed: short tracking, trailing bytes, no common event. */
	r.len = 0;
	put_probe(&r);
	put_tracking(&r, 1, 2, 3, 0, 16);
	assert_int_equal(encode_rc(&r), -EAGAIN);
	r.len = 0;
	put_probe(&r);
	raw_put_bytes(&r, "\x01", 1);
	assert_int_equal(encode_rc(&r), -EAGAIN);
	r.len = 0;
	put_task(&r, 1, comm);
	assert_int_equal(encode_rc(&r), -EAGAIN);
}

/* The counter accumulates over the records decoded with one context. */
static void test_malformed_counter(void **state)
{
	struct retisc_decode_ctx dc = ctx();
	struct rawbuf r = {};

	(void)state;
	put_probe(&r);
	raw_put_bytes(&r, "\x01", 1);
	assert_int_equal(decode_with(&dc, &r, "{" PROBE_JSON "}"), 1);
	assert_int_equal(decode_with(&dc, &r, "{" PROBE_JSON "}"), 2);
	r.len = 0;
	put_probe(&r);
	assert_int_equal(decode_with(&dc, &r, "{" PROBE_JSON "}"), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_probe_event, plug_setup),
		cmocka_unit_test_setup(test_pid_tgid, plug_setup),
		cmocka_unit_test_setup(test_comm, plug_setup),
		cmocka_unit_test_setup(test_kernel, plug_setup),
		cmocka_unit_test_setup(test_userspace, plug_setup),
		cmocka_unit_test_setup(test_skb_tracking, plug_setup),
		cmocka_unit_test_setup(test_dynamic_owner, plug_setup),
		cmocka_unit_test_setup(test_out_of_order, plug_setup),
		cmocka_unit_test_setup(test_sort_sections, plug_setup),
		cmocka_unit_test_setup(test_truncated_header, plug_setup),
		cmocka_unit_test_setup(test_oversized_section, plug_setup),
		cmocka_unit_test_setup(test_unknown_owner, plug_setup),
		cmocka_unit_test_setup(test_short_common, plug_setup),
		cmocka_unit_test_setup(test_no_common, plug_setup),
		cmocka_unit_test_setup(test_malformed_counter, plug_setup),
		cmocka_unit_test_setup(test_direct_path, plug_setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
