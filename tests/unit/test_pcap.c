// SPDX-License-Identifier: GPL-2.0-only
/*
 * pcap processor (doc/processing.md §4): the pcapng layout (section header,
 * schema custom block, one fake interface per probe written before its
 * first packet, one enhanced packet block per event with the text comment
 * and the JSON custom option), timestamps, --probe selection and its
 * errors. The file is walked block by block here, and read back by tshark
 * (when installed) as an independent reader.
 *
 * Input: tests/fixtures/retisc-1.7.json, the startup event (offset
 * 1742309146 s + 691042000 ns) and doc/events.md Examples 1-4, each with a
 * packet: probes net:net_dev_start_xmit, kretprobe ovs_dp_upcall,
 * skb:kfree_skb, openvswitch:ovs_do_execute_action.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proctest.h"

#include <retisc/base64.h>
#include "event_schema.h" /* generated from core/events/event_schema.json */
#include <retisc/json.h>
#include <retisc/plugin.h>

#define OFFSET_NS (1742309146ULL * 1000000000ULL + 691042000ULL)

/* The custom option of doc/events.md Example 2, from doc/processing.md §4.2. */
static const char example2_json[] =
	"{\"common\":{\"timestamp\":30419169125909,\"smp_id\":6,\"task\":{\"pid\":11330,\"tgid\":"
	"11330,\"comm\":\"ping\"}},\"kernel\":{\"symbol\":\"ovs_dp_upcall\",\"probe_type\":"
	"\"kretprobe\"},\"skb-tracking\":{\"orig_head\":18446619372617628672,\"timestamp\":"
	"30419169061793,\"skb\":18446619372874141952},\"skb\":{\"meta\":{\"len\":98,\"data_len\":0,"
	"\"hash\":2116835702,\"ip_summed\":0,\"csum\":2770033380,\"csum_level\":0,\"priority\":0},"
	"\"data_ref\":{\"nohdr\":false,\"cloned\":false,\"fclone\":0,\"users\":1,\"dataref\":1}},"
	"\"netns\":{\"cookie\":1,\"inum\":4026531840},\"dev\":{\"name\":\"veth-ns01-ovs\","
	"\"ifindex\":10,\"rx_ifindex\":10},\"ovs\":{\"event_type\":\"upcall_return\",\"upcall_ts\":"
	"30419169098548,\"upcall_cpu\":6,\"ret\":0}}";

struct blk {
	uint32_t type;
	const uint8_t *body; /* after type and length, before the trailing length */
	size_t len;
};

struct opt {
	uint16_t code;
	const uint8_t *val;
	size_t len;
};

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Split a pcapng file into blocks, checking every length field. */
static size_t blocks(const uint8_t *d, size_t n, struct blk *out, size_t max)
{
	size_t off = 0, k = 0;

	while (off < n) {
		uint32_t len;

		assert_true(n - off >= 12);
		len = rd32(d + off + 4);
		assert_int_equal(len % 4, 0);
		assert_true(len >= 12 && len <= n - off);
		assert_int_equal(rd32(d + off + len - 4), len);
		assert_true(k < max);
		out[k].type = rd32(d + off);
		out[k].body = d + off + 8;
		out[k].len = len - 12;
		k++;
		off += len;
	}
	return k;
}

/* Options from body[off..]: up to and including opt_endofopt. */
static size_t options(const struct blk *b, size_t off, struct opt *out, size_t max)
{
	size_t k = 0;

	for (;;) {
		uint16_t code, len;

		assert_true(b->len - off >= 4);
		code = rd16(b->body + off);
		len = rd16(b->body + off + 2);
		assert_true(k < max);
		out[k].code = code;
		out[k].val = b->body + off + 4;
		out[k].len = len;
		k++;
		if (!code) {
			assert_int_equal(len, 0);
			assert_int_equal(off + 4, b->len);
			return k;
		}
		off += 4 + ((len + 3u) & ~3u);
		assert_true(off <= b->len);
	}
}

static bool opt_is(const struct opt *o, uint16_t code, const char *s)
{
	return o->code == code && o->len == strlen(s) && !memcmp(o->val, s, o->len);
}

/* Input lines of the fixture, parsed. */
static struct retisc_json *fixture_event(size_t line)
{
	char *data = slurp(fixture("retisc-1.7.json"), NULL), *p = data, *nl;
	struct retisc_json *v;

