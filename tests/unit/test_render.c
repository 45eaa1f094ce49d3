// SPDX-License-Identifier: GPL-2.0-only
/*
 * Event text rendering: doc/events.md §4.1-§4.5, §4.15, §5, §7 and the series
 * text of doc/processing.md §2.6.
 *
 * The renderer only asks the registry for sections by key, and the real
 * registry accepts new sections only from a plugin's init(). To render
 * events with packet, netns, dev... sections (and with fake sections that
 * check indentation and error propagation) this file provides its own
 * table-driven registry: retisc_registry__section_by_key() below, which the
 * link then takes instead of core/registry.o. The core entries mirror what
 * retisc_registry__new() registers (keys, ranks, places, formatters); the
 * plugin sections are stand-ins that print the "text" key of their section,
 * so the expected outputs can be copied from the spec.
 *
 * JSON in this file is written with ' for " to stay readable.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include <retisc/json.h>
#include <retisc/plugin.h>
#include <retisc/strbuf.h>

#include "registry.h"
#include "render.h"

/* -------------------------------------------------------------------------
 * Test registry and stand-in formatters.
 */

struct retisc_registry {
	const struct retisc_section *sections;
	size_t n;
};

const struct retisc_section *retisc_registry__section_by_key(const struct retisc_registry *reg,
							     const char *key)
{
	for (size_t i = 0; i < reg->n; i++)
		if (!strcmp(reg->sections[i].key, key))
			return &reg->sections[i];
	return NULL;
}

/*
 * Print the section's "ll" text with -e, its "single" text in single-line
 * mode, else its "text"; nothing when it has none (like "skb":{}).
 */
static int fake_text(void *priv, const struct retisc_json *s, const struct retisc_fmt *f)
{
	const char *t = NULL;

	(void)priv;
	if (f->link_layer)
		t = retisc_json__obj_get_str(s, "ll");
	if (!t && !f->multiline)
		t = retisc_json__obj_get_str(s, "single");
	if (!t)
		t = retisc_json__obj_get_str(s, "text");
	return t ? retisc_strbuf__puts(f->out, t) : 0;
}

/* What the skb-tracking plugin prints, through the core helper. */
static int fake_skb_tracking(void *priv, const struct retisc_json *s, const struct retisc_fmt *f)
{
	(void)priv;
	return retisc_render__tracking_id(f->out, s);
}

/* A multi-line section: "a", SEP, "b". */
static int fake_ab(void *priv, const struct retisc_json *s, const struct retisc_fmt *f)
{
	(void)priv;
	(void)s;
	return retisc_strbuf__printf(f->out, "a%sb", RETISC_FMT_SEP(f));
}

/* A section with an empty line and a nested list, as ovs flow_lookup. */
static int fake_nested(void *priv, const struct retisc_json *s, const struct retisc_fmt *f)
{
	(void)priv;
	(void)s;
	return retisc_strbuf__puts(f->out, "flow\n\n    of1\n    of2");
}

/* A section missing a mandatory key; writes before failing on purpose. */
static int fake_fail(void *priv, const struct retisc_json *s, const struct retisc_fmt *f)
{
	(void)priv;
	(void)s;
	retisc_strbuf__puts(f->out, "partial");
	return -EINVAL;
}

#define SEC(k, r, p, fn)                                                                           \
	{                                                                                          \
		.key = (char *)(k), .rank = (r), .owner = -1, .place = (p), .format = (fn)         \
	}
#define FL RETISC_PLACE_FIRST_LINE
#define BODY RETISC_PLACE_BODY

static const struct retisc_section test_sections[] = {
	/* As retisc_registry__new() registers them. */
	SEC("common", 10, FL, retisc_render__common),
	SEC("kernel", 20, FL, retisc_render__kernel),
	SEC("userspace", 30, FL, retisc_render__userspace),
	SEC("tracking", 40, FL, retisc_render__tracking),
	SEC("startup", 150, BODY, retisc_render__startup),
	/* Plugin sections, at their documented ranks. */
	SEC("skb-tracking", 50, FL, fake_skb_tracking),
	SEC("skb-drop", 60, FL, fake_text),
	SEC("packet", 70, BODY, fake_text),
	SEC("skb", 80, BODY, fake_text),
	SEC("netns", 90, BODY, fake_text),
	SEC("dev", 100, BODY, fake_text),
	SEC("ovs", 110, BODY, fake_text),
	SEC("ovs-detrace", 120, BODY, fake_text),
	SEC("nft", 130, BODY, fake_text),
	SEC("ct", 140, BODY, fake_text),
	/* Test-only sections. */
	SEC("ab", 1000, BODY, fake_ab),
	SEC("nested", 1010, BODY, fake_nested),
	SEC("noformat", 1020, BODY, NULL),
	SEC("fail", 1030, BODY, fake_fail),
	SEC("third", 75, BODY, fake_text),
};

static const struct retisc_registry test_reg = {
	.sections = test_sections,
	.n = sizeof(test_sections) / sizeof(test_sections[0]),
};

/* -------------------------------------------------------------------------
 * Helpers.
 */

#define MULTI 1
#define SINGLE 0

/* Parse JSON written with ' for ". */
static struct retisc_json *parse(const char *sq)
{
	char *s = strdup(sq), err[128] = "";
	struct retisc_json *v;

	assert_non_null(s);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	v = retisc_json__parse(s, strlen(s), err, sizeof(err));
	if (!v)
		fail_msg("bad test JSON (%s): %s", err, s);
	free(s);
	return v;
}

static void renderer(struct retisc_renderer *r, bool multi, bool ll, bool utc)
{
	struct retisc_render_opts o = {.multiline = multi, .link_layer = ll, .utc = utc};

	retisc_renderer__init(r, &test_reg, &o);
}

/* Render one event (unframed) with r and compare. */
static void check_r(struct retisc_renderer *r, const char *json, const char *want)
{
	struct retisc_json *ev = parse(json);
	struct retisc_strbuf out = RETISC_STRBUF_INIT;

	assert_int_equal(retisc_renderer__event(r, ev, 0, NULL, &out), 0);
	assert_str_eq(retisc_strbuf__str(&out), want);
	retisc_strbuf__release(&out);
	retisc_json__free(ev);
}

static void check(const char *json, bool multi, const char *want)
{
	struct retisc_renderer r;

	renderer(&r, multi, false, false);
	check_r(&r, json, want);
}

/* The event must fail with err and leave what out held untouched. */
static void check_err(const char *json, bool multi, int err)
{
	struct retisc_json *ev = parse(json);
	struct retisc_strbuf out = RETISC_STRBUF_INIT;
	struct retisc_renderer r;

	renderer(&r, multi, false, false);
	assert_int_equal(retisc_strbuf__puts(&out, "keep"), 0);
	assert_int_equal(retisc_renderer__event(&r, ev, 0, NULL, &out), err);
	assert_str_eq(retisc_strbuf__str(&out), "keep");
	assert_int_equal(retisc_renderer__event_framed(&r, ev, &out), err);
	assert_str_eq(retisc_strbuf__str(&out), "keep");
	retisc_strbuf__release(&out);
	retisc_json__free(ev);
}

