// SPDX-License-Identifier: GPL-2.0-only
/*
 * nft collector (doc/collectors.md §7, doc/events.md §4.13): registration,
 * decoding of raw sections, text, --nft-verdicts, can_run without kprobes,
 * and an nft event of a Retis file rendered in a series.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "plugtest.h"

#include <retisc/event.h>
#include <retisc/json.h>
#include <retisc/plugin.h>
#include <retisc/strbuf.h>

#include <retisc/tracking.h>

#include "collect_env.h"
#include "registry.h"
#include "render.h"

#include "nft.h"

static struct retisc_registry *reg;
static const struct retisc_section *sec;

static int group_setup(void **state)
{
	static const char *const plugins[] = {"skb-tracking", "nft", NULL};

	(void)state;
	if (plug_group_setup(&reg, plugins))
		return -1;
	sec = retisc_registry__section_by_owner(reg, RETISC_OWNER_NFT);
	return sec && sec->decode && sec->format ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	plug_group_teardown(reg);
	return 0;
}

static struct retisc_raw_nft raw_nft(const char *table, const char *chain, int32_t verdict,
				     int64_t t, int64_t c, int64_t r, int policy)
{
	struct retisc_raw_nft n;

	memset(&n, 0, sizeof(n));
	snprintf(n.table_name, sizeof(n.table_name), "%s", table);
	snprintf(n.chain_name, sizeof(n.chain_name), "%s", chain);
	n.verdict = (uint32_t)verdict;
	n.t_handle = t;
	n.c_handle = c;
	n.r_handle = r;
	n.policy = (uint8_t)policy;
	return n;
}

/* Decode n into an empty event; compare the nft section, and its text. */
static void check(const struct retisc_raw_nft *n, const char *want_json, const char *want_text)
{
	struct retisc_strbuf out = RETISC_STRBUF_INIT;
	struct retisc_json *ev = retisc_json__new_object();
	struct retisc_fmt f = {.sz = sizeof(f), .out = &out, .multiline = true};

	assert_non_null(ev);
	assert_int_equal(sec->decode(sec->priv, ev, RETISC_NFT_TYPE_EVENT, n, sizeof(*n)), 0);
	assert_json(retisc_json__obj_get(ev, "nft"), want_json);
	assert_int_equal(sec->format(sec->priv, retisc_json__obj_get(ev, "nft"), &f), 0);
	assert_str_eq(retisc_strbuf__str(&out), want_text);
	retisc_strbuf__release(&out);
	retisc_json__free(ev);
}

static void test_registration(void **state)
{
	struct retisc_collector *col = retisc_registry__collector_by_name(reg, "nft");

	(void)state;
	assert_non_null(col);
	assert_str_eq(sec->key, "nft");
	assert_int_equal(sec->rank, 130);
	assert_int_equal(col->order, 50);
	assert_int_equal(col->n_hooks, 1);
	assert_str_eq(col->hooks[0].target, "kprobe:__nft_trace_packet");
	assert_str_eq(col->known_types[0], "struct nft_traceinfo *");
	assert_int_equal(col->n_opts, 1);
	assert_str_eq(col->opts[0].name, "nft-verdicts");
	assert_true(col->opts[0].flags & RETISC_OPT_LIST);
}