	for (size_t i = 1; i < line; i++)
		p = strchr(p, '\n') + 1;
	nl = strchr(p, '\n');
	v = retisc_json__parse(p, (size_t)(nl - p), NULL, 0);
	free(data);
	assert_non_null(v);
	return v;
}

static void test_layout(void **state)
{
	static const char *const ifnames[] = {
		"raw_tracepoint/net:net_dev_start_xmit",
		"kretprobe/ovs_dp_upcall",
		"raw_tracepoint/skb:kfree_skb",
		"raw_tracepoint/openvswitch:ovs_do_execute_action",
	};
	const struct retisc_api *api = retisc_registry__api(pt_reg);
	const char *out = tmp_path("layout.pcapng");
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;
	struct retisc_json *schema;
	struct retisc_text *text;
	struct blk b[16];
	struct opt o[8];
	struct pt_run r;
	uint8_t *data;
	size_t n, len, k;

	(void)state;
	pt_run(&r, "pcap", "-o", out, fixture("retisc-1.7.json"));
	assert_int_equal(r.status, 0);
	assert_contains(pt_log(&r), "4 event(s) were processed");
	assert_int_equal(r.out_len, 0);
	pt_free(&r);

	data = (uint8_t *)slurp(out, &len);
	n = blocks(data, len, b, 16);
	/* SHB, custom, then IDB before each new probe's first EPB. */
	assert_int_equal(n, 2 + 4 * 2);
	assert_int_equal(b[0].type, 0x0A0D0D0A);
	assert_int_equal(b[0].len, 16);
	assert_int_equal(rd32(b[0].body), 0x1A2B3C4D);
	assert_int_equal(rd16(b[0].body + 4), 1);
	assert_int_equal(rd16(b[0].body + 6), 0);
	assert_int_equal(rd32(b[0].body + 8), 0xFFFFFFFF);
	assert_int_equal(rd32(b[0].body + 12), 0xFFFFFFFF);

	/* Custom block: PEN 70000 + compact schema, zero padded. */
	assert_int_equal(b[1].type, 0x00000BAD);
	assert_int_equal(rd32(b[1].body), 70000);
	schema = retisc_json__parse(retisc_event_schema, strlen(retisc_event_schema), NULL, 0);
	assert_non_null(schema);
	assert_int_equal(retisc_json__dump(schema, &sb), 0);
	retisc_json__free(schema);
	assert_true(b[1].len >= 4 + sb.len && b[1].len - 4 - sb.len < 4);
	assert_memory_equal(b[1].body + 4, sb.buf, sb.len);
	for (size_t i = 4 + sb.len; i < b[1].len; i++)
		assert_int_equal(b[1].body[i], 0);

	text = api->text_new(api, true, false, false);
	assert_non_null(text);
	for (size_t i = 0; i < 4; i++) {
		const struct blk *idb = &b[2 + 2 * i], *epb = &b[3 + 2 * i];
		struct retisc_json *ev = fixture_event(i + 2), *pkt;
		char desc[128];
		uint8_t raw[256];
		uint64_t ts, plen;
		ssize_t dn;
		size_t dl;
		const char *d;

		assert_int_equal(idb->type, 1);
		assert_int_equal(rd16(idb->body), 1); /* Ethernet */
		assert_int_equal(rd16(idb->body + 2), 0);
		assert_int_equal(rd32(idb->body + 4), 0xFFFF); /* snaplen */
		k = options(idb, 8, o, 8);
		assert_int_equal(k, 4);
		assert_true(opt_is(&o[0], 2, ifnames[i]));
		snprintf(desc, sizeof(desc), "Fake interface for probe %s", ifnames[i]);
		assert_true(opt_is(&o[1], 3, desc));
		assert_int_equal(o[2].code, 9);
		assert_int_equal(o[2].len, 1);
		assert_int_equal(o[2].val[0], 9);

		assert_int_equal(epb->type, 6);
		assert_int_equal(rd32(epb->body), i); /* interface id */
		retisc_json__obj_get_u64(retisc_json__obj_get(ev, "common"), "timestamp", &ts);
		ts += OFFSET_NS;
		assert_int_equal(rd32(epb->body + 4), (uint32_t)(ts >> 32));
		assert_int_equal(rd32(epb->body + 8), (uint32_t)ts);
		pkt = retisc_json__obj_get(ev, "packet");
		d = retisc_json__get_str(retisc_json__obj_get(pkt, "data"), &dl);
		dn = retisc_base64__decode(d, dl, raw, sizeof(raw));
		assert_true(dn > 0);
		retisc_json__obj_get_u64(pkt, "len", &plen);
		assert_int_equal(rd32(epb->body + 12), dn);
		assert_int_equal(rd32(epb->body + 16), plen);
		assert_memory_equal(epb->body + 20, raw, (size_t)dn);

		k = options(epb, 20 + (((size_t)dn + 3) & ~(size_t)3), o, 8);
		assert_int_equal(k, 3);
		/* Comment: the default multi-line text, no trailing newline. */
		retisc_strbuf__reset(&sb);
		assert_int_equal(api->text_event(text, ev, 0, NULL, &sb), 0);
		assert_true(opt_is(&o[0], 1, sb.buf));
		/* Custom option: PEN + the event's JSON without packet. */
		assert_int_equal(o[1].code, 2988);
		assert_int_equal(rd32(o[1].val), 70000);
		retisc_json__obj_del(ev, "packet");
		retisc_strbuf__reset(&sb);
		assert_int_equal(retisc_json__dump(ev, &sb), 0);
		assert_int_equal(o[1].len, 4 + sb.len);
		assert_memory_equal(o[1].val + 4, sb.buf, sb.len);
		if (i == 1) {
			/* doc/processing.md §4.2 example, word for word. */
			assert_int_equal(ts, 1742339565860167909ULL);
			assert_int_equal(o[1].len, 4 + strlen(example2_json));
			assert_memory_equal(o[1].val + 4, example2_json, strlen(example2_json));
			static const char head[] =
				"30419169125909 (6) [ping] 11330 [kr] ovs_dp_upcall "
				"#1baa83c42ba1ffff8e95c3b67c00 (skb ffff8e95d3009100)\n"
				"  192.168.125.10 > 192.168.125.11 tos 0x0 ttl 64 id 41977 off 0 "
				"[DF] len 84 proto ICMP (1) type 8 code 0\n";

			assert_true(o[0].len > sizeof(head) - 1);
			assert_memory_equal(o[0].val, head, sizeof(head) - 1);
		}
		retisc_json__free(ev);
	}
	api->text_free(text);
	retisc_strbuf__release(&sb);
	free(data);
}