/* Call a section formatter directly. */
static int fmt_section(int (*fn)(void *, const struct retisc_json *, const struct retisc_fmt *),
		       void *priv, const char *json, bool multi, bool utc, char **text)
{
	struct retisc_json *s = parse(json);
	struct retisc_strbuf out = RETISC_STRBUF_INIT;
	struct retisc_fmt f = {
		.sz = sizeof(f), .out = &out, .multiline = multi, .utc = utc, .event = NULL};
	int err;

	err = fn(priv, s, &f);
	*text = strdup(retisc_strbuf__str(&out));
	assert_non_null(*text);
	retisc_strbuf__release(&out);
	retisc_json__free(s);
	return err;
}

static void check_fmt(int (*fn)(void *, const struct retisc_json *, const struct retisc_fmt *),
		      const char *json, bool multi, const char *want)
{
	char *text;

	assert_int_equal(fmt_section(fn, NULL, json, multi, false, &text), 0);
	assert_str_eq(text, want);
	free(text);
}

/* A formatter failing on a bad section must write nothing. */
static void check_fmt_err(int (*fn)(void *, const struct retisc_json *, const struct retisc_fmt *),
			  const char *json)
{
	char *text;

	assert_int_equal(fmt_section(fn, NULL, json, true, false, &text), -EINVAL);
	assert_str_eq(text, "");
	free(text);
}

/* Common JSON pieces. */
#define COMMON_PING                                                                                \
	"'common':{'timestamp':30419169061793,'smp_id':6,'task':{'pid':11330,'tgid':11330,"        \
	"'comm':'ping'}}"
#define SKB_TRACKING_1                                                                             \
	"'skb-tracking':{'orig_head':18446619372617628672,'timestamp':30419169061793,"             \
	"'skb':18446619372874141952}"
#define STARTUP_OFFSET "'clock_monotonic_offset':{'sec':1742309146,'nsec':691042000}"
#define MACHINE                                                                                    \
	"'machine':{'kernel_release':'6.13.7-200.fc41.x86_64','kernel_version':'#1 SMP "           \
	"PREEMPT_DYNAMIC Thu Mar 13 17:46:13 UTC 2025','hardware_name':'x86_64'}"
#define STARTUP_EVENT                                                                              \
	"{'common':{'timestamp':30415793489711},'startup':{'retis_version':'v1.7.0',"              \
	"'cmdline':'retisc collect -o'," STARTUP_OFFSET "," MACHINE "}}"
#define STARTUP_TEXT                                                                               \
	"30415793489711\n"                                                                         \
	"  collected with Retis v1.7.0\n"                                                          \
	"  on machine 6.13.7-200.fc41.x86_64 #1 SMP PREEMPT_DYNAMIC Thu Mar 13 17:46:13 UTC 2025 " \
	"x86_64\n"                                                                                 \
	"  cmdline retisc collect -o"

/* -------------------------------------------------------------------------
 * §4.1 common.
 */

static void test_common_text(void **state)
{
	(void)state;
	check_fmt(retisc_render__common,
		  "{'timestamp':30419169061793,'smp_id':6,'task':{'pid':11330,'tgid':11330,"
		  "'comm':'ping'}}",
		  true, "30419169061793 (6) [ping] 11330");
	/* pid != tgid: "pid/tgid" (pid is the process, tgid the thread). */
	check_fmt(retisc_render__common,
		  "{'timestamp':30419169314440,'smp_id':6,'task':{'pid':985,'tgid':995,"
		  "'comm':'handler8'}}",
		  true, "30419169314440 (6) [handler8] 985/995");
	/* No task (startup and internal events). */
	check_fmt(retisc_render__common, "{'timestamp':30415793489711}", true, "30415793489711");
	check_fmt(retisc_render__common, "{'timestamp':0,'smp_id':0}", false, "0 (0)");
	/* No smp_id but a task. */
	check_fmt(retisc_render__common,
		  "{'timestamp':12,'task':{'pid':1,'tgid':1,'comm':'systemd'}}", true,
		  "12 [systemd] 1");
	/* Unknown keys are ignored, a null optional key is absent. */
	check_fmt(retisc_render__common,
		  "{'timestamp':12,'smp_id':null,'future':[1],'task':{'pid':-1,'tgid':2,"
		  "'comm':'x y','extra':1}}",
		  true, "12 [x y] -1/2");
	/* Same through the renderer, single-line. */
	check("{" COMMON_PING "}", SINGLE, "30419169061793 (6) [ping] 11330");
}

static void test_common_errors(void **state)
{
	(void)state;
	check_fmt_err(retisc_render__common, "{'smp_id':1}");
	check_fmt_err(retisc_render__common, "{'timestamp':-1}");
	check_fmt_err(retisc_render__common, "{'timestamp':'1'}");
	check_fmt_err(retisc_render__common, "{'timestamp':1,'smp_id':'6'}");
	check_fmt_err(retisc_render__common, "{'timestamp':1,'task':{'pid':1,'tgid':1}}");
	check_fmt_err(retisc_render__common, "{'timestamp':1,'task':{'pid':1,'comm':'a'}}");
	/* An event without common cannot be rendered. */
	check_err("{'kernel':{'symbol':'a','probe_type':'kprobe'}}", MULTI, -EINVAL);
	check_err("{'common':[]}", MULTI, -EINVAL);
	check_err("[]", MULTI, -EINVAL);
	check_err("{'common':{'smp_id':1}}", SINGLE, -EINVAL);
}

static void test_utc(void **state)
{
	struct retisc_renderer r;
	char *text;

	(void)state;
	/* 30419 s + 169061793 ns + 1742309146 s + 691042000 ns. */
	renderer(&r, true, false, true);
	retisc_renderer__set_offset(&r, 1742309146, 691042000);
	assert_int_equal(fmt_section(retisc_render__common, &r, "{'timestamp':30419169061793}",
				     true, true, &text),
			 0);
	assert_str_eq(text, "2025-03-18 23:12:45.860103");
	free(text);
	check_r(&r, "{" COMMON_PING "}", "2025-03-18 23:12:45.860103 (6) [ping] 11330");

	/* Carry: 500000000 + 691042000 ns is one second and 191042000 ns. */
	check_r(&r, "{'common':{'timestamp':30419500000000}}", "2025-03-18 23:12:46.191042");
	/* Microseconds are truncated, not rounded. */
	check_r(&r, "{'common':{'timestamp':30419308957999}}", "2025-03-18 23:12:45.999999");
	check_r(&r, "{'common':{'timestamp':30419308958000}}", "2025-03-18 23:12:46.000000");

	/* An offset given with nsec out of range is normalised first. */
	retisc_renderer__set_offset(&r, 1742309145, 1691042000);
	check_r(&r, "{'common':{'timestamp':30419169061793}}", "2025-03-18 23:12:45.860103");
	retisc_renderer__set_offset(&r, 1742309147, -308958000);
	check_r(&r, "{'common':{'timestamp':30419169061793}}", "2025-03-18 23:12:45.860103");

	/* No offset known: decimal, even with --utc; also without priv. */
	renderer(&r, true, false, true);
	check_r(&r, "{'common':{'timestamp':30419169061793}}", "30419169061793");
	assert_int_equal(fmt_section(retisc_render__common, NULL, "{'timestamp':30419169061793}",
				     true, true, &text),
			 0);
	assert_str_eq(text, "30419169061793");
	free(text);

	/* An offset without --utc changes nothing. */
	renderer(&r, true, false, false);
	retisc_renderer__set_offset(&r, 1742309146, 691042000);
	check_r(&r, "{'common':{'timestamp':30419169061793}}", "30419169061793");
}

