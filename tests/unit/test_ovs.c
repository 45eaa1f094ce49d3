// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovs collector (doc/collectors.md §8, doc/events.md §4.11, §4.12):
 * registration, decoding of every raw section into Retis's JSON, Retis's
 * text for every event_type (doc/events.md's examples as exact strings),
 * errors, can_run without kprobes or openvswitch, the queue id's jhash
 * against known vectors, and a Retis file of OVS events printed and sorted
 * exactly (tests/fixtures/ovs-retis.json, expected/ovs-*.txt).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plugtest.h"
#include "proctest.h"

#include <retisc/base64.h>
#include <retisc/event.h>
#include <retisc/json.h>
#include <retisc/plugin.h>
#include <retisc/plugin_util.h>
#include <retisc/strbuf.h>
#include <retisc/tracking.h>

#include "btf_info.h"
#include "collect_env.h"
#include "registry.h"
#include "render.h"

#include "ovs.h"
#include "ovs_jhash.h"

static struct retisc_registry *reg;
static const struct retisc_section *sec, *detrace;

static int group_setup(void **state)
{
	static const char *const plugins[] = {"skb-tracking", "skb", "skb-drop", "dev",
					      "ns",	      "ovs", NULL};

	(void)state;
	if (plug_group_setup(&reg, plugins))
		return -1;
	sec = retisc_registry__section_by_owner(reg, RETISC_OWNER_OVS);
	detrace = retisc_registry__section_by_key(reg, "ovs-detrace");
	return sec && sec->decode && sec->format && detrace && detrace->format ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	plug_group_teardown(reg);
	return 0;
}

/* ' for " in test JSON. */
static char *dq(const char *s)
{
	static char buf[8][4096];
	static int n;
	char *o = buf[n++ % 8];
	size_t i;

	assert_true(strlen(s) < sizeof(buf[0]));
	for (i = 0; s[i]; i++)
		o[i] = s[i] == '\'' ? '"' : s[i];
	o[i] = '\0';
	return o;
}

static struct retisc_json *parse(const char *json)
{
	char err[128] = "";
	struct retisc_json *v = retisc_json__parse(json, strlen(json), err, sizeof(err));

	if (!v)
		fail_msg("bad test JSON (%s): %s", err, json);
	return v;
}

/* Text of section s from JSON o; the formatter's return in *ret. */
static char *text_ret(const struct retisc_section *s, const struct retisc_json *o, bool multi,
		      int *ret)
{
	static struct retisc_strbuf out = RETISC_STRBUF_INIT;
	struct retisc_fmt f = {.sz = sizeof(f), .out = &out, .multiline = multi};

	retisc_strbuf__reset(&out);
	*ret = s->format(s->priv, o, &f);
	return (char *)retisc_strbuf__str(&out);
}

static char *text(const struct retisc_section *s, const struct retisc_json *o, bool multi)
{
	int ret;
	char *t = text_ret(s, o, multi, &ret);

	if (ret)
		fail_msg("%s formatter failed (%d)", s->key, ret);
	return t;
}

/* Text of an ovs section given as JSON (' for "). */
static char *fmt(const char *json, bool multi)
{
	struct retisc_json *o = parse(dq(json));
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s", text(sec, o, multi));
	retisc_json__free(o);
	return buf;
}

static int fmt_err(const struct retisc_section *s, const char *json)
{
	struct retisc_json *o = parse(dq(json));
	int ret;

	text_ret(s, o, true, &ret);
	retisc_json__free(o);
	return ret;
}

/* A raw record of ovs sections, decoded into a fresh event. */
struct raw {
	uint8_t type[4];
	const void *data[4];
	size_t size[4];
	int n;
};

static void raw_add(struct raw *r, uint8_t type, const void *data, size_t size)
{
	r->type[r->n] = type;
	r->data[r->n] = data;
	r->size[r->n] = size;
	r->n++;
}

/* Decode r's sections in order: every one must succeed; the ovs JSON must
 * be want_json and its multi-line text want_text. */
static void check(const struct raw *r, const char *want_json, const char *want_text)
{
	struct retisc_json *ev = retisc_json__new_object();

	assert_non_null(ev);
	for (int i = 0; i < r->n; i++)
		assert_int_equal(sec->decode(sec->priv, ev, r->type[i], r->data[i], r->size[i]), 0);
	assert_json(retisc_json__obj_get(ev, "ovs"), dq(want_json));
	assert_str_eq(text(sec, retisc_json__obj_get(ev, "ovs"), true), want_text);
	retisc_json__free(ev);
}

/* One main section alone. */
static void check1(uint8_t type, const void *data, size_t size, const char *want_json,
		   const char *want_text)
{
	struct raw r = {0};

	raw_add(&r, type, data, size);
	check(&r, want_json, want_text);
}

/* -------------------------------------------------------------------------
 * Registration.
 */

static void test_registration(void **state)
{
	static const struct {
		const char *target;
		uint32_t flags;
	} hooks[] = {
		{"kprobe:ovs_dp_process_packet", RETISC_HOOK_EXCLUSIVE},
		{"kretprobe:ovs_flow_tbl_lookup_stats", RETISC_HOOK_STACK_SKB},
		{"tp:openvswitch:ovs_dp_upcall", 0},
		/* --ovs-track's, off until init() finds ovs-vswitchd (plugin.h: ""). */
		{"", 0},
		{"kretprobe:ovs_dp_upcall", 0},
		{"kprobe:ovs_execute_actions", RETISC_HOOK_EXCLUSIVE},
		{"tp:openvswitch:ovs_do_execute_action", 0},
		{"kretprobe:ovs_execute_actions", RETISC_HOOK_EXCLUSIVE},
		{"", 0},
		{"", 0},
		{"", 0},
	};
	static const char *const opts[] = {"ovs-track", "ovs-enrich-flows", "ovs-enrich-rate"};
	struct retisc_collector *col = retisc_registry__collector_by_name(reg, "ovs");

	(void)state;
	assert_non_null(col);
	assert_str_eq(sec->key, "ovs");
	assert_int_equal(sec->rank, 110);
	assert_int_equal(sec->place, RETISC_PLACE_BODY);
	assert_int_equal(detrace->rank, 120);
	assert_int_equal(detrace->owner, -1);
	assert_int_equal(col->order, 40);
	assert_null(col->known_types[0]);
	assert_int_equal(col->n_opts, sizeof(opts) / sizeof(opts[0]));
	for (size_t i = 0; i < col->n_opts; i++)
		assert_str_eq(col->opts[i].name, opts[i]);
	assert_string_equal(col->opts[2].arg, "N");
	assert_int_equal(col->n_hooks, sizeof(hooks) / sizeof(hooks[0]));
	for (size_t i = 0; i < col->n_hooks; i++) {
		assert_str_eq(col->hooks[i].target, hooks[i].target);
		assert_int_equal(col->hooks[i].flags, hooks[i].flags);
		/* The USDT hooks (the last three) also get the handler threads. */
		assert_int_equal(col->hooks[i].n_rodata, i >= 8 ? 3 : 2);
	}
}

/* -------------------------------------------------------------------------
 * Upcalls and ovs-vswitchd's events.
 */

static void test_upcalls(void **state)
{
	/* doc/files.md §7's upcall, doc/events.md §7 example 2's return. */
	struct retisc_ovs_upcall up = {.port = 3366920467U, .cpu = 1, .cmd = 1};
	struct retisc_ovs_upcall_return ret = {.upcall_ts = 30419169098548ULL, .upcall_cpu = 6};
	struct retisc_ovs_upcall_enqueue enq = {.upcall_ts = 30419169098548ULL,
						.upcall_cpu = 6,
						.queue_id = 2053834575U,
						.port = 3366920467U,
						.ret = -11,
						.cmd = 1};
	struct retisc_ovs_recv_upcall recv = {.key_size = 480,
					      .batch_ts = 30419169200000ULL,
					      .pkt_size = 98,
					      .queue_id = 2053834575U,
					      .type = 0,
					      .batch_idx = 0};
	struct retisc_ovs_operation op = {.batch_ts = 30419169200000ULL,
					  .queue_id = 2053834575U,
					  .batch_idx = 3,
					  .type = RETISC_OVS_OP_PUT};

	(void)state;
	check1(RETISC_OVS_TYPE_UPCALL, &up, sizeof(up),
	       "{'event_type':'upcall','cmd':1,'port':3366920467,'cpu':1}",
	       "upcall (miss) port 3366920467 cpu 1");
	check1(RETISC_OVS_TYPE_UPCALL_RETURN, &ret, sizeof(ret),
	       "{'event_type':'upcall_return','upcall_ts':30419169098548,'upcall_cpu':6,'ret':0}",
	       "upcall_ret (6/30419169098548) ret 0");
	/* Nobody listens on the datapath's netlink port: -ENOTCONN. */
	ret.ret = -107;
	check1(RETISC_OVS_TYPE_UPCALL_RETURN, &ret, sizeof(ret),
	       "{'event_type':'upcall_return','upcall_ts':30419169098548,'upcall_cpu':6,"
	       "'ret':-107}",
	       "upcall_ret (6/30419169098548) ret -107");
	check1(RETISC_OVS_TYPE_UPCALL_ENQUEUE, &enq, sizeof(enq),
	       "{'event_type':'upcall_enqueue','ret':-11,'cmd':1,'port':3366920467,"
	       "'upcall_ts':30419169098548,'upcall_cpu':6,'queue_id':2053834575}",
	       "upcall_enqueue (miss) (6/30419169098548) q 2053834575 ret -11");
	check1(RETISC_OVS_TYPE_RECV_UPCALL, &recv, sizeof(recv),
	       "{'event_type':'recv_upcall','type':0,'pkt_size':98,'key_size':480,"
	       "'queue_id':2053834575,'batch_ts':30419169200000,'batch_idx':0}",
	       "upcall_recv q 2053834575 pkt_size 98");
	check1(RETISC_OVS_TYPE_OPERATION, &op, sizeof(op),
	       "{'event_type':'flow_operation','op_type':'put','queue_id':2053834575,"
	       "'batch_ts':30419169200000,'batch_idx':3}",
	       "flow_put q 2053834575 ts 30419169200000 (3)");
	op.type = RETISC_OVS_OP_EXEC;
	check1(RETISC_OVS_TYPE_OPERATION, &op, sizeof(op),
	       "{'event_type':'flow_operation','op_type':'exec','queue_id':2053834575,"
	       "'batch_ts':30419169200000,'batch_idx':3}",
	       "flow_exec q 2053834575 ts 30419169200000 (3)");

	/* Every OVS_PACKET_CMD, and one beyond them. */
	assert_str_eq(fmt("{'event_type':'upcall','cmd':0,'port':1,'cpu':2}", true),
		      "upcall (unspec) port 1 cpu 2");
	assert_str_eq(fmt("{'event_type':'upcall','cmd':2,'port':1,'cpu':2}", true),
		      "upcall (action) port 1 cpu 2");
	assert_str_eq(fmt("{'event_type':'upcall','cmd':3,'port':1,'cpu':2}", true),
		      "upcall (exec) port 1 cpu 2");
	assert_str_eq(fmt("{'event_type':'upcall','cmd':4,'port':1,'cpu':2}", true),
		      "upcall port 1 cpu 2");
	assert_str_eq(fmt("{'event_type':'upcall_enqueue','ret':0,'cmd':7,'port':1,"
			  "'upcall_ts':5,'upcall_cpu':0,'queue_id':9}",
			  true),
		      "upcall_enqueue (0/5) q 9 ret 0");
}

/* -------------------------------------------------------------------------
 * Actions.
 */

static void test_actions(void **state)
{
	struct retisc_ovs_action a = {.recirc_id = 0, .action = 1};
	struct retisc_ovs_action_track t = {.queue_id = 2053834575U};
	struct retisc_ovs_output out = {.port = 4};
	struct retisc_ovs_recirc rc = {.id = 5};
	struct retisc_ovs_drop drop = {.reason = 0};
	struct raw r = {0};

	(void)state;
	/* doc/events.md §4.11's output example. */
	raw_add(&r, RETISC_OVS_TYPE_ACTION, &a, sizeof(a));
	raw_add(&r, RETISC_OVS_TYPE_OUTPUT, &out, sizeof(out));
	check(&r, "{'event_type':'action_execute','action':'output','port':4,'recirc_id':0}",
	      "exec oport 4");
	/* A re-injected upcall: its queue id last, whatever the order. */
	memset(&r, 0, sizeof(r));
	raw_add(&r, RETISC_OVS_TYPE_ACTION, &a, sizeof(a));
	raw_add(&r, RETISC_OVS_TYPE_ACTION_TRACK, &t, sizeof(t));
	raw_add(&r, RETISC_OVS_TYPE_OUTPUT, &out, sizeof(out));
	check(&r,
	      "{'event_type':'action_execute','action':'output','port':4,'recirc_id':0,"
	      "'queue_id':2053834575}",
	      "exec oport 4 q 2053834575");
	/* Recirculation, with the recirc id of the key. */
	a.action = 7;
	a.recirc_id = 0x22;
	memset(&r, 0, sizeof(r));
	raw_add(&r, RETISC_OVS_TYPE_ACTION, &a, sizeof(a));
	raw_add(&r, RETISC_OVS_TYPE_RECIRC, &rc, sizeof(rc));
	check(&r, "{'event_type':'action_execute','action':'recirc','id':5,'recirc_id':34}",
	      "[recirc_id 0x22] exec recirc 0x5");
	/* doc/events.md §4.11's drop example (the uapi id of 6.6+). */
	a.action = 24;
	a.recirc_id = 32;
	memset(&r, 0, sizeof(r));
	raw_add(&r, RETISC_OVS_TYPE_ACTION, &a, sizeof(a));
	raw_add(&r, RETISC_OVS_TYPE_DROP, &drop, sizeof(drop));
	check(&r, "{'event_type':'action_execute','action':'drop','reason':0,'recirc_id':32}",
	      "[recirc_id 0x20] exec drop 0");
	/* No action (OVS_ACTION_ATTR_UNSPEC): no action key. */
	a.action = 0;
	a.recirc_id = 0;
	check1(RETISC_OVS_TYPE_ACTION, &a, sizeof(a),
	       "{'event_type':'action_execute','recirc_id':0}", "exec unspec");
	/* Actions without data: their tag; set is a tunnel set. */
	a.action = 3;
	check1(RETISC_OVS_TYPE_ACTION, &a, sizeof(a),
	       "{'event_type':'action_execute','action':'set','recirc_id':0}", "exec tunnel_set");
	a.action = 2;
	check1(RETISC_OVS_TYPE_ACTION, &a, sizeof(a),
	       "{'event_type':'action_execute','action':'userspace','recirc_id':0}",
	       "exec userspace");
	a.action = 11;
	check1(RETISC_OVS_TYPE_ACTION, &a, sizeof(a),
	       "{'event_type':'action_execute','action':'set_masked','recirc_id':0}",
	       "exec set_masked");
	a.action = 23;
	check1(RETISC_OVS_TYPE_ACTION, &a, sizeof(a),
	       "{'event_type':'action_execute','action':'dec_ttl','recirc_id':0}", "exec dec_ttl");
	/* An id no tag names: the event stays, without action, and says so once. */
	plug_setup(NULL);
	a.action = 200;
	check1(RETISC_OVS_TYPE_ACTION, &a, sizeof(a),
	       "{'event_type':'action_execute','recirc_id':0}", "exec unspec");
	check1(RETISC_OVS_TYPE_ACTION, &a, sizeof(a),
	       "{'event_type':'action_execute','recirc_id':0}", "exec unspec");
	assert_log_has("ovs: unsupported action id 200");
	assert_non_null(strstr(retisc_strbuf__str(&logs), "unsupported action id 200"));
	assert_null(strstr(strstr(retisc_strbuf__str(&logs), "unsupported action id 200") + 1,
			   "unsupported action id 200"));
}

/* The ct action: raw sections to JSON, and Retis's text. */
static void test_ct(void **state)
{
	struct retisc_ovs_action a = {.recirc_id = 34, .action = 12};
	struct retisc_ovs_ct ct;
	struct raw r = {0};

	(void)state;
	/* The shape of doc/events.md §4.11's example, decoded: DNAT to a
	 * range of addresses and ports, committed. */
	memset(&ct, 0, sizeof(ct));
	ct.flags = RETISC_OVS_CT_COMMIT | RETISC_OVS_CT_IP4 | RETISC_OVS_CT_NAT |
		   RETISC_OVS_CT_NAT_DST | RETISC_OVS_CT_RANGE_MAP_IPS |
		   RETISC_OVS_CT_RANGE_PROTO_SPECIFIED;
	ct.zone_id = 20;
	memcpy(ct.min, (uint8_t[]){10, 244, 1, 3}, 4);
	memcpy(ct.max, (uint8_t[]){10, 244, 1, 30}, 4);
	ct.min_port = htons(36895);
	ct.max_port = htons(36900);
	raw_add(&r, RETISC_OVS_TYPE_ACTION, &a, sizeof(a));
	raw_add(&r, RETISC_OVS_TYPE_CT, &ct, sizeof(ct));
	check(&r,
	      "{'event_type':'action_execute','action':'ct','flags':469,'zone_id':20,'nat':{'dir':"
	      "'dst','min_addr':'10.244.1.3','max_addr':'10.244.1.30','min_port':36895,'max_port':"
	      "36900},'recirc_id':34}",
	      "[recirc_id 0x22] exec ct zone 20 nat(dst=10.244.1.3-10.244.1.30:36895-36900) "
	      "commit");
	/* doc/events.md §4.11's example, as Retis wrote it. */
	assert_str_eq(
		fmt("{'event_type':'action_execute','action':'ct','flags':485,'zone_id':20,"
		    "'nat':{'dir':'dst','min_addr':'10.244.1.3','max_addr':'10.244.1.30',"
		    "'min_port':36895,'max_port':36900},'recirc_id':34}",
		    true),
		"[recirc_id 0x22] exec ct zone 20 nat(dst=10.244.1.3-10.244.1.30:36895-36900) "
		"commit");
	/* SNAT to one IPv6 address and one port, every flag shown. */
	memset(&ct, 0, sizeof(ct));
	ct.flags = RETISC_OVS_CT_COMMIT | RETISC_OVS_CT_FORCE | RETISC_OVS_CT_IP6 |
		   RETISC_OVS_CT_NAT | RETISC_OVS_CT_NAT_SRC | RETISC_OVS_CT_RANGE_MAP_IPS |
		   RETISC_OVS_CT_RANGE_PROTO_SPECIFIED | RETISC_OVS_CT_RANGE_PROTO_RANDOM |
		   RETISC_OVS_CT_RANGE_PERSISTENT | RETISC_OVS_CT_RANGE_PROTO_RANDOM_FULLY;
	ct.zone_id = 0;
	ct.min[0] = ct.max[0] = 0x20;
	ct.min[1] = ct.max[1] = 0x01;
	ct.min[2] = ct.max[2] = 0x0d;
	ct.min[3] = ct.max[3] = 0xb8;
	ct.min[15] = ct.max[15] = 1;
	ct.min_port = ct.max_port = htons(80);
	a.recirc_id = 0;
	memset(&r, 0, sizeof(r));
	raw_add(&r, RETISC_OVS_TYPE_ACTION, &a, sizeof(a));
	raw_add(&r, RETISC_OVS_TYPE_CT, &ct, sizeof(ct));
	check(&r,
	      "{'event_type':'action_execute','action':'ct','flags':4027,'zone_id':0,'nat':{'dir':"
	      "'src','min_addr':'2001:db8::1','max_addr':'2001:db8::1','min_port':80,'max_port':"
	      "80},'recirc_id':0}",
	      "exec ct zone 0 nat(src=2001:db8::1:80) commit,force,persistent,hash,random");
	/* NAT without a direction or range (ct(nat) on a reply): " nat". */
	memset(&ct, 0, sizeof(ct));
	ct.flags = RETISC_OVS_CT_IP4 | RETISC_OVS_CT_NAT;
	ct.zone_id = 7;
	memset(&r, 0, sizeof(r));
	raw_add(&r, RETISC_OVS_TYPE_ACTION, &a, sizeof(a));
	raw_add(&r, RETISC_OVS_TYPE_CT, &ct, sizeof(ct));
	check(&r,
	      "{'event_type':'action_execute','action':'ct','flags':20,'zone_id':7,'nat':{},"
	      "'recirc_id':0}",
	      "exec ct zone 7 nat");
	/* No NAT: no nat object; a range without its flag is not shown. */
	ct.flags = RETISC_OVS_CT_IP4 | RETISC_OVS_CT_FORCE;
	memset(&r, 0, sizeof(r));
	raw_add(&r, RETISC_OVS_TYPE_ACTION, &a, sizeof(a));
	raw_add(&r, RETISC_OVS_TYPE_CT, &ct, sizeof(ct));
	check(&r,
	      "{'event_type':'action_execute','action':'ct','flags':6,'zone_id':7,'recirc_id':0}",
	      "exec ct zone 7 force");
	assert_str_eq(fmt("{'event_type':'action_execute','action':'ct','flags':16,'zone_id':1,"
			  "'nat':{'dir':'src','min_addr':'1.1.1.1','max_addr':'1.1.1.2'},"
			  "'recirc_id':0}",
			  true),
		      "exec ct zone 1 nat(src)");
}

/* -------------------------------------------------------------------------
 * Flow lookups and their enrichment.
 */

#define UFID_JSON "[393692876,1586842659,2369820373,3202860779]"
#define UFID_TEXT "177746cc-5e95-4c23-8d40-96d5bee7c6eb"

static void test_flow_lookup(void **state)
{
	struct retisc_ovs_flow_lookup fl = {
		.flow = 18446616576100907008ULL,
		.sf_acts = 18446616576100906496ULL,
		.ufid = {393692876, 1586842659, 2369820373U, 3202860779U},
		.n_mask_hit = 2,
		.n_cache_hit = 1,
	};
	static const char enriched[] =
		"{'event_type':'flow_lookup','flow':18446616576100907008,'sf_acts':"
		"18446616576100906496,'ufid':" UFID_JSON ",'n_mask_hit':2,'n_cache_hit':1,"
		"'dpflow':'recirc_id(0),in_port(2),eth_type(0x0800),ipv4(frag=no), packets:0, "
		"bytes:0, used:never, actions:3','ofpflows':['table=0 priority=0 actions=NORMAL',"
		"'table=1 ip actions=output:3']}";

	(void)state;
	check1(RETISC_OVS_TYPE_FLOW_LOOKUP, &fl, sizeof(fl),
	       "{'event_type':'flow_lookup','flow':18446616576100907008,'sf_acts':"
	       "18446616576100906496,'ufid':" UFID_JSON ",'n_mask_hit':2,'n_cache_hit':1,"
	       "'dpflow':'','ofpflows':[]}",
	       "flow hit ufid " UFID_TEXT " mask 2 cache 1 flow ffff8c0aa653b800 sf_acts "
	       "ffff8c0aa653b600");
	/* A miss: no flow, so no UFID in the text. */
	memset(&fl, 0, sizeof(fl));
	fl.n_mask_hit = 3;
	check1(RETISC_OVS_TYPE_FLOW_LOOKUP, &fl, sizeof(fl),
	       "{'event_type':'flow_lookup','flow':0,'sf_acts':0,'ufid':[0,0,0,0],'n_mask_hit':3,"
	       "'n_cache_hit':0,'dpflow':'','ofpflows':[]}",
	       "flow miss mask 3 cache 0");
	/* Enriched by sort: the datapath flow, then the OpenFlow flows 4
	 * columns deeper (the renderer adds the section's indentation). */
	assert_str_eq(fmt(enriched, true),
		      "flow hit ufid " UFID_TEXT " mask 2 cache 1 flow ffff8c0aa653b800 sf_acts "
		      "ffff8c0aa653b600\n"
		      "odpflow recirc_id(0),in_port(2),eth_type(0x0800),ipv4(frag=no), packets:0, "
		      "bytes:0, used:never, actions:3\n"
		      "openflow\n"
		      "    table=0 priority=0 actions=NORMAL\n"
		      "    table=1 ip actions=output:3");
	assert_str_eq(fmt(enriched, false),
		      "flow hit ufid " UFID_TEXT " mask 2 cache 1 flow ffff8c0aa653b800 sf_acts "
		      "ffff8c0aa653b600 odpflow recirc_id(0),in_port(2),eth_type(0x0800),"
		      "ipv4(frag=no), packets:0, bytes:0, used:never, actions:3 openflow "
		      "table=0 priority=0 actions=NORMAL table=1 ip actions=output:3");
}

static void test_detrace(void **state)
{
	struct retisc_json *o = parse(dq(
		"{'ufid':" UFID_JSON ",'flow':18446616576100907008,'sf_acts':18446616576100906496,"
		"'dpflow':'recirc_id(0),in_port(2), actions:3','ofpflows':['table=0 "
		"actions=NORMAL',"
		"'table=1 actions=drop']}"));

	(void)state;
	assert_str_eq(text(detrace, o, true), "ufid:" UFID_TEXT " recirc_id(0),in_port(2), "
					      "actions:3\nopenflow:table=0 actions=NORMAL\n    "
					      "table=1 actions=drop");
	assert_str_eq(text(detrace, o, false),
		      "ufid:" UFID_TEXT " recirc_id(0),in_port(2), actions:3 openflow: table=0 "
		      "actions=NORMAL table=1 actions=drop");
	retisc_json__free(o);
	/* doc/files.md §7's, without OpenFlow flows (OVS before 3.4). */
	o = parse(dq("{'ufid':" UFID_JSON ",'flow':18446616576100907008,'sf_acts':"
		     "18446616576100906496,'dpflow':'recirc_id(0),in_port(2),eth_type(0x0800),"
		     "ipv4(frag=no), packets:0, bytes:0, used:never, actions:3','ofpflows':[]}"));
	assert_str_eq(text(detrace, o, true),
		      "ufid:" UFID_TEXT " recirc_id(0),in_port(2),eth_type(0x0800),ipv4(frag=no), "
		      "packets:0, bytes:0, used:never, actions:3\nopenflow:");
	retisc_json__free(o);
}

/* -------------------------------------------------------------------------
 * Errors.
 */

static void test_malformed(void **state)
{
	struct retisc_ovs_upcall up = {.port = 1, .cpu = 0, .cmd = 1};
	struct retisc_ovs_action a = {.action = 1};
	struct retisc_ovs_output out = {.port = 2};
	struct retisc_ovs_operation op = {.type = 2};
	struct retisc_ovs_ct ct = {.flags = RETISC_OVS_CT_NAT | RETISC_OVS_CT_RANGE_MAP_IPS};
	struct retisc_json *ev = retisc_json__new_object();

	(void)state;
	plug_setup(NULL);
	/* Short sections, unknown types: nothing is added. */
	assert_int_equal(sec->decode(sec->priv, ev, RETISC_OVS_TYPE_UPCALL, &up, sizeof(up) - 1),
			 -EINVAL);
	assert_int_equal(sec->decode(sec->priv, ev, 12, &up, sizeof(up)), -EINVAL);
	assert_int_equal(sec->decode(sec->priv, ev, RETISC_OVS_TYPE_OPERATION, &op, sizeof(op)),
			 -EINVAL);
	assert_log_has("Unknown operation type 2");
	/* Action data without an action. */
	assert_int_equal(sec->decode(sec->priv, ev, RETISC_OVS_TYPE_OUTPUT, &out, sizeof(out)),
			 -EINVAL);
	assert_log_has("received action data without action");
	assert_null(retisc_json__obj_get(ev, "ovs"));
	/* A second main section conflicts. */
	assert_int_equal(sec->decode(sec->priv, ev, RETISC_OVS_TYPE_UPCALL, &up, sizeof(up)), 0);
	assert_int_equal(sec->decode(sec->priv, ev, RETISC_OVS_TYPE_ACTION, &a, sizeof(a)),
			 -EINVAL);
	assert_log_has("Conflicting OVS event types");
	/* Action data for an upcall. */
	assert_int_equal(sec->decode(sec->priv, ev, RETISC_OVS_TYPE_OUTPUT, &out, sizeof(out)),
			 -EINVAL);
	assert_json(retisc_json__obj_get(ev, "ovs"),
		    dq("{'event_type':'upcall','cmd':1,'port':1,'cpu':0}"));
	retisc_json__free(ev);

	/* Data of another action, twice the same data, a NAT range of no
	 * family: the event keeps what it had. */
	ev = retisc_json__new_object();
	assert_int_equal(sec->decode(sec->priv, ev, RETISC_OVS_TYPE_ACTION, &a, sizeof(a)), 0);
	assert_int_equal(sec->decode(sec->priv, ev, RETISC_OVS_TYPE_RECIRC, &out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(sec->decode(sec->priv, ev, RETISC_OVS_TYPE_OUTPUT, &out, sizeof(out)), 0);
	assert_int_equal(sec->decode(sec->priv, ev, RETISC_OVS_TYPE_OUTPUT, &out, sizeof(out)),
			 -EINVAL);
	assert_json(retisc_json__obj_get(ev, "ovs"),
		    dq("{'event_type':'action_execute','action':'output','port':2,'recirc_id':0}"));
	retisc_json__free(ev);
	ev = retisc_json__new_object();
	a.action = 12;
	assert_int_equal(sec->decode(sec->priv, ev, RETISC_OVS_TYPE_ACTION, &a, sizeof(a)), 0);
	assert_int_equal(sec->decode(sec->priv, ev, RETISC_OVS_TYPE_CT, &ct, sizeof(ct)), -EINVAL);
	assert_log_has("Unknown ct address family");
	assert_json(retisc_json__obj_get(ev, "ovs"),
		    dq("{'event_type':'action_execute','action':'ct','recirc_id':0}"));
	retisc_json__free(ev);
}

/* Mandatory keys for text; an unknown event_type. */
static void test_format_errors(void **state)
{
	static const char *const bad[] = {
		"{'cmd':1,'port':1,'cpu':0}",
		"{'event_type':'nope'}",
		"{'event_type':'upcall','cmd':1,'cpu':0}",
		"{'event_type':'upcall_return','upcall_ts':1,'upcall_cpu':0}",
		"{'event_type':'upcall_enqueue','ret':0,'cmd':1,'port':1,'upcall_ts':1,"
		"'upcall_cpu':0}",
		"{'event_type':'recv_upcall','type':0,'queue_id':1}",
		"{'event_type':'flow_operation','queue_id':1,'batch_ts':1,'batch_idx':0}",
		"{'event_type':'action_execute','action':'output'}",
		"{'event_type':'action_execute','action':'output','recirc_id':0}",
		"{'event_type':'action_execute','action':'ct','zone_id':1,'recirc_id':0}",
		"{'event_type':'flow_lookup','flow':1,'sf_acts':1,'n_mask_hit':0,'n_cache_hit':0}",
		"{'event_type':'flow_lookup','flow':1,'sf_acts':1,'ufid':[1,2,3],'n_mask_hit':0,"
		"'n_cache_hit':0}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (fmt_err(sec, bad[i]) != -EINVAL)
			fail_msg("formatted: %s", bad[i]);
	assert_int_equal(fmt_err(detrace, "{'ufid':[1,2,3,4],'dpflow':'x'}"), -EINVAL);
	assert_int_equal(fmt_err(detrace, "{'ufid':[1,2,3,4],'ofpflows':[]}"), -EINVAL);
	/* A flow lookup's enrichment is optional (unknown keys are ignored). */
	assert_str_eq(fmt("{'event_type':'flow_lookup','flow':0,'sf_acts':0,'ufid':[0,0,0,0],"
			  "'n_mask_hit':0,'n_cache_hit':0,'extra':1}",
			  true),
		      "flow miss mask 0 cache 0");
}

/* -------------------------------------------------------------------------
 * Collector: can_run, init.
 */

static bool ovs_loaded(void)
{
	return retisc_kernel__module_loaded("openvswitch") ||
	       retisc_btf__has_type("struct", "sw_flow");
}

static void test_can_run(void **state)
{
	struct retisc_collector *col = retisc_registry__collector_by_name(reg, "ovs");
	struct retisc_collect_env env = {.tracking_mode = RETISC_TRACKING_TRACEPOINT};
	char reason[256] = "";

	(void)state;
	assert_int_equal(col->can_run(col->priv, &env, reason, sizeof(reason)), -EOPNOTSUPP);
	assert_str_eq(reason, "kprobes are not available on this kernel (needed by the ovs "
			      "collector)");
	/* With kprobes, this machine's kernel without openvswitch. */
	if (ovs_loaded())
		skip();
	env.tracking_mode = RETISC_TRACKING_KPROBE;
	assert_int_equal(col->can_run(col->priv, &env, reason, sizeof(reason)), -ENOENT);
	assert_str_eq(reason, "Kernel module 'openvswitch' is not loaded");
	/* init() finds no datapath parameter to read. */
	plug_setup(NULL);
	assert_int_equal(col->init(col->priv, &env), -ENOENT);
	assert_log_has("ovs: no 'struct dp_upcall_info *' parameter in tp:ovs_dp_upcall");
}

/* -------------------------------------------------------------------------
 * doc/events.md §7's OVS examples, whole events rendered.
 */

#define EX_DATA                                                                                    \
	"+ly9jswBpsIRcVlFCABFAABUo/lAAEABG0nAqH0KwKh9CwgAQFpxTAAB7f3ZZwAAAACzHw0AAAAAABAREhMUFRYX" \
	"GBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc="

static char *render(const struct retisc_json *ev, bool multiline)
{
	static struct retisc_strbuf out = RETISC_STRBUF_INIT;
	struct retisc_render_opts o = {.multiline = multiline};
	struct retisc_renderer r;

	retisc_renderer__init(&r, reg, &o);
	retisc_strbuf__reset(&out);
	assert_int_equal(retisc_renderer__event(&r, ev, 0, NULL, &out), 0);
	return (char *)retisc_strbuf__str(&out);
}

static void test_examples(void **state)
{
	struct retisc_json *ev = parse(dq(
		"{'common':{'timestamp':30419169125909,'smp_id':6,'task':{'pid':11330,'tgid':11330,"
		"'comm':'ping'}},'kernel':{'symbol':'ovs_dp_upcall','probe_type':'kretprobe'},"
		"'skb-tracking':{'orig_head':18446619372617628672,'timestamp':30419169061793,"
		"'skb':18446619372874141952},'packet':{'len':98,'capture_len':98,'data':'" EX_DATA
		"'},'skb':{'meta':{'len':98,'data_len':0,'hash':2116835702,'ip_summed':0,"
		"'csum':2770033380,'csum_level':0,'priority':0},'data_ref':{'nohdr':false,"
		"'cloned':false,'fclone':0,'users':1,'dataref':1}},'netns':{'cookie':1,"
		"'inum':4026531840},'dev':{'name':'veth-ns01-ovs','ifindex':10,'rx_ifindex':10},"
		"'ovs':{'event_type':'upcall_return','upcall_ts':30419169098548,'upcall_cpu':6,"
		"'ret':0}}"));

	(void)state;
	/* Example 2. */
	assert_str_eq(render(ev, true),
		      "30419169125909 (6) [ping] 11330 [kr] ovs_dp_upcall "
		      "#1baa83c42ba1ffff8e95c3b67c00 (skb ffff8e95d3009100)\n"
		      "  192.168.125.10 > 192.168.125.11 tos 0x0 ttl 64 id 41977 off 0 [DF] "
		      "len 84 proto ICMP (1) type 8 code 0\n"
		      "  ns 0x1/4026531840 if 10 (veth-ns01-ovs) rxif 10\n"
		      "  skb [csum none hash 0x7e2c5976 len 98 priority 0 users 1 dataref 1]\n"
		      "  upcall_ret (6/30419169098548) ret 0");
	retisc_json__free(ev);
	/* Example 4: a handler thread (pid != tgid). */
	ev = parse(dq(
		"{'common':{'timestamp':30419169314440,'smp_id':6,'task':{'pid':985,'tgid':995,"
		"'comm':'handler8'}},'kernel':{'symbol':'openvswitch:ovs_do_execute_action',"
		"'probe_type':'raw_tracepoint'},'skb-tracking':{'orig_head':18446619377637402112,"
		"'timestamp':30419169307121,'skb':18446619372874141952},'packet':{'len':98,"
		"'capture_len':98,'data':'" EX_DATA "'},'skb':{'meta':{'len':98,'data_len':0,"
		"'hash':2116835702,'ip_summed':0,'csum':0,'csum_level':0,'priority':0},'data_ref':"
		"{'nohdr':false,'cloned':false,'fclone':0,'users':1,'dataref':1}},'netns':{'cookie'"
		":"
		"1,'inum':4026531840},'dev':{'name':'veth-ns01-ovs','ifindex':10},'ovs':{"
		"'event_type':'action_execute','action':'output','port':4,'recirc_id':0}}"));
	assert_str_eq(
		render(ev, true),
		"30419169314440 (6) [handler8] 985/995 [tp] openvswitch:ovs_do_execute_action "
		"#1baa83c7e9f1ffff8e96eeea2600 (skb ffff8e95d3009100)\n"
		"  192.168.125.10 > 192.168.125.11 tos 0x0 ttl 64 id 41977 off 0 [DF] "
		"len 84 proto ICMP (1) type 8 code 0\n"
		"  ns 0x1/4026531840 if 10 (veth-ns01-ovs)\n"
		"  skb [csum none hash 0x7e2c5976 len 98 priority 0 users 1 dataref 1]\n"
		"  exec oport 4");
	assert_str_eq(
		render(ev, false),
		"30419169314440 (6) [handler8] 985/995 [tp] openvswitch:ovs_do_execute_action "
		"#1baa83c7e9f1ffff8e96eeea2600 (skb ffff8e95d3009100) 192.168.125.10 > "
		"192.168.125.11 tos 0x0 ttl 64 id 41977 off 0 [DF] len 84 proto ICMP (1) "
		"type 8 code 0 ns 0x1/4026531840 if 10 (veth-ns01-ovs) skb [csum none hash "
		"0x7e2c5976 len 98 priority 0 users 1 dataref 1] exec oport 4");
	retisc_json__free(ev);
	/* An enriched flow lookup: the flows 6 columns in, and the
	 * ovs-detrace internal event (doc/events.md §5). */
	ev = parse(dq("{'common':{'timestamp':400,'smp_id':0,'task':{'pid':0,'tgid':0,'comm':"
		      "'swapper/0'}},'kernel':{'symbol':'ovs_flow_tbl_lookup_stats','probe_type':"
		      "'kretprobe'},'ovs':{'event_type':'flow_lookup','flow':17,'sf_acts':18,"
		      "'ufid':[1,2,3,4],'n_mask_hit':1,'n_cache_hit':0,'dpflow':'in_port(2), "
		      "actions:3','ofpflows':['table=0 actions=NORMAL','table=1 actions=3']}}"));
	assert_str_eq(render(ev, true), "400 (0) [swapper/0] 0 [kr] ovs_flow_tbl_lookup_stats\n"
					"  flow hit ufid 00000001-0000-0002-0000-000300000004 mask "
					"1 cache 0 flow 11 sf_acts 12\n"
					"  odpflow in_port(2), actions:3\n"
					"  openflow\n"
					"      table=0 actions=NORMAL\n"
					"      table=1 actions=3");
	retisc_json__free(ev);
	ev = parse(dq("{'common':{'timestamp':405},'ovs-detrace':{'ufid':[1,2,3,4],'flow':17,"
		      "'sf_acts':18,'dpflow':'in_port(2), actions:3','ofpflows':['table=0 "
		      "actions=NORMAL','table=1 actions=3']}}"));
	assert_str_eq(render(ev, true), "405\n"
					"  ufid:00000001-0000-0002-0000-000300000004 in_port(2), "
					"actions:3\n"
					"  openflow:table=0 actions=NORMAL\n"
					"      table=1 actions=3");
	retisc_json__free(ev);
}

/* -------------------------------------------------------------------------
 * The queue id (doc/collectors.md §8.4).
 */

static uint8_t seq(size_t i)
{
	return (uint8_t)i;
}

static void test_jhash(void **state)
{
	static const char four[] = "Four score and seven years ago";
	/* jhash(0..n-1, n, 0): every tail length and one full block past it,
	 * computed from the kernel's jhash() definition (include/linux/
	 * jhash.h) transcribed on its own, which also gives lookup3's
	 * published vectors below. */
	static const struct {
		uint32_t n, hash;
	} tails[] = {
		{1, 0x8ba9414b},  {4, 0xe4cf1d42},  {11, 0x2ca6817a},
		{12, 0x5e4aa593}, {13, 0xbc9d6816}, {25, 0x3a882244},
	};
	uint8_t buf[64], pkt[98];
	size_t n;

	(void)state;
	/* Bob Jenkins' lookup3.c driver values: jhash is hashlittle(). */
	assert_int_equal(retisc_jhash((const uint8_t *)"", 0, 0), 0xdeadbeef);
	assert_int_equal(retisc_jhash((const uint8_t *)"", 0, 0xdeadbeef), 0xbd5b7dde);
	assert_int_equal(retisc_jhash((const uint8_t *)four, 30, 0), 0x17770551);
	assert_int_equal(retisc_jhash((const uint8_t *)four, 30, 1), 0xcd628161);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = seq(i);
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++)
		assert_int_equal(retisc_jhash(buf, tails[i].n, 0), tails[i].hash);
	/* Queue ids: 64 bytes, fewer (zero-padded), more (cut). */
	assert_int_equal(retisc_ovs_queue_id(buf, 64), 0x9ff036cc);
	assert_int_equal(retisc_ovs_queue_id(buf, 42), 0x200b5c29);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(retisc_ovs_queue_id(buf, 64), 0xd086904f);
	assert_int_equal(retisc_ovs_queue_id(buf, 0), 0xd086904f);
	/* doc/events.md §7's ICMP echo request (98 bytes). */
	n = retisc_base64__decode(EX_DATA, strlen(EX_DATA), pkt, sizeof(pkt));
	assert_int_equal(n, 98);
	assert_int_equal(retisc_ovs_queue_id(pkt, 98), 2053834575U);
}

/* -------------------------------------------------------------------------
 * A Retis file of OVS events: print and sort (the processors as `retisc
 * print` and `retisc sort` run them, every built plugin loaded).
 */

static void expect_file(const struct pt_run *r, const char *name)
{
	char *want = fixture_read(name);

	assert_non_null(want);
	assert_int_equal(r->status, 0);
	assert_str_eq(r->out, want);
	free(want);
}

static void test_print_file(void **state)
{
	struct pt_run r;

	(void)state;
	pt_run(&r, "print", fixture("ovs-retis.json"));
	expect_file(&r, "expected/ovs-print-multi.txt");
	pt_free(&r);
	pt_run(&r, "print", "--format", "single-line", fixture("ovs-retis.json"));
	expect_file(&r, "expected/ovs-print-single.txt");
	pt_free(&r);
}

/* sort: the upcall's series (upcall, enqueue, return, then ovs-vswitchd's
 * events by queue id, then the re-injected packet's actions), and the flow
 * lookup enriched by the later ovs-detrace event. */
static void test_sort_file(void **state)
{
	struct pt_run r;

	(void)state;
	pt_run(&r, "sort", fixture("ovs-retis.json"));
	expect_file(&r, "expected/ovs-sort-multi.txt");
	pt_free(&r);
}

int main(void)
{
	const struct CMUnitTest plug_tests[] = {
		cmocka_unit_test(test_registration), cmocka_unit_test(test_upcalls),
		cmocka_unit_test(test_actions),	     cmocka_unit_test(test_ct),
		cmocka_unit_test(test_flow_lookup),  cmocka_unit_test(test_detrace),
		cmocka_unit_test(test_malformed),    cmocka_unit_test(test_format_errors),
		cmocka_unit_test(test_can_run),	     cmocka_unit_test(test_examples),
		cmocka_unit_test(test_jhash),
	};
	const struct CMUnitTest proc_tests[] = {
		cmocka_unit_test(test_print_file),
		cmocka_unit_test(test_sort_file),
	};
	int fails = cmocka_run_group_tests(plug_tests, group_setup, group_teardown);

	return fails + cmocka_run_group_tests(proc_tests, pt_group_setup, pt_group_teardown);
}