/* tshark reads the file back: packets, interfaces, times, comments. The
 * comments are compared with the renderer's text of the same events (the
 * plugins loaded decide which sections it shows). */
static void test_tshark(void **state)
{
	static const char *const rows_want[] = {
		"raw_tracepoint/net:net_dev_start_xmit|1742339565.860103793|98|98|",
		"kretprobe/ovs_dp_upcall|1742339565.860167909|98|98|",
		"raw_tracepoint/skb:kfree_skb|1742313299.664357243|94|94|",
		"raw_tracepoint/openvswitch:ovs_do_execute_action|1742339565.860356440|98|98|",
	};
	static const char *const src[] = {"192.168.125.10", "192.168.125.10", "", "192.168.125.10"};
	const struct retisc_api *api = retisc_registry__api(pt_reg);
	const char *out = tmp_path("tshark.pcapng");
	struct retisc_strbuf text = RETISC_STRBUF_INIT, want = RETISC_STRBUF_INIT;
	char cmd[PATH_MAX + 256], line[8192];
	struct retisc_text *t;
	struct pt_run r;
	size_t rows = 0;
	FILE *p;

	(void)state;
	if (system("command -v tshark >/dev/null 2>&1")) {
		print_message("tshark not installed\n");
		skip();
	}
	pt_run(&r, "pcap", "-o", out, fixture("retisc-1.7.json"));
	assert_int_equal(r.status, 0);
	pt_free(&r);
	snprintf(cmd, sizeof(cmd),
		 "tshark -r %s -Y eth -T fields -E separator='|' -e frame.interface_name "
		 "-e frame.time_epoch -e frame.len -e frame.cap_len -e frame.comment -e ip.src "
		 "2>/dev/null",
		 out);
	t = api->text_new(api, true, false, false);
	assert_non_null(t);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		struct retisc_json *ev;

		assert_true(rows < 4);
		ev = fixture_event(rows + 2);
		retisc_strbuf__reset(&text);
		assert_int_equal(api->text_event(t, ev, 0, NULL, &text), 0);
		retisc_json__free(ev);
		/* tshark prints the comment's newlines as \n. */
		retisc_strbuf__reset(&want);
		retisc_strbuf__puts(&want, rows_want[rows]);
		for (const char *c = text.buf; *c; c++) {
			if (*c == '\n')
				retisc_strbuf__puts(&want, "\\n");
			else
				retisc_strbuf__putc(&want, *c);
		}
		retisc_strbuf__printf(&want, "|%s\n", src[rows]);
		assert_str_eq(line, want.buf);
		rows++;
	}
	assert_int_equal(pclose(p), 0);
	assert_int_equal(rows, 4);
	api->text_free(t);
	retisc_strbuf__release(&text);
	retisc_strbuf__release(&want);
}