static void test_utc_startup_offset(void **state)
{
	struct retisc_renderer r;

	(void)state;
	/* The startup event sets the offset before its own time is shown. */
	renderer(&r, true, false, true);
	check_r(&r, STARTUP_EVENT,
		"2025-03-18 23:12:42.484531\n"
		"  collected with Retis v1.7.0\n"
		"  on machine 6.13.7-200.fc41.x86_64 #1 SMP PREEMPT_DYNAMIC Thu Mar 13 17:46:13 "
		"UTC "
		"2025 x86_64\n"
		"  cmdline retisc collect -o");
	assert_true(r.has_offset);
	assert_int_equal(r.offset_sec, 1742309146);
	assert_int_equal(r.offset_nsec, 691042000);
	/* ... and keeps it for the events that follow. */
	check_r(&r, "{" COMMON_PING "}", "2025-03-18 23:12:45.860103 (6) [ping] 11330");

	/* A later startup event replaces it. */
	check_r(&r,
		"{'common':{'timestamp':0},'startup':{'retis_version':'v1.7.0','cmdline':'c',"
		"'clock_monotonic_offset':{'sec':0,'nsec':5000}," MACHINE "}}",
		"1970-01-01 00:00:00.000005\n"
		"  collected with Retis v1.7.0\n"
		"  on machine 6.13.7-200.fc41.x86_64 #1 SMP PREEMPT_DYNAMIC Thu Mar 13 17:46:13 "
		"UTC "
		"2025 x86_64\n"
		"  cmdline c");
	check_r(&r, "{'common':{'timestamp':1000000000}}", "1970-01-01 00:00:01.000005");
}

/* -------------------------------------------------------------------------
 * §4.2 kernel, §4.3 userspace.
 */

static void test_kernel_tags(void **state)
{
	(void)state;
	check_fmt(retisc_render__kernel,
		  "{'symbol':'net:net_dev_start_xmit','probe_type':'raw_tracepoint'}", true,
		  "[tp] net:net_dev_start_xmit");
	check_fmt(retisc_render__kernel, "{'symbol':'ip_local_deliver','probe_type':'kprobe'}",
		  true, "[k] ip_local_deliver");
	check_fmt(retisc_render__kernel, "{'probe_type':'kretprobe','symbol':'ovs_dp_upcall'}",
		  false, "[kr] ovs_dp_upcall");
	check_fmt(retisc_render__kernel, "{'symbol':'x','probe_type':'usdt'}", true, "[invalid] x");
	check_fmt(retisc_render__kernel, "{'symbol':'x','probe_type':''}", true, "[invalid] x");
	/* The stack trace is the renderer's business, not the section's. */
	check_fmt(
		retisc_render__kernel,
		"{'symbol':'skb:kfree_skb','probe_type':'raw_tracepoint','stack_trace':['a+0x1']}",
		true, "[tp] skb:kfree_skb");
	check_fmt_err(retisc_render__kernel, "{'probe_type':'kprobe'}");
	check_fmt_err(retisc_render__kernel, "{'symbol':'x'}");
	check_fmt_err(retisc_render__kernel, "{'symbol':1,'probe_type':'kprobe'}");
}

static void test_userspace(void **state)
{
	(void)state;
	check_fmt(retisc_render__userspace,
		  "{'probe_type':'usdt','symbol':'dpif_netlink_operate__:op_flow_put','ip':94358,"
		  "'path':'/usr/sbin/ovs-vswitchd','pid':985,'tid':995}",
		  true, "[u] dpif_netlink_operate__:op_flow_put (ovs-vswitchd)");
	/* No '/' in path: nothing appended. */
	check_fmt(retisc_render__userspace,
		  "{'probe_type':'usdt','symbol':'dpif_recv:recv_upcall','path':'ovs-vswitchd'}",
		  false, "[u] dpif_recv:recv_upcall");
	/* The part after the last '/', even when empty. */
	check_fmt(retisc_render__userspace, "{'symbol':'a:b','path':'/a/b/'}", true, "[u] a:b ()");
	check_fmt(retisc_render__userspace, "{'symbol':'a:b','path':'/x'}", true, "[u] a:b (x)");
	check_fmt_err(retisc_render__userspace, "{'symbol':'a:b'}");
	check_fmt_err(retisc_render__userspace, "{'path':'/x'}");

	/* On the first line in place of kernel. */
	check("{'common':{'timestamp':5,'smp_id':1,'task':{'pid':985,'tgid':995,"
	      "'comm':'handler1'}},'userspace':{'probe_type':'usdt','symbol':'dpif_recv:recv_"
	      "upcall',"
	      "'ip':1,'path':'/usr/sbin/ovs-vswitchd','pid':985,'tid':995},"
	      "'ovs':{'text':'upcall_recv q 1 pkt_size 98'}}",
	      MULTI,
	      "5 (1) [handler1] 985/995 [u] dpif_recv:recv_upcall (ovs-vswitchd)\n"
	      "  upcall_recv q 1 pkt_size 98");
	/* kernel wins over userspace. */
	check("{'common':{'timestamp':5},'userspace':{'symbol':'a:b','path':'/x'},"
	      "'kernel':{'symbol':'k','probe_type':'kprobe'}}",
	      MULTI, "5 [k] k");
}

/* -------------------------------------------------------------------------
 * §4.4 skb-tracking ids, §4.5 tracking.
 */

static void check_id(const char *json, const char *want)
{
	struct retisc_json *v = parse(json);
	struct retisc_strbuf out = RETISC_STRBUF_INIT;

	assert_int_equal(retisc_render__tracking_id(&out, v), 0);
	assert_str_eq(retisc_strbuf__str(&out), want);
	retisc_strbuf__release(&out);
	retisc_json__free(v);
}