/* The three shapes of doc/events.md §4.13's examples, and the rest. */
static void test_decode_and_text(void **state)
{
	struct retisc_raw_nft n;

	(void)state;
	n = raw_nft("firewalld", "filter_INPUT", 1, 2, 165, 169, 0);
	check(&n,
	      "{\"table_name\":\"firewalld\",\"chain_name\":\"filter_INPUT\",\"verdict\":"
	      "\"accept\",\"table_handle\":2,\"chain_handle\":165,\"rule_handle\":169,"
	      "\"policy\":false}",
	      "table firewalld (2) chain filter_INPUT (165) handle 169 accept");
	n = raw_nft("firewalld", "filter_PREROUTING", 1, 2, 164, -1, 1);
	check(&n,
	      "{\"table_name\":\"firewalld\",\"chain_name\":\"filter_PREROUTING\",\"verdict\":"
	      "\"accept\",\"table_handle\":2,\"chain_handle\":164,\"policy\":true}",
	      "table firewalld (2) chain filter_PREROUTING (164) accept (policy)");
	n = raw_nft("nft_test", "input_filter", -3, 1, 1, 4, 0);
	snprintf(n.verdict_chain_name, sizeof(n.verdict_chain_name), "input_ind1_hook");
	check(&n,
	      "{\"table_name\":\"nft_test\",\"chain_name\":\"input_filter\",\"verdict\":\"jump\","
	      "\"verdict_chain_name\":\"input_ind1_hook\",\"table_handle\":1,\"chain_handle\":1,"
	      "\"rule_handle\":4,\"policy\":false}",
	      "table nft_test (1) chain input_filter (1) handle 4 jump chain input_ind1_hook");
	/* A verdict chain only for jump/goto; a drop with a queue-style high part. */
	n = raw_nft("t", "c", 0, 1, 2, 3, 0);
	snprintf(n.verdict_chain_name, sizeof(n.verdict_chain_name), "ignored");
	n.verdict = 0x00010000;
	check(&n,
	      "{\"table_name\":\"t\",\"chain_name\":\"c\",\"verdict\":\"drop\",\"table_handle\":1,"
	      "\"chain_handle\":2,\"rule_handle\":3,\"policy\":false}",
	      "table t (1) chain c (2) handle 3 drop");
	n = raw_nft("t", "c", -1, 1, 2, -1, 0);
	check(&n,
	      "{\"table_name\":\"t\",\"chain_name\":\"c\",\"verdict\":\"continue\","
	      "\"table_handle\":1,\"chain_handle\":2,\"policy\":false}",
	      "table t (1) chain c (2) continue");
	n = raw_nft("t", "c", 42, 1, 2, 3, 0);
	check(&n,
	      "{\"table_name\":\"t\",\"chain_name\":\"c\",\"verdict\":\"unknown\","
	      "\"table_handle\":1,\"chain_handle\":2,\"rule_handle\":3,\"policy\":false}",
	      "table t (1) chain c (2) handle 3 unknown");
}

/* Names without a NUL, short sections, a second nft section: errors. */
static void test_malformed(void **state)
{
	struct retisc_raw_nft n = raw_nft("t", "c", 0, 1, 2, 3, 0);
	struct retisc_json *ev = retisc_json__new_object();

	(void)state;
	assert_int_equal(sec->decode(sec->priv, ev, RETISC_NFT_TYPE_EVENT, &n, sizeof(n) - 1),
			 -EINVAL);
	assert_int_equal(sec->decode(sec->priv, ev, 2, &n, sizeof(n)), -EINVAL);
	memset(n.table_name, 'x', sizeof(n.table_name));
	assert_int_equal(sec->decode(sec->priv, ev, RETISC_NFT_TYPE_EVENT, &n, sizeof(n)), -EINVAL);
	assert_null(retisc_json__obj_get(ev, "nft"));
	n = raw_nft("t", "c", 0, 1, 2, 3, 0);
	assert_int_equal(sec->decode(sec->priv, ev, RETISC_NFT_TYPE_EVENT, &n, sizeof(n)), 0);
	assert_int_equal(sec->decode(sec->priv, ev, RETISC_NFT_TYPE_EVENT, &n, sizeof(n)), -EINVAL);
	retisc_json__free(ev);
}

/* Mandatory keys for text; Retis's JSON is accepted as it is. */
static void test_format_errors(void **state)
{
	static const char *const bad[] = {
		"{\"chain_name\":\"c\",\"verdict\":\"drop\",\"table_handle\":1,\"chain_handle\":2}",
		"{\"table_name\":\"t\",\"chain_name\":\"c\",\"verdict\":\"drop\",\"chain_handle\":"
		"2}",
		"{\"table_name\":\"t\",\"chain_name\":\"c\",\"verdict\":\"drop\",\"table_handle\":"
		"1,"
		"\"chain_handle\":2,\"rule_handle\":\"x\"}",
	};
	struct retisc_strbuf out = RETISC_STRBUF_INIT;
	struct retisc_fmt f = {.sz = sizeof(f), .out = &out};
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct retisc_json *s =
			retisc_json__parse(bad[i], strlen(bad[i]), err, sizeof(err));

		assert_non_null(s);
		assert_int_equal(sec->format(sec->priv, s, &f), -EINVAL);
		assert_int_equal(out.len, 0);
		retisc_json__free(s);
	}
	retisc_strbuf__release(&out);
}