static void test_probe_selection(void **state)
{
	const char *out = tmp_path("probe.pcapng");
	struct blk b[8];
	struct opt o[8];
	struct pt_run r;
	uint8_t *data;
	size_t len;

	(void)state;
	/* TYPE:TARGET, short type names, exact symbols. */
	pt_expect_log(0, "1 event(s) were processed", "pcap", "-p", "kr:ovs_dp_upcall", "-o", out,
		      fixture("retisc-1.7.json"));
	data = (uint8_t *)slurp(out, &len);
	assert_int_equal(blocks(data, len, b, 8), 4);
	options(&b[2], 8, o, 8);
	assert_true(opt_is(&o[0], 2, "kretprobe/ovs_dp_upcall"));
	assert_int_equal(rd32(b[3].body), 0);
	free(data);

	/* No TYPE and one colon: raw tracepoint; /stack is accepted. */
	pt_expect_log(0, "1 event(s) were processed", "pcap", "--probe", "skb:kfree_skb/stack",
		      "-o", out, fixture("retisc-1.7.json"));

	/* No TYPE, no colon: kprobe, so the kretprobe does not match. */
	pt_run(&r, "pcap", "-p", "ovs_dp_upcall", "-o", tmp_path("none.pcapng"),
	       fixture("retisc-1.7.json"));
	assert_int_equal(r.status, 1);
	assert_contains(pt_log(&r), "Probe not found in the events");
	assert_int_equal(access(tmp_path("none.pcapng"), F_OK), -1);
	pt_free(&r);

	pt_expect_log(1, "Invalid TYPE foo. See the help.", "pcap", "-p", "foo:bar:baz",
		      fixture("retisc-1.7.json"));
	pt_expect_log(1, "'bogus' is an invalid probe option.", "pcap", "-p",
		      "tp:skb:kfree_skb/bogus", fixture("retisc-1.7.json"));
	pt_expect_log(1,
		      "Empty options are not allowed. Check your option list "
		      "doesn't terminate with '/'.",
		      "pcap", "-p", "tp:skb:kfree_skb/", fixture("retisc-1.7.json"));
	pt_expect_log(1, "duplicate options detected in stack/stack.", "pcap", "-p",
		      "tp:skb:kfree_skb/stack/stack", fixture("retisc-1.7.json"));
}

/* Events without packet: counted, skipped, warned; nothing is written, not
 * even the file. USDT and other events without kernel are ignored. */
static void test_no_packet(void **state)
{
	const char *out = tmp_path("nopkt.pcapng");
	struct pt_run r;

	(void)state;
	pt_run(&r, "pcap", "-o", out, fixture("sort-text.json"));
	assert_int_equal(r.status, 0);
	assert_contains(pt_log(&r), "6 event(s) were processed");
	assert_contains(pt_log(&r), "6 event(s) were skipped because of missing raw packet");
	assert_int_equal(access(out, F_OK), -1);
	pt_free(&r);

	pt_expect_log(1, "Probe not found in the events", "pcap", "-o", out,
		      tmp_file("usdt.json", "{\"common\":{\"timestamp\":1},\"startup\":{"
					    "\"retis_version\":\"v1.7.0\",\"cmdline\":\"x\","
					    "\"clock_monotonic_offset\":{\"sec\":0,\"nsec\":0},"
					    "\"machine\":{\"kernel_release\":\"a\","
					    "\"kernel_version\":\"b\",\"hardware_name\":\"c\"}}}\n"
					    "{\"common\":{\"timestamp\":5},\"userspace\":{"
					    "\"probe_type\":\"usdt\",\"symbol\":\"a:b\",\"ip\":1,"
					    "\"path\":\"/x\",\"pid\":1,\"tid\":1}}\n"));
}