static void test_tracking_id(void **state)
{
	struct retisc_strbuf out = RETISC_STRBUF_INIT;
	struct retisc_json *v;

	(void)state;
	check_id("{'orig_head':18446619372617628672,'timestamp':30419169061793,"
		 "'skb':18446619372874141952}",
		 "#1baa83c42ba1ffff8e95c3b67c00 (skb ffff8e95d3009100)");
	/* The low 64 bits keep their leading zeros after a timestamp. */
	check_id("{'orig_head':4096,'timestamp':1,'skb':255}", "#10000000000001000 (skb ff)");
	/* timestamp 0: the id is orig_head alone. */
	check_id("{'orig_head':18446619372617628672,'timestamp':0,'skb':18446619372874141952}",
		 "#ffff8e95c3b67c00 (skb ffff8e95d3009100)");
	check_id("{'timestamp':0,'orig_head':0,'skb':0}", "#0 (skb 0)");
	check_id("{'orig_head':18446744073709551615,'timestamp':18446744073709551615,"
		 "'skb':18446744073709551615}",
		 "#ffffffffffffffffffffffffffffffff (skb ffffffffffffffff)");

	v = parse("{'orig_head':1,'timestamp':1}");
	assert_int_equal(retisc_render__tracking_id(&out, v), -EINVAL);
	retisc_json__free(v);
	v = parse("{'orig_head':1,'timestamp':-1,'skb':1}");
	assert_int_equal(retisc_render__tracking_id(&out, v), -EINVAL);
	retisc_json__free(v);
	assert_int_equal(retisc_render__tracking_id(&out, NULL), -EINVAL);
	assert_str_eq(retisc_strbuf__str(&out), "");
	retisc_strbuf__release(&out);

	/* Through the skb-tracking section on the first line. */
	check("{" COMMON_PING ",'kernel':{'symbol':'net:net_dev_start_xmit',"
	      "'probe_type':'raw_tracepoint'}," SKB_TRACKING_1 "}",
	      MULTI,
	      "30419169061793 (6) [ping] 11330 [tp] net:net_dev_start_xmit "
	      "#1baa83c42ba1ffff8e95c3b67c00 (skb ffff8e95d3009100)");
}

static void test_tracking(void **state)
{
	(void)state;
	check_fmt(retisc_render__tracking,
		  "{'skb':{'orig_head':18446616576100907520,'timestamp':23868955262984,"
		  "'skb':18446616546107689472},'idx':0}",
		  true, "#15b56c998008ffff8c0aa653ba00 (skb ffff8c03aa978a00) n 0");
	check_fmt(retisc_render__tracking,
		  "{'skb':{'orig_head':18446616576100907520,'timestamp':0,"
		  "'skb':18446616546107689472},'idx':4294967295}",
		  false, "#ffff8c0aa653ba00 (skb ffff8c03aa978a00) n 4294967295");
	check_fmt_err(retisc_render__tracking, "{'skb':{'orig_head':1,'timestamp':1,'skb':1}}");
	check_fmt_err(retisc_render__tracking, "{'idx':1}");
	check_fmt_err(retisc_render__tracking, "{'skb':{'orig_head':1,'timestamp':1},'idx':1}");

	/* tracking replaces skb-tracking (whose skb differs) on the first line,
	 * skb-drop follows it. */
	check("{'common':{'timestamp':136852333279,'smp_id':3,'task':{'pid':0,'tgid':0,"
	      "'comm':'swapper/3'}},'kernel':{'symbol':'skb:kfree_skb','probe_type':"
	      "'raw_tracepoint'},'tracking':{'skb':{'orig_head':18446612777657264448,"
	      "'timestamp':136851972973,'skb':18446612777671877376},'idx':2},"
	      "'skb-tracking':{'orig_head':18446612777657264448,'timestamp':136851972973,"
	      "'skb':1},'skb-drop':{'text':'drop (reason NETFILTER_DROP)'}}",
	      SINGLE,
	      "136852333279 (3) [swapper/3] 0 [tp] skb:kfree_skb #1fdd03636dffff889641716940 "
	      "(skb ffff889642506300) n 2 drop (reason NETFILTER_DROP)");
	/* A broken tracking section fails the event. */
	check_err("{'common':{'timestamp':1},'tracking':{'idx':2}}", MULTI, -EINVAL);
}

/* -------------------------------------------------------------------------
 * §4.15 startup.
 */

static void test_startup(void **state)
{
	struct retisc_renderer r;

	(void)state;
	/* §7, exactly, and framed. */
	check(STARTUP_EVENT, MULTI, STARTUP_TEXT);
	renderer(&r, true, false, false);
	{
		struct retisc_json *ev = parse(STARTUP_EVENT);
		struct retisc_strbuf out = RETISC_STRBUF_INIT;

		assert_int_equal(retisc_renderer__event_framed(&r, ev, &out), 0);
		assert_str_eq(retisc_strbuf__str(&out), STARTUP_TEXT "\n\n");
		retisc_strbuf__release(&out);
		retisc_json__free(ev);
	}
	check(STARTUP_EVENT, SINGLE,
	      "30415793489711 collected with Retis v1.7.0 on machine 6.13.7-200.fc41.x86_64 #1 "
	      "SMP PREEMPT_DYNAMIC Thu Mar 13 17:46:13 UTC 2025 x86_64 cmdline retisc collect -o");

	/* split_file: "file id N" before the cmdline. */
	check("{'common':{'timestamp':7},'startup':{'retis_version':'v1.7.0','cmdline':"
	      "'retisc collect -o --out-rotate 1MB'," STARTUP_OFFSET "," MACHINE
	      ",'split_file':{'id':3,'policy':{'kind':'size','limit':1000000}}}}",
	      MULTI,
	      "7\n"
	      "  collected with Retis v1.7.0\n"
	      "  on machine 6.13.7-200.fc41.x86_64 #1 SMP PREEMPT_DYNAMIC Thu Mar 13 17:46:13 UTC "
	      "2025 x86_64\n"
	      "  file id 3\n"
	      "  cmdline retisc collect -o --out-rotate 1MB");
	check("{'common':{'timestamp':7},'startup':{'retis_version':'v1.6.0','cmdline':'c',"
	      "'split_file':{'id':0,'policy':{'kind':'size','limit':1}}," MACHINE "}}",
	      SINGLE,
	      "7 collected with Retis v1.6.0 on machine 6.13.7-200.fc41.x86_64 #1 SMP "
	      "PREEMPT_DYNAMIC Thu Mar 13 17:46:13 UTC 2025 x86_64 file id 0 cmdline c");

	/* A file retisc collected says so, with the Retis format it follows. */
	check("{'common':{'timestamp':7},'startup':{'retis_version':'v1.7.0','retisc_version':"
	      "'0.1.0','cmdline':'c'," MACHINE "}}",
	      SINGLE,
	      "7 collected with retisc 0.1.0 (Retis v1.7.0 event format) on machine "
	      "6.13.7-200.fc41.x86_64 #1 SMP PREEMPT_DYNAMIC Thu Mar 13 17:46:13 UTC 2025 x86_64 "
	      "cmdline c");

	check_fmt_err(retisc_render__startup, "{'retis_version':'v1.7.0'," MACHINE "}");
	check_fmt_err(retisc_render__startup, "{'retis_version':'v1.7.0','cmdline':'c'}");
	check_fmt_err(retisc_render__startup,
		      "{'retis_version':'v1.7.0','cmdline':'c','machine':{'kernel_release':'r',"
		      "'kernel_version':'v'}}");
	check_fmt_err(retisc_render__startup,
		      "{'retis_version':'v1.7.0','cmdline':'c'," MACHINE ",'split_file':{}}");
	check_err("{'common':{'timestamp':7},'startup':{'cmdline':'c'}}", MULTI, -EINVAL);
}