/*
 * Without kprobes the collector takes the netlink path (doc/collectors.md
 * §7.7): it runs where nf_tables' trace messages can be read (root here),
 * else it says why.
 */
static void test_can_run_without_kprobes(void **state)
{
	struct retisc_collector *col = retisc_registry__collector_by_name(reg, "nft");
	struct retisc_collect_env env = {.tracking_mode = RETISC_TRACKING_TRACEPOINT};
	char reason[256] = "";
	int err;

	(void)state;
	err = col->can_run(col->priv, &env, reason, sizeof(reason));
	if (geteuid() == 0) {
		assert_int_equal(err, 0);
		assert_str_eq(reason, "");
	} else {
		assert_true(err < 0);
		assert_non_null(strstr(reason, "kprobes are not available and "));
	}
}

/* init(): --nft-verdicts values; this kernel's __nft_trace_packet. */
static void test_verdicts_option(void **state)
{
	struct retisc_collector *col = retisc_registry__collector_by_name(reg, "nft");
	char *good[] = {"drop", "jump", NULL}, *all[] = {"all", NULL}, *bad[] = {"dorp", NULL};
	char name[] = "nft-verdicts";
	struct {
		char *name;
		char **values;
	} o = {name, good};
	struct retisc_collect_env env = {
		.n_opts = 1, .opts = (void *)&o, .tracking_mode = RETISC_TRACKING_KPROBE};

	(void)state;
	assert_int_equal(col->init(col->priv, &env), 0);
	o.values = all;
	assert_int_equal(col->init(col->priv, &env), 0);
	o.values = bad;
	assert_int_equal(col->init(col->priv, &env), -EINVAL);
	assert_non_null(
		strstr(retisc_strbuf__str(&logs), "invalid value 'dorp' for '--nft-verdicts'"));
	/* Without --allow-system-changes nothing is changed, and it says so. */
	assert_non_null(strstr(retisc_strbuf__str(&logs),
			       "If an nft trace rule wasn't manually added nft events won't be "
			       "reported"));
}

/* An nft event as Retis writes it, rendered: the nft line in the body. */
static void test_render_retis_event(void **state)
{
	static const char ev_json[] =
		"{\"common\":{\"timestamp\":136852318052,\"smp_id\":3,\"task\":{\"pid\":0,"
		"\"tgid\":0,\"comm\":\"swapper/3\"}},\"kernel\":{\"symbol\":"
		"\"__nft_trace_packet\",\"probe_type\":\"kprobe\"},\"nft\":{\"table_name\":"
		"\"firewalld\",\"chain_name\":\"filter_INPUT_POLICIES\",\"verdict\":\"drop\","
		"\"table_handle\":4,\"chain_handle\":124,\"rule_handle\":284,\"policy\":false}}";
	struct retisc_render_opts o = {.multiline = true};
	struct retisc_strbuf out = RETISC_STRBUF_INIT;
	struct retisc_renderer r;
	struct retisc_json *ev;
	char err[256];

	(void)state;
	ev = retisc_json__parse(ev_json, strlen(ev_json), err, sizeof(err));
	assert_non_null(ev);
	retisc_renderer__init(&r, reg, &o);
	assert_int_equal(retisc_renderer__event(&r, ev, 0, NULL, &out), 0);
	assert_str_eq(retisc_strbuf__str(&out),
		      "136852318052 (3) [swapper/3] 0 [k] __nft_trace_packet\n"
		      "  table firewalld (4) chain filter_INPUT_POLICIES (124) handle 284 drop");
	retisc_strbuf__release(&out);
	retisc_json__free(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registration),
		cmocka_unit_test(test_decode_and_text),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_format_errors),
		cmocka_unit_test(test_can_run_without_kprobes),
		cmocka_unit_test(test_verdicts_option),
		cmocka_unit_test(test_render_retis_event),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