/* Default output: stdout. Series files are refused. */
static void test_stdout_and_refusals(void **state)
{
	struct pt_run r;
	char want[PATH_MAX + 64];

	(void)state;
	pt_run(&r, "pcap", fixture("retisc-1.7.json"));
	assert_int_equal(r.status, 0);
	assert_true(r.out_len > 28);
	assert_int_equal(rd32((const uint8_t *)r.out), 0x0A0D0D0A);
	pt_free(&r);

	pt_run(&r, "pcap", fixture("retisc-sorted.json"));
	assert_int_equal(r.status, 1);
	snprintf(want, sizeof(want), "%s:1: Cannot read event from sorted file",
		 fixture("retisc-sorted.json"));
	assert_contains(pt_log(&r), want);
	assert_int_equal(r.out_len, 0);
	pt_free(&r);

	pt_expect_log(1, "Could not create or open '/nonexistent-dir/x.pcapng'", "pcap", "-o",
		      "/nonexistent-dir/x.pcapng", fixture("retisc-1.7.json"));
}

/* Rotated set: packets of every file; the last startup's offset is used. */
static void test_rotated_set(void **state)
{
	const char *out = tmp_path("split.pcapng");
	char in[PATH_MAX];
	struct blk b[16];
	uint8_t *data;
	size_t len, n;

	(void)state;
	snprintf(in, sizeof(in), "%s..", fixture("split.data.0"));
	pt_expect_log(0, "5 event(s) were processed", "pcap", "-o", out, in);
	data = (uint8_t *)slurp(out, &len);
	n = blocks(data, len, b, 16);
	/* SHB, custom, one IDB (a single probe), five EPBs. */
	assert_int_equal(n, 8);
	assert_int_equal(b[2].type, 1);
	for (size_t i = 3; i < n; i++) {
		assert_int_equal(b[i].type, 6);
		assert_int_equal(rd32(b[i].body + 12), 14);
		assert_int_equal(rd32(b[i].body + 16), 60);
	}
	free(data);
}

/* Retis 1.5 files: the reader's fix-ups move skb/packet to packet. */
static void test_old_format(void **state)
{
	const char *out = tmp_path("old.pcapng");
	struct blk b[16];
	struct opt o[8];
	struct pt_run r;
	uint8_t *data;
	size_t len;

	(void)state;
	pt_run(&r, "pcap", "-o", out, fixture("retis-1.5.json"));
	assert_int_equal(r.status, 0);
	assert_contains(pt_log(&r), "3 event(s) were processed");
	assert_contains(pt_log(&r), "1 event(s) were skipped because of missing raw packet");
	pt_free(&r);
	data = (uint8_t *)slurp(out, &len);
	assert_int_equal(blocks(data, len, b, 16), 6);
	options(&b[4], 8, o, 8);
	assert_true(opt_is(&o[0], 2, "raw_tracepoint/net:netif_receive_skb"));
	free(data);
}

/* A malformed line: reported with file and line, the blocks of the events
 * before it are in the file; --keep-going exports the events after it. */
static void test_malformed(void **state)
{
	const char *out = tmp_path("bad.pcapng"), *in = tmp_path("bad.json");
	char *text, *second, want[PATH_MAX + 16];
	struct blk b[16];
	uint8_t *data;
	size_t len;
	FILE *f;

	(void)state;
	/* startup, event 1, a broken line 3, events 2-4. */
	text = slurp(fixture("retisc-1.7.json"), NULL);
	second = strchr(strchr(text, '\n') + 1, '\n') + 1;
	f = fopen(in, "w");
	assert_non_null(f);
	fprintf(f, "%.*s{\"common\":{\"timestamp\":1,\n%s", (int)(second - text), text, second);
	assert_int_equal(fclose(f), 0);
	free(text);
	snprintf(want, sizeof(want), "%s:3: ", in);

	pt_expect_log(1, want, "pcap", "-o", out, in);
	data = (uint8_t *)slurp(out, &len);
	assert_int_equal(blocks(data, len, b, 16), 4); /* SHB, custom, IDB, EPB */
	free(data);

	pt_expect_log(1, want, "pcap", "--keep-going", "-o", out, in);
	data = (uint8_t *)slurp(out, &len);
	assert_int_equal(blocks(data, len, b, 16), 10);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_tshark),
		cmocka_unit_test(test_probe_selection),
		cmocka_unit_test(test_no_packet),
		cmocka_unit_test(test_stdout_and_refusals),
		cmocka_unit_test(test_rotated_set),
		cmocka_unit_test(test_old_format),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, pt_group_setup, pt_group_teardown);
}