/* -------------------------------------------------------------------------
 * §5 layout: stack traces, indentation, netns/dev, order, errors.
 */

#define KFREE_EVENT                                                                                \
	"{'common':{'timestamp':4152973315243,'smp_id':2,'task':{'pid':14839,'tgid':14839,"        \
	"'comm':'nc'}},'kernel':{'symbol':'skb:kfree_skb','probe_type':'raw_tracepoint',"          \
	"'stack_trace':['kfree_skb_reason+0x8f','tcp_v6_rcv+0x77','ip6_protocol_deliver_rcu+"      \
	"0x6b']},'skb-tracking':{'orig_head':18446620263873328896,'timestamp':4152973315001,"      \
	"'skb':18446620276943748352},'skb-drop':{'text':'drop (reason NO_SOCKET)'},"               \
	"'packet':{'text':'1111::1.56164 > 1111::2.80 ttl 64 label 0x6f48a len 40 proto TCP (6) "  \
	"flags [S] seq 2987508160 win 64800 [mss 1440,sackOK,TS val 1409097346 ecr 0,nop,wscale "  \
	"7]','ll':'9e:1d:3d:31:9e:3b > ae:b0:4a:6a:bf:af ethertype IPv6 (0x86dd) 1111::1.56164 > " \
	"1111::2.80 ttl 64 label 0x6f48a len 40 proto TCP (6) flags [S] seq 2987508160 win 64800 " \
	"[mss 1440,sackOK,TS val 1409097346 ecr 0,nop,wscale 7]'},'netns':{'text':'ns "            \
	"4026532761'},'dev':{'text':'if 3 (veth10) rxif 3'}}"

static void test_stack_trace(void **state)
{
	struct retisc_renderer r;

	(void)state;
	/* §7 Example 3: frames at B+4, before the packet. */
	check(KFREE_EVENT, MULTI,
	      "4152973315243 (2) [nc] 14839 [tp] skb:kfree_skb #3c6f07fcbb9ffff8f6546b13700 (skb "
	      "ffff8f6851bffd00) drop (reason NO_SOCKET)\n"
	      "    kfree_skb_reason+0x8f\n"
	      "    tcp_v6_rcv+0x77\n"
	      "    ip6_protocol_deliver_rcu+0x6b\n"
	      "  1111::1.56164 > 1111::2.80 ttl 64 label 0x6f48a len 40 proto TCP (6) flags [S] "
	      "seq "
	      "2987508160 win 64800 [mss 1440,sackOK,TS val 1409097346 ecr 0,nop,wscale 7]\n"
	      "  ns 4026532761 if 3 (veth10) rxif 3");
	check(KFREE_EVENT, SINGLE,
	      "4152973315243 (2) [nc] 14839 [tp] skb:kfree_skb #3c6f07fcbb9ffff8f6546b13700 (skb "
	      "ffff8f6851bffd00) drop (reason NO_SOCKET) [kfree_skb_reason+0x8f, tcp_v6_rcv+0x77, "
	      "ip6_protocol_deliver_rcu+0x6b] 1111::1.56164 > 1111::2.80 ttl 64 label 0x6f48a len "
	      "40 "
	      "proto TCP (6) flags [S] seq 2987508160 win 64800 [mss 1440,sackOK,TS val 1409097346 "
	      "ecr 0,nop,wscale 7] ns 4026532761 if 3 (veth10) rxif 3");
	/* With -e the packet line gets the Ethernet header (the section's
	 * business, the renderer passes the option). */
	renderer(&r, true, true, false);
	check_r(&r, KFREE_EVENT,
		"4152973315243 (2) [nc] 14839 [tp] skb:kfree_skb #3c6f07fcbb9ffff8f6546b13700 (skb "
		"ffff8f6851bffd00) drop (reason NO_SOCKET)\n"
		"    kfree_skb_reason+0x8f\n"
		"    tcp_v6_rcv+0x77\n"
		"    ip6_protocol_deliver_rcu+0x6b\n"
		"  9e:1d:3d:31:9e:3b > ae:b0:4a:6a:bf:af ethertype IPv6 (0x86dd) 1111::1.56164 > "
		"1111::2.80 ttl 64 label 0x6f48a len 40 proto TCP (6) flags [S] seq 2987508160 win "
		"64800 [mss 1440,sackOK,TS val 1409097346 ecr 0,nop,wscale 7]\n"
		"  ns 4026532761 if 3 (veth10) rxif 3");

	/* One frame, unsymbolised address; no other body item. */
	check("{'common':{'timestamp':1},'kernel':{'symbol':'f','probe_type':'kprobe',"
	      "'stack_trace':['0xffffffffc0a1b2c3']}}",
	      MULTI, "1 [k] f\n    0xffffffffc0a1b2c3");
	check("{'common':{'timestamp':1},'kernel':{'symbol':'f','probe_type':'kprobe',"
	      "'stack_trace':['0xffffffffc0a1b2c3']}}",
	      SINGLE, "1 [k] f [0xffffffffc0a1b2c3]");
	/* An empty stack (unreadable) keeps its separator, as Retis prints it. */
	check("{'common':{'timestamp':1},'kernel':{'symbol':'f','probe_type':'kprobe',"
	      "'stack_trace':[]},'packet':{'text':'p'}}",
	      MULTI, "1 [k] f\n\n  p");
	check("{'common':{'timestamp':1},'kernel':{'symbol':'f','probe_type':'kprobe',"
	      "'stack_trace':[]},'packet':{'text':'p'}}",
	      SINGLE, "1 [k] f [] p");
	/* Stack without kernel formatter output still belongs to kernel only. */
	check("{'common':{'timestamp':1},'userspace':{'symbol':'a:b','path':'/x',"
	      "'stack_trace':['x']}}",
	      MULTI, "1 [u] a:b (x)");
	/* Malformed stacks. */
	check_err("{'common':{'timestamp':1},'kernel':{'symbol':'f','probe_type':'kprobe',"
		  "'stack_trace':[1]}}",
		  MULTI, -EINVAL);
	check_err("{'common':{'timestamp':1},'kernel':{'symbol':'f','probe_type':'kprobe',"
		  "'stack_trace':'a'}}",
		  SINGLE, -EINVAL);
}

static void test_indent_body(void **state)
{
	(void)state;
	/* Formatters write bare "\n"; the renderer indents by B+2. */
	check("{'common':{'timestamp':1},'ab':{}}", MULTI, "1\n  a\n  b");
	check("{'common':{'timestamp':1},'ab':{}}", SINGLE, "1 a b");
	/* Empty lines are not indented; nested lists keep their own 4. */
	check("{'common':{'timestamp':1},'nested':{}}", MULTI, "1\n  flow\n\n      of1\n      of2");
	/* A section starting with "\n" (ct's "\ parent" line). */
	check("{'common':{'timestamp':1},'ct':{'text':'ct_state NEW status 0x8\\n\\\\ parent [x]',"
	      "'single':'ct_state NEW status 0x8 parent [x]'}}",
	      MULTI, "1\n  ct_state NEW status 0x8\n  \\ parent [x]");
	check("{'common':{'timestamp':1},'ct':{'text':'ct_state NEW status 0x8\\n\\\\ parent [x]',"
	      "'single':'ct_state NEW status 0x8 parent [x]'}}",
	      SINGLE, "1 ct_state NEW status 0x8 parent [x]");
	/* Trailing newline: the last (empty) line gets no indentation. */
	check("{'common':{'timestamp':1},'packet':{'text':'p\\n'},'ovs':{'text':'o'}}", MULTI,
	      "1\n  p\n\n  o");
}

static void test_netns_dev(void **state)
{
	(void)state;
	/* netns and dev share a line; skb comes after them although its
	 * rank is lower (§5 body order). */
	check("{'common':{'timestamp':1},'packet':{'text':'pkt'},'skb':{'text':'skb [x]'},"
	      "'netns':{'text':'ns 0x1/4026531840'},'dev':{'text':'if 10 (veth-ns01-ovs) rxif 10'},"
	      "'ovs':{'text':'upcall_ret (6/30419169098548) ret 0'}}",
	      MULTI,
	      "1\n  pkt\n  ns 0x1/4026531840 if 10 (veth-ns01-ovs) rxif 10\n  skb [x]\n"
	      "  upcall_ret (6/30419169098548) ret 0");
	check("{'common':{'timestamp':1},'packet':{'text':'pkt'},'skb':{'text':'skb [x]'},"
	      "'netns':{'text':'ns 0x1/4026531840'},'dev':{'text':'if 10 (veth-ns01-ovs) rxif "
	      "10'}}",
	      SINGLE, "1 pkt ns 0x1/4026531840 if 10 (veth-ns01-ovs) rxif 10 skb [x]");
	/* dev without netns: its own line. */
	check("{'common':{'timestamp':1},'packet':{'text':'pkt'},'dev':{'text':'if 2 (eth0)'}}",
	      MULTI, "1\n  pkt\n  if 2 (eth0)");
	check("{'common':{'timestamp':1},'dev':{'text':'if 2 (eth0)'}}", SINGLE, "1 if 2 (eth0)");
	/* netns without dev. */
	check("{'common':{'timestamp':1},'netns':{'text':'ns 4026532761'},'ct':{'text':'ct'}}",
	      MULTI, "1\n  ns 4026532761\n  ct");
	/* Key order in the object does not matter. */
	check("{'dev':{'text':'if 2 (eth0)'},'ct':{'text':'ct'},'netns':{'text':'ns 7'},"
	      "'common':{'timestamp':1},'packet':{'text':'pkt'}}",
	      MULTI, "1\n  pkt\n  ns 7 if 2 (eth0)\n  ct");
}

static void test_body_order_and_skips(void **state)
{
	(void)state;
	/* §5 order whatever the key order: packet, netns dev, a third-party
	 * section ranked between packet and skb, skb, ovs, ovs-detrace, nft,
	 * ct, startup, then sections ranked above 1000. */
	check("{'ab':{},'ct':{'text':'ct'},'nft':{'text':'nft'},'ovs-detrace':{'text':'det'},"
	      "'ovs':{'text':'ovs'},'skb':{'text':'skb'},'third':{'text':'third'},"
	      "'dev':{'text':'dev'},'netns':{'text':'ns'},'packet':{'text':'pkt'},"
	      "'skb-drop':{'text':'drop (reason X)'},'skb-tracking':{'orig_head':1,'timestamp':0,"
	      "'skb':2},'kernel':{'symbol':'s','probe_type':'kprobe'},'common':{'timestamp':1}}",
	      MULTI,
	      "1 [k] s #1 (skb 2) drop (reason X)\n  pkt\n  ns dev\n  third\n  skb\n  ovs\n  det\n"
	      "  nft\n  ct\n  a\n  b");
	/* Unknown keys, sections without a formatter, null sections and
	 * sections rendering nothing ("skb":{}) are skipped. */
	check("{'common':{'timestamp':1},'unknown':{'x':1},'noformat':{'text':'no'},"
	      "'packet':null,'skb':{},'ovs':{'text':'ovs'}}",
	      MULTI, "1\n  ovs");
	check("{'common':{'timestamp':1},'skb':{}}", SINGLE, "1");
	/* Only common: the startup-like minimum. */
	check("{'common':{'timestamp':42}}", MULTI, "42");
}

static void test_errors(void **state)
{
	(void)state;
	/* A formatter's -EINVAL fails the whole event; nothing is written. */
	check_err("{'common':{'timestamp':1},'packet':{'text':'p'},'fail':{}}", MULTI, -EINVAL);
	check_err("{'common':{'timestamp':1},'kernel':{'symbol':'s'}}", SINGLE, -EINVAL);
	check_err("{'common':{'timestamp':1},'userspace':{'symbol':'s'}}", MULTI, -EINVAL);
	check_err("{'common':{'timestamp':1},'skb-tracking':{'skb':1}}", MULTI, -EINVAL);
}

static void test_many_keys(void **state)
{
	struct retisc_strbuf json = RETISC_STRBUF_INIT;
	int i;

	(void)state;
	/* More keys than the renderer keeps on its stack. */
	assert_int_equal(retisc_strbuf__puts(&json, "{'common':{'timestamp':1}"), 0);
	for (i = 0; i < 40; i++)
		assert_int_equal(retisc_strbuf__printf(&json, ",'u%d':{}", i), 0);
	assert_int_equal(retisc_strbuf__puts(&json, ",'ovs':{'text':'o'},'packet':{'text':'p'}}"),
			 0);
	check(json.buf, MULTI, "1\n  p\n  o");
	retisc_strbuf__release(&json);
}

static void test_framing(void **state)
{
	struct retisc_json *ev = parse("{'common':{'timestamp':1},'ab':{}}");
	struct retisc_strbuf out = RETISC_STRBUF_INIT;
	struct retisc_renderer r;

	(void)state;
	renderer(&r, true, false, false);
	assert_int_equal(retisc_renderer__event_framed(&r, ev, &out), 0);
	assert_int_equal(retisc_renderer__event_framed(&r, ev, &out), 0);
	assert_str_eq(retisc_strbuf__str(&out), "1\n  a\n  b\n\n1\n  a\n  b\n\n");
	retisc_strbuf__reset(&out);
	renderer(&r, false, false, false);
	assert_int_equal(retisc_renderer__event_framed(&r, ev, &out), 0);
	assert_int_equal(retisc_renderer__event_framed(&r, ev, &out), 0);
	assert_str_eq(retisc_strbuf__str(&out), "1 a b\n1 a b\n");
	retisc_strbuf__release(&out);
	retisc_json__free(ev);
}

static void test_base_indent(void **state)
{
	struct retisc_json *ev = parse("{'common':{'timestamp':1},'kernel':{'symbol':'f',"
				       "'probe_type':'kprobe','stack_trace':['a','b']},"
				       "'nested':{}}");
	struct retisc_strbuf out = RETISC_STRBUF_INIT;
	struct retisc_renderer r;

	(void)state;
	/* B = 4 without a prefix: first line at 4, frames at 8, body at 6,
	 * nested lists at 10. */
	renderer(&r, true, false, false);
	assert_int_equal(retisc_renderer__event(&r, ev, 4, NULL, &out), 0);
	assert_str_eq(retisc_strbuf__str(&out), "    1 [k] f\n        a\n        b\n      flow\n\n"
						"          of1\n          of2");
	retisc_strbuf__release(&out);
	retisc_json__free(ev);
}

/* -------------------------------------------------------------------------
 * §7 complete examples (plugin sections through stand-ins).
 */

#define EX1_PACKET                                                                                 \
	"192.168.125.10 > 192.168.125.11 tos 0x0 ttl 64 id 41977 off 0 [DF] len 84 proto ICMP "    \
	"(1) "                                                                                     \
	"type 8 code 0"
#define EX1_CT                                                                                     \
	"ct_state NEW status 0x8 icmp orig [192.168.125.10 > 192.168.125.11 type 8 code 0 id "     \
	"29004] reply [192.168.125.11 > 192.168.125.10 type 0 code 0 id 29004] zone 0 mark 0"
#define EX1_EVENT                                                                                  \
	"{" COMMON_PING ",'kernel':{'symbol':'net:net_dev_start_xmit','probe_type':"               \
	"'raw_tracepoint'}," SKB_TRACKING_1 ",'packet':{'text':'" EX1_PACKET "','ll':"             \
	"'a6:c2:11:71:59:45 > fa:5c:bd:8e:cc:01 ethertype IPv4 (0x0800) " EX1_PACKET "'},"         \
	"'skb':{'text':'skb [csum none len 98 priority 0 users 1 dataref 1]'},'netns':{'text':"    \
	"'ns 0x3/4026532741'},'dev':{'text':'if 11 (veth-ns01)'},'ct':{'text':'" EX1_CT "'}}"

static void test_example1(void **state)
{
	struct retisc_json *ev = parse(EX1_EVENT);
	struct retisc_strbuf out = RETISC_STRBUF_INIT;
	struct retisc_renderer r;

	(void)state;
	renderer(&r, true, false, false);
	assert_int_equal(retisc_renderer__event_framed(&r, ev, &out), 0);
	assert_str_eq(retisc_strbuf__str(&out),
		      "30419169061793 (6) [ping] 11330 [tp] net:net_dev_start_xmit "
		      "#1baa83c42ba1ffff8e95c3b67c00 (skb ffff8e95d3009100)\n"
		      "  " EX1_PACKET "\n"
		      "  ns 0x3/4026532741 if 11 (veth-ns01)\n"
		      "  skb [csum none len 98 priority 0 users 1 dataref 1]\n"
		      "  " EX1_CT "\n\n");
	retisc_strbuf__release(&out);

	/* --format single-line -e --utc with the startup offset. */
	renderer(&r, false, true, true);
	retisc_renderer__set_offset(&r, 1742309146, 691042000);
	assert_int_equal(retisc_renderer__event_framed(&r, ev, &out), 0);
	assert_str_eq(
		retisc_strbuf__str(&out),
		"2025-03-18 23:12:45.860103 (6) [ping] 11330 [tp] net:net_dev_start_xmit "
		"#1baa83c42ba1ffff8e95c3b67c00 (skb ffff8e95d3009100) a6:c2:11:71:59:45 > "
		"fa:5c:bd:8e:cc:01 ethertype IPv4 (0x0800) " EX1_PACKET
		" ns 0x3/4026532741 if 11 (veth-ns01) skb [csum none len 98 priority 0 users 1 "
		"dataref 1] " EX1_CT "\n");
	retisc_strbuf__release(&out);
	retisc_json__free(ev);
}

static void test_example2_4(void **state)
{
	(void)state;
	/* Example 2: kretprobe, rx_ifindex. */
	check("{" COMMON_PING ",'kernel':{'symbol':'ovs_dp_upcall','probe_type':'kretprobe'},"
	      "'skb-tracking':{'orig_head':18446619372617628672,'timestamp':30419169061793,"
	      "'skb':18446619372874141952},'packet':{'text':'" EX1_PACKET "'},'skb':{'text':"
	      "'skb [csum none hash 0x7e2c5976 len 98 priority 0 users 1 dataref 1]'},"
	      "'netns':{'text':'ns 0x1/4026531840'},'dev':{'text':'if 10 (veth-ns01-ovs) rxif 10'},"
	      "'ovs':{'text':'upcall_ret (6/30419169098548) ret 0'}}",
	      MULTI,
	      "30419169061793 (6) [ping] 11330 [kr] ovs_dp_upcall #1baa83c42ba1ffff8e95c3b67c00 "
	      "(skb ffff8e95d3009100)\n"
	      "  " EX1_PACKET "\n"
	      "  ns 0x1/4026531840 if 10 (veth-ns01-ovs) rxif 10\n"
	      "  skb [csum none hash 0x7e2c5976 len 98 priority 0 users 1 dataref 1]\n"
	      "  upcall_ret (6/30419169098548) ret 0");
	/* Example 4: handler thread, pid != tgid. */
	check("{'common':{'timestamp':30419169314440,'smp_id':6,'task':{'pid':985,'tgid':995,"
	      "'comm':'handler8'}},'kernel':{'symbol':'openvswitch:ovs_do_execute_action',"
	      "'probe_type':'raw_tracepoint'},'skb-tracking':{'orig_head':18446619377637402112,"
	      "'timestamp':30419169307121,'skb':18446619372874141952},'packet':{'text':'" EX1_PACKET
	      "'},'skb':{'text':'skb [csum none hash 0x7e2c5976 len 98 priority 0 users 1 dataref "
	      "1]'},'netns':{'text':'ns 0x1/4026531840'},'dev':{'text':'if 10 (veth-ns01-ovs)'},"
	      "'ovs':{'text':'exec oport 4'}}",
	      MULTI,
	      "30419169314440 (6) [handler8] 985/995 [tp] openvswitch:ovs_do_execute_action "
	      "#1baa83c7e9f1ffff8e96eeea2600 (skb ffff8e95d3009100)\n"
	      "  " EX1_PACKET "\n"
	      "  ns 0x1/4026531840 if 10 (veth-ns01-ovs)\n"
	      "  skb [csum none hash 0x7e2c5976 len 98 priority 0 users 1 dataref 1]\n"
	      "  exec oport 4");
}

/* -------------------------------------------------------------------------
 * doc/processing.md §2.6 series.
 */

#define SERIES_STARTUP                                                                             \
	"[{'common':{'timestamp':23868643385852},'startup':{'retis_version':'v1.7.0',"             \
	"'cmdline':'retisc collect -c skb-tracking,ovs -o'," STARTUP_OFFSET "," MACHINE "}}]"
#define SERIES_TRACK(idx)                                                                          \
	"'tracking':{'skb':{'orig_head':18446616576100907520,'timestamp':23868955262984,"          \
	"'skb':18446616546107689472},'idx':" #idx "}"
#define SERIES_UPCALL                                                                              \
	"[{'common':{'timestamp':23868955262984,'smp_id':2,'task':{'pid':1360,'tgid':1360,"        \
	"'comm':'napi/phy0-8197'}},'kernel':{'symbol':'openvswitch:ovs_dp_upcall','probe_type':"   \
	"'raw_tracepoint'}," SERIES_TRACK(                                                         \
		0) ",'skb-tracking':{'orig_head':18446616576100907520,"                            \
		   "'timestamp':23868955262984,'skb':18446616546107689472},'ovs':{'text':'upcall " \
		   "(miss) "                                                                       \
		   "port 3366920467 cpu "                                                          \
		   "1'}},{'common':{'timestamp':23868955276361,'smp_id':3,'task':{"                \
		   "'pid':1360,'tgid':1360,'comm':'napi/"                                          \
		   "phy0-8197'}},'kernel':{'symbol':'ovs_dp_upcall',"                              \
		   "'probe_type':'kretprobe'}," SERIES_TRACK(1) ",'ovs':{'text':'upcall_ret "      \
								"(1/23868955262984) ret 0'}}]"

static void check_series(struct retisc_renderer *r, const char *json, const char *want)
{
	struct retisc_json *s = parse(json);
	struct retisc_strbuf out = RETISC_STRBUF_INIT;

	assert_int_equal(retisc_renderer__series_framed(r, s, &out), 0);
	assert_str_eq(retisc_strbuf__str(&out), want);
	retisc_strbuf__release(&out);
	retisc_json__free(s);
}

static void test_series(void **state)
{
	struct retisc_renderer r;

	(void)state;
	renderer(&r, true, false, false);
	check_series(
		&r, SERIES_STARTUP,
		"23868643385852\n"
		"  collected with Retis v1.7.0\n"
		"  on machine 6.13.7-200.fc41.x86_64 #1 SMP PREEMPT_DYNAMIC Thu Mar 13 17:46:13 "
		"UTC 2025 x86_64\n"
		"  cmdline retisc collect -c skb-tracking,ovs -o\n\n");
	check_series(&r, SERIES_UPCALL,
		     "23868955262984 (2) [napi/phy0-8197] 1360 [tp] openvswitch:ovs_dp_upcall "
		     "#15b56c998008ffff8c0aa653ba00 (skb ffff8c03aa978a00) n 0\n"
		     "  upcall (miss) port 3366920467 cpu 1\n"
		     "  \u21b3 23868955276361 (3) [napi/phy0-8197] 1360 [kr] ovs_dp_upcall "
		     "#15b56c998008ffff8c0aa653ba00 (skb ffff8c03aa978a00) n 1\n"
		     "      upcall_ret (1/23868955262984) ret 0\n\n");

	/* Single-line: one line per event, an empty line after the series. */
	renderer(&r, false, false, false);
	check_series(&r, SERIES_UPCALL,
		     "23868955262984 (2) [napi/phy0-8197] 1360 [tp] openvswitch:ovs_dp_upcall "
		     "#15b56c998008ffff8c0aa653ba00 (skb ffff8c03aa978a00) n 0 upcall (miss) port "
		     "3366920467 cpu 1\n"
		     "  \u21b3 23868955276361 (3) [napi/phy0-8197] 1360 [kr] ovs_dp_upcall "
		     "#15b56c998008ffff8c0aa653ba00 (skb ffff8c03aa978a00) n 1 upcall_ret "
		     "(1/23868955262984) ret 0\n\n");
}

static void test_series_body(void **state)
{
	char *json = fixture_read("render-series-drop.json");
	char *want = fixture_read("expected/render-series-drop.txt");
	struct retisc_renderer r;

	(void)state;
	/* doc/processing.md §2.6 second example: sections at 6 columns. */
	renderer(&r, true, false, false);
	check_series(&r, json, want);
	free(json);
	free(want);

	/* Stack frames at 8, nested lists at 10, empty lines bare. */
	want = fixture_read("expected/render-series-stack.txt");
	check_series(&r,
		     "[{'common':{'timestamp':1}},{'common':{'timestamp':2},'kernel':{'symbol':'f',"
		     "'probe_type':'kprobe','stack_trace':['a+0x1','b+0x2']},'ab':{},'nested':{}}]",
		     want);
	free(want);
}

static void test_series_misc(void **state)
{
	struct retisc_strbuf out = RETISC_STRBUF_INIT;
	struct retisc_renderer r;
	struct retisc_json *s;

	(void)state;
	/* A startup event inside a series sets the offset first (--utc). */
	renderer(&r, true, false, true);
	check_series(
		&r, "[" STARTUP_EVENT ",{'common':{'timestamp':30419169061793}}]",
		"2025-03-18 23:12:42.484531\n"
		"  collected with Retis v1.7.0\n"
		"  on machine 6.13.7-200.fc41.x86_64 #1 SMP PREEMPT_DYNAMIC Thu Mar 13 17:46:13 "
		"UTC 2025 x86_64\n"
		"  cmdline retisc collect -o\n"
		"  \u21b3 2025-03-18 23:12:45.860103\n\n");

	/* Errors leave the output as it was. */
	renderer(&r, true, false, false);
	assert_int_equal(retisc_strbuf__puts(&out, "keep"), 0);
	s = parse("[{'common':{'timestamp':1}},{'kernel':{}}]");
	assert_int_equal(retisc_renderer__series_framed(&r, s, &out), -EINVAL);
	retisc_json__free(s);
	s = parse("{'common':{'timestamp':1}}");
	assert_int_equal(retisc_renderer__series_framed(&r, s, &out), -EINVAL);
	retisc_json__free(s);
	assert_str_eq(retisc_strbuf__str(&out), "keep");
	/* An empty series prints nothing. */
	s = parse("[]");
	assert_int_equal(retisc_renderer__series_framed(&r, s, &out), 0);
	assert_str_eq(retisc_strbuf__str(&out), "keep");
	retisc_json__free(s);
	retisc_strbuf__release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_common_text),
		cmocka_unit_test(test_common_errors),
		cmocka_unit_test(test_utc),
		cmocka_unit_test(test_utc_startup_offset),
		cmocka_unit_test(test_kernel_tags),
		cmocka_unit_test(test_userspace),
		cmocka_unit_test(test_tracking_id),
		cmocka_unit_test(test_tracking),
		cmocka_unit_test(test_startup),
		cmocka_unit_test(test_stack_trace),
		cmocka_unit_test(test_indent_body),
		cmocka_unit_test(test_netns_dev),
		cmocka_unit_test(test_body_order_and_skips),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_base_indent),
		cmocka_unit_test(test_example1),
		cmocka_unit_test(test_example2_4),
		cmocka_unit_test(test_series),
		cmocka_unit_test(test_series_body),
		cmocka_unit_test(test_series_misc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
