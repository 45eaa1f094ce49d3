// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovs collector (doc/collectors.md §8): packets through the Open vSwitch
 * kernel datapath, from hooks on the openvswitch module's tracepoints,
 * kprobes and kretprobes (upcalls, flow lookups, actions). Decodes the raw
 * sections into the `ovs` section and renders it and Retis's `ovs-detrace`
 * section (doc/events.md §4.11, §4.12).
 *
 * --ovs-track (§8.5) adds the enqueue kretprobe and USDT hooks on the
 * single ovs-vswitchd process, found in init(), which also decides which
 * hooks the collection has (their targets, plugin.h): the USDT side runs
 * alone where the kernel side cannot. --ovs-enrich-flows (§8.9) is
 * ovs_enrich.c.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include <retisc/event.h>
#include <retisc/inet_fmt.h>
#include <retisc/plugin.h>
#include <retisc/plugin_util.h>
#include <retisc/usdt_note.h>

#include "ovs.h"
#include "ovs_enrich.h"

#include "plugins/ovs/ovs_action_hook.skel.h"
#include "plugins/ovs/ovs_enqueue_hook.skel.h"
#include "plugins/ovs/ovs_exec_hook.skel.h"
#include "plugins/ovs/ovs_exec_ret_hook.skel.h"
#include "plugins/ovs/ovs_lookup_hook.skel.h"
#include "plugins/ovs/ovs_op_exec_hook.skel.h"
#include "plugins/ovs/ovs_op_put_hook.skel.h"
#include "plugins/ovs/ovs_process_hook.skel.h"
#include "plugins/ovs/ovs_recv_hook.skel.h"
#include "plugins/ovs/ovs_upcall_hook.skel.h"
#include "plugins/ovs/ovs_upcall_ret_hook.skel.h"

/* Retis's layouts (doc/collectors.md §8.6): raw sections are the same. */
_Static_assert(sizeof(struct retisc_ovs_upcall) == 12, "upcall size");
_Static_assert(offsetof(struct retisc_ovs_upcall, cmd) == 8, "upcall cmd");
_Static_assert(sizeof(struct retisc_ovs_upcall_enqueue) == 32, "enqueue size");
_Static_assert(offsetof(struct retisc_ovs_upcall_enqueue, ret) == 20, "enqueue ret");
_Static_assert(offsetof(struct retisc_ovs_upcall_enqueue, cmd) == 24, "enqueue cmd");
_Static_assert(sizeof(struct retisc_ovs_upcall_return) == 16, "upcall return size");
_Static_assert(sizeof(struct retisc_ovs_recv_upcall) == 32, "recv upcall size");
_Static_assert(offsetof(struct retisc_ovs_recv_upcall, batch_idx) == 28, "recv batch_idx");
_Static_assert(sizeof(struct retisc_ovs_operation) == 16, "operation size");
_Static_assert(offsetof(struct retisc_ovs_operation, type) == 13, "operation type");
_Static_assert(sizeof(struct retisc_ovs_action) == 8, "action size");
_Static_assert(sizeof(struct retisc_ovs_ct) == 44, "ct size");
_Static_assert(offsetof(struct retisc_ovs_ct, flags) == 32, "ct flags");
_Static_assert(offsetof(struct retisc_ovs_ct, max_port) == 40, "ct max_port");
_Static_assert(sizeof(struct retisc_ovs_flow_lookup) == 40, "flow lookup size");
_Static_assert(offsetof(struct retisc_ovs_flow_lookup, n_cache_hit) == 36, "flow n_cache_hit");

#define OVS_TP_UPCALL "ovs_dp_upcall"
#define OVS_TP_ACTION "ovs_do_execute_action"
#define OVS_LOOKUP "ovs_flow_tbl_lookup_stats"

static const struct retisc_api *api;

static struct {
	/* Rodata of the hooks, written by init() (plugin.h: valid while loaded). */
	struct retisc_ovs_args args;
	__u8 track; /* RETISC_OVS_TRACK_* */
	struct retisc_ovs_handlers handlers;
} st;

/* -------------------------------------------------------------------------
 * Action tags (doc/events.md §4.11).
 */

/* The tags of enum ovs_action_attr, by uapi value: what a kernel whose BTF
 * does not describe the enum numbers them (the ids are uapi). */
static const char *const uapi_tags[] = {
	NULL,	    "output",	     "userspace", "set",     "push_vlan",
	"pop_vlan", "sample",	     "recirc",	  "hash",    "push_mpls",
	"pop_mpls", "set_masked",    "ct",	  "trunc",   "push_eth",
	"pop_eth",  "ct_clear",	     "push_nsh",  "pop_nsh", "meter",
	"clone",    "check_pkt_len", "add_mpls",  "dec_ttl", "drop",
};
#define N_UAPI_TAGS (sizeof(uapi_tags) / sizeof(uapi_tags[0]))

/* Action ids of the running kernel, read once from its BTF (bus thread). */
static struct {
	bool loaded, from_btf;
	char tag[256][24]; /* "" when the kernel's enum has no such value */
	bool warned[256];  /* one warning per unknown id */
} acts;

static bool tag_known(const char *tag)
{
	for (size_t i = 1; i < N_UAPI_TAGS; i++)
		if (!strcmp(tag, uapi_tags[i]))
			return true;
	return false;
}

static int act_name(const char *name, int64_t value, void *priv)
{
	static const char prefix[] = "OVS_ACTION_ATTR_";
	char *tag;
	size_t i;

	(void)priv;
	if (value < 0 || value > 255 || strncmp(name, prefix, sizeof(prefix) - 1))
		return 0;
	name += sizeof(prefix) - 1;
	tag = acts.tag[value];
	/* The kernel's own action for set with a mask (uapi's set_masked). */
	if (!strcmp(name, "SET_TO_MASKED"))
		name = "SET_MASKED";
	for (i = 0; name[i] && i < sizeof(acts.tag[0]) - 1; i++)
		tag[i] = (char)tolower((unsigned char)name[i]);
	tag[i] = '\0';
	return 0;
}

/* The tag of action id, NULL for none (UNSPEC) or an unknown id. */
static const char *action_tag(uint8_t id)
{
	const char *tag = NULL;

	if (!acts.loaded) {
		acts.loaded = true;
		acts.from_btf = RETISC_API_HAS(api, btf_enum_for_each) &&
				!api->btf_enum_for_each("ovs_action_attr", NULL, act_name, NULL);
	}
	if (acts.from_btf)
		tag = acts.tag[id][0] ? acts.tag[id] : NULL;
	else if (id < N_UAPI_TAGS)
		tag = uapi_tags[id];
	if (id == 0 || (tag && tag_known(tag)))
		return tag && id ? tag : NULL;
	if (!acts.warned[id]) {
		acts.warned[id] = true;
		api->log(RETISC_LOG_WARN,
			 "ovs: unsupported action id %u (%s): events without action", id,
			 tag ? tag : "not in the kernel's enum ovs_action_attr");
	}
	return NULL;
}

/* -------------------------------------------------------------------------
 * Decoding (doc/collectors.md §8.7).
 */

/* A JSON array of the UFID's four words. */
static struct retisc_json *ufid_json(const __u32 ufid[4])
{
	struct retisc_json *a = api->json_new_array();
	int err = a ? 0 : -ENOMEM;

	for (int i = 0; i < 4 && !err; i++)
		err = api->json_arr_append(a, api->json_new_u64(ufid[i]));
	if (err) {
		api->json_free(a);
		return NULL;
	}
	return a;
}

/* The object of a main section: {"event_type": type}. */
static struct retisc_json *ovs_new(const char *type)
{
	struct retisc_json *o = api->json_new_object();

	if (o && retisc_api__put(api, o, "event_type", api->json_new_str(type))) {
		api->json_free(o);
		return NULL;
	}
	return o;
}

#define PUT_U64(o, k, v) retisc_api__put_u64(api, o, k, v)
#define PUT_I64(o, k, v) retisc_api__put(api, o, k, api->json_new_i64(v))

static int decode_main(uint8_t type, const void *data, size_t size, struct retisc_json **out)
{
	struct retisc_json *o = NULL;
	int err = -EINVAL;

	switch (type) {
	case RETISC_OVS_TYPE_UPCALL: {
		struct retisc_ovs_upcall r;

		if (size < sizeof(r))
			break;
		memcpy(&r, data, sizeof(r));
		o = ovs_new("upcall");
		err = o ? 0 : -ENOMEM;
		err = err ?: PUT_U64(o, "cmd", r.cmd);
		err = err ?: PUT_U64(o, "port", r.port);
		err = err ?: PUT_U64(o, "cpu", r.cpu);
		break;
	}
	case RETISC_OVS_TYPE_UPCALL_ENQUEUE: {
		struct retisc_ovs_upcall_enqueue r;

		if (size < sizeof(r))
			break;
		memcpy(&r, data, sizeof(r));
		o = ovs_new("upcall_enqueue");
		err = o ? 0 : -ENOMEM;
		err = err ?: PUT_I64(o, "ret", r.ret);
		err = err ?: PUT_U64(o, "cmd", r.cmd);
		err = err ?: PUT_U64(o, "port", r.port);
		err = err ?: PUT_U64(o, "upcall_ts", r.upcall_ts);
		err = err ?: PUT_U64(o, "upcall_cpu", r.upcall_cpu);
		err = err ?: PUT_U64(o, "queue_id", r.queue_id);
		break;
	}
	case RETISC_OVS_TYPE_UPCALL_RETURN: {
		struct retisc_ovs_upcall_return r;

		if (size < sizeof(r))
			break;
		memcpy(&r, data, sizeof(r));
		o = ovs_new("upcall_return");
		err = o ? 0 : -ENOMEM;
		err = err ?: PUT_U64(o, "upcall_ts", r.upcall_ts);
		err = err ?: PUT_U64(o, "upcall_cpu", r.upcall_cpu);
		err = err ?: PUT_I64(o, "ret", r.ret);
		break;
	}
	case RETISC_OVS_TYPE_RECV_UPCALL: {
		struct retisc_ovs_recv_upcall r;

		if (size < sizeof(r))
			break;
		memcpy(&r, data, sizeof(r));
		o = ovs_new("recv_upcall");
		err = o ? 0 : -ENOMEM;
		err = err ?: PUT_U64(o, "type", r.type);
		err = err ?: PUT_U64(o, "pkt_size", r.pkt_size);
		err = err ?: PUT_U64(o, "key_size", r.key_size);
		err = err ?: PUT_U64(o, "queue_id", r.queue_id);
		err = err ?: PUT_U64(o, "batch_ts", r.batch_ts);
		err = err ?: PUT_U64(o, "batch_idx", r.batch_idx);
		break;
	}
	case RETISC_OVS_TYPE_OPERATION: {
		struct retisc_ovs_operation r;

		if (size < sizeof(r))
			break;
		memcpy(&r, data, sizeof(r));
		if (r.type != RETISC_OVS_OP_EXEC && r.type != RETISC_OVS_OP_PUT) {
			api->log(RETISC_LOG_WARN, "ovs: Unknown operation type %u", r.type);
			break;
		}
		o = ovs_new("flow_operation");
		err = o ? 0 : -ENOMEM;
		err = err
			      ?: retisc_api__put(api, o, "op_type",
						 api->json_new_str(r.type == RETISC_OVS_OP_PUT
									   ? "put"
									   : "exec"));
		err = err ?: PUT_U64(o, "queue_id", r.queue_id);
		err = err ?: PUT_U64(o, "batch_ts", r.batch_ts);
		err = err ?: PUT_U64(o, "batch_idx", r.batch_idx);
		break;
	}
	case RETISC_OVS_TYPE_ACTION: {
		struct retisc_ovs_action r;
		const char *tag;

		if (size < sizeof(r))
			break;
		memcpy(&r, data, sizeof(r));
		tag = action_tag(r.action);
		o = ovs_new("action_execute");
		err = o ? 0 : -ENOMEM;
		if (tag)
			err = err ?: retisc_api__put(api, o, "action", api->json_new_str(tag));
		err = err ?: PUT_U64(o, "recirc_id", r.recirc_id);
		break;
	}
	case RETISC_OVS_TYPE_FLOW_LOOKUP: {
		struct retisc_ovs_flow_lookup r;

		if (size < sizeof(r))
			break;
		memcpy(&r, data, sizeof(r));
		o = ovs_new("flow_lookup");
		err = o ? 0 : -ENOMEM;
		err = err ?: PUT_U64(o, "flow", r.flow);
		err = err ?: PUT_U64(o, "sf_acts", r.sf_acts);
		err = err ?: retisc_api__put(api, o, "ufid", ufid_json(r.ufid));
		err = err ?: PUT_U64(o, "n_mask_hit", r.n_mask_hit);
		err = err ?: PUT_U64(o, "n_cache_hit", r.n_cache_hit);
		/* Filled by sort from ovs-detrace events (doc/processing.md §2.5). */
		err = err ?: retisc_api__put(api, o, "dpflow", api->json_new_str(""));
		err = err ?: retisc_api__put(api, o, "ofpflows", api->json_new_array());
		break;
	}
	}
	if (err) {
		api->json_free(o);
		return err;
	}
	*out = o;
	return 0;
}

/* Position of key in obj, or the object's length. */
static size_t key_pos(const struct retisc_json *obj, const char *key)
{
	size_t n = api->json_obj_len(obj), i;

	for (i = 0; i < n; i++)
		if (!strcmp(api->json_obj_key(obj, i), key))
			break;
	return i;
}

/* ct's nat object (flags: RETISC_OVS_CT_*); NULL in *out when not NAT. */
static int ct_nat(const struct retisc_ovs_ct *r, struct retisc_json **out)
{
	struct retisc_json *nat;
	int err = 0;

	*out = NULL;
	if (!(r->flags & RETISC_OVS_CT_NAT))
		return 0;
	nat = api->json_new_object();
	if (!nat)
		return -ENOMEM;
	if (r->flags & RETISC_OVS_CT_NAT_SRC)
		err = retisc_api__put(api, nat, "dir", api->json_new_str("src"));
	else if (r->flags & RETISC_OVS_CT_NAT_DST)
		err = retisc_api__put(api, nat, "dir", api->json_new_str("dst"));
	if (!err && (r->flags & RETISC_OVS_CT_RANGE_MAP_IPS)) {
		char min[RETISC_INET6_STRLEN], max[RETISC_INET6_STRLEN];

		if (r->flags & RETISC_OVS_CT_IP4) {
			retisc_inet__ntop4(min, r->min);
			retisc_inet__ntop4(max, r->max);
		} else if (r->flags & RETISC_OVS_CT_IP6) {
			retisc_inet__ntop6(min, r->min);
			retisc_inet__ntop6(max, r->max);
		} else {
			api->log(RETISC_LOG_WARN, "ovs: Unknown ct address family");
			err = -EINVAL;
		}
		err = err ?: retisc_api__put(api, nat, "min_addr", api->json_new_str(min));
		err = err ?: retisc_api__put(api, nat, "max_addr", api->json_new_str(max));
	}
	if (!err && (r->flags & RETISC_OVS_CT_RANGE_PROTO_SPECIFIED)) {
		err = PUT_U64(nat, "min_port", ntohs(r->min_port));
		err = err ?: PUT_U64(nat, "max_port", ntohs(r->max_port));
	}
	if (err) {
		api->json_free(nat);
		return err;
	}
	*out = nat;
	return 0;
}

/* Sections 6-10: data of the action_execute event's action. */
static int decode_action_data(struct retisc_json *ovs, uint8_t type, const void *data, size_t size)
{
	static const char *const want[] = {
		[RETISC_OVS_TYPE_OUTPUT] = "output",
		[RETISC_OVS_TYPE_RECIRC] = "recirc",
		[RETISC_OVS_TYPE_CT] = "ct",
		[RETISC_OVS_TYPE_DROP] = "drop",
	};
	const char *et = retisc_api__get_str(api, ovs, "event_type", NULL);
	const char *action = retisc_api__get_str(api, ovs, "action", NULL);
	struct retisc_json *v[3] = {NULL, NULL, NULL};
	const char *keys[3] = {NULL, NULL, NULL};
	size_t pos;
	__u32 u;
	int err = 0;

	if (!et || strcmp(et, "action_execute")) {
		api->log(RETISC_LOG_WARN, "ovs: received action data without action");
		return -EINVAL;
	}
	if (type == RETISC_OVS_TYPE_ACTION_TRACK) {
		if (size < sizeof(u) || api->json_obj_get(ovs, "queue_id"))
			return -EINVAL;
		memcpy(&u, data, sizeof(u));
		return PUT_U64(ovs, "queue_id", u);
	}
	if (!action || strcmp(action, want[type])) {
		api->log(RETISC_LOG_WARN, "ovs: %s action data for action %s", want[type],
			 action ? action : "(none)");
		return -EINVAL;
	}
	if (type == RETISC_OVS_TYPE_CT) {
		struct retisc_ovs_ct r;

		if (size < sizeof(r))
			return -EINVAL;
		memcpy(&r, data, sizeof(r));
		keys[0] = "flags";
		v[0] = api->json_new_u64(r.flags);
		keys[1] = "zone_id";
		v[1] = api->json_new_u64(r.zone_id);
		keys[2] = "nat";
		err = !v[0] || !v[1] ? -ENOMEM : ct_nat(&r, &v[2]);
	} else {
		if (size < sizeof(u))
			return -EINVAL;
		memcpy(&u, data, sizeof(u));
		keys[0] = type == RETISC_OVS_TYPE_OUTPUT   ? "port"
			  : type == RETISC_OVS_TYPE_RECIRC ? "id"
							   : "reason";
		v[0] = api->json_new_u64(u);
		err = v[0] ? 0 : -ENOMEM;
	}
	if (!err && api->json_obj_get(ovs, keys[0]))
		err = -EINVAL; /* the action's data twice */
	/* The action's keys follow it (doc/events.md §4.11). */
	pos = key_pos(ovs, "action") + 1;
	for (int i = 0; i < 3; i++) {
		if (!err && v[i])
			err = api->json_obj_insert(ovs, pos++, keys[i], v[i]);
		else
			api->json_free(v[i]);
		v[i] = NULL;
	}
	return err;
}

static int decode(void *priv, struct retisc_json *event, uint8_t type, const void *data,
		  size_t size)
{
	struct retisc_json *ovs = api->json_obj_get(event, "ovs"), *o;
	int err;

	(void)priv;
	if (type >= RETISC_OVS_TYPE_ACTION_TRACK && type <= RETISC_OVS_TYPE_DROP) {
		if (!ovs) {
			api->log(RETISC_LOG_WARN, "ovs: received action data without action");
			return -EINVAL;
		}
		return decode_action_data(ovs, type, data, size);
	}
	if (type > RETISC_OVS_TYPE_FLOW_LOOKUP)
		return -EINVAL;
	if (ovs) {
		api->log(RETISC_LOG_WARN, "ovs: Conflicting OVS event types (%s and type %u)",
			 retisc_api__get_str(api, ovs, "event_type", NULL) ?: "?", type);
		return -EINVAL;
	}
	err = decode_main(type, data, size, &o);
	if (err)
		return err;
	return api->json_obj_set(event, "ovs", o);
}

/* -------------------------------------------------------------------------
 * Text (doc/events.md §4.11, §4.12).
 */

static bool get_u(const struct retisc_json *o, const char *k, uint64_t *v)
{
	return retisc_api__get_u64(api, o, k, v);
}

static bool get_i(const struct retisc_json *o, const char *k, int64_t *v)
{
	return api->json_get_i64(api->json_obj_get(o, k), v);
}

static const char *cmd_text(uint64_t cmd)
{
	static const char *const t[] = {" (unspec)", " (miss)", " (action)", " (exec)"};

	return cmd < 4 ? t[cmd] : "";
}

/* The UFID as OVS writes it. */
static int ufid_text(struct retisc_strbuf *out, const struct retisc_json *ufid)
{
	uint64_t u[4];

	if (api->json_arr_len(ufid) != 4)
		return -EINVAL;
	for (size_t i = 0; i < 4; i++)
		if (!api->json_get_u64(api->json_arr_get(ufid, i), &u[i]) || u[i] > UINT32_MAX)
			return -EINVAL;
	return retisc_strbuf__printf(out, "%08x-%04x-%04x-%04x-%04x%08x", (unsigned)u[0],
				     (unsigned)(u[1] >> 16), (unsigned)(u[1] & 0xffff),
				     (unsigned)(u[2] >> 16), (unsigned)(u[2] & 0xffff),
				     (unsigned)u[3]);
}

/* ct's text: zone, NAT, flags. */
static int ct_text(const struct retisc_json *o, struct retisc_strbuf *out)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} fl[] = {
		{RETISC_OVS_CT_COMMIT, "commit"},
		{RETISC_OVS_CT_FORCE, "force"},
		{RETISC_OVS_CT_RANGE_PERSISTENT, "persistent"},
		{RETISC_OVS_CT_RANGE_PROTO_RANDOM, "hash"},
		{RETISC_OVS_CT_RANGE_PROTO_RANDOM_FULLY, "random"},
	};
	const struct retisc_json *nat = api->json_obj_get(o, "nat");
	uint64_t flags, zone, pmin, pmax;
	const char *sep = " ";
	int err;

	if (!get_u(o, "flags", &flags) || !get_u(o, "zone_id", &zone))
		return -EINVAL;
	err = retisc_strbuf__printf(out, " ct zone %llu", (unsigned long long)zone);
	if (!err && nat) {
		const char *dir = retisc_api__get_str(api, nat, "dir", NULL);
		const char *amin = retisc_api__get_str(api, nat, "min_addr", NULL);
		const char *amax = retisc_api__get_str(api, nat, "max_addr", NULL);

		err = retisc_strbuf__puts(out, " nat");
		if (!err && dir) {
			err = retisc_strbuf__printf(out, "(%s", dir);
			if (!err && (flags & RETISC_OVS_CT_RANGE_MAP_IPS) && amin && amax)
				err = strcmp(amin, amax)
					      ? retisc_strbuf__printf(out, "=%s-%s", amin, amax)
					      : retisc_strbuf__printf(out, "=%s", amin);
			if (!err && (flags & RETISC_OVS_CT_RANGE_PROTO_SPECIFIED) &&
			    get_u(nat, "min_port", &pmin) && get_u(nat, "max_port", &pmax))
				err = pmin != pmax
					      ? retisc_strbuf__printf(out, ":%llu-%llu",
								      (unsigned long long)pmin,
								      (unsigned long long)pmax)
					      : retisc_strbuf__printf(out, ":%llu",
								      (unsigned long long)pmin);
			err = err ?: retisc_strbuf__putc(out, ')');
		}
	}
	for (size_t i = 0; !err && i < sizeof(fl) / sizeof(fl[0]); i++) {
		if (!(flags & fl[i].bit))
			continue;
		err = retisc_strbuf__printf(out, "%s%s", sep, fl[i].name);
		sep = ",";
	}
	return err;
}

static int action_text(const struct retisc_json *o, struct retisc_strbuf *out)
{
	const char *action = retisc_api__get_str(api, o, "action", NULL);
	uint64_t recirc, v;
	int err = 0;

	if (!get_u(o, "recirc_id", &recirc))
		return -EINVAL;
	if (recirc)
		err = retisc_strbuf__printf(out, "[recirc_id %#llx] ", (unsigned long long)recirc);
	err = err ?: retisc_strbuf__puts(out, "exec");
	if (err)
		return err;
	if (!action) {
		err = retisc_strbuf__puts(out, " unspec");
	} else if (!strcmp(action, "output")) {
		err = get_u(o, "port", &v)
			      ? retisc_strbuf__printf(out, " oport %llu", (unsigned long long)v)
			      : -EINVAL;
	} else if (!strcmp(action, "recirc")) {
		err = get_u(o, "id", &v)
			      ? retisc_strbuf__printf(out, " recirc %#llx", (unsigned long long)v)
			      : -EINVAL;
	} else if (!strcmp(action, "ct")) {
		err = ct_text(o, out);
	} else if (!strcmp(action, "drop")) {
		err = get_u(o, "reason", &v)
			      ? retisc_strbuf__printf(out, " drop %llu", (unsigned long long)v)
			      : -EINVAL;
	} else {
		err = retisc_strbuf__printf(out, " %s",
					    !strcmp(action, "set") ? "tunnel_set" : action);
	}
	if (!err && get_u(o, "queue_id", &v))
		err = retisc_strbuf__printf(out, " q %llu", (unsigned long long)v);
	return err;
}

/* The OpenFlow flows of an enrichment: sep before the first, then each
 * further one on its own line 4 columns deeper (or after a space). */
static int ofpflows_text(const struct retisc_json *flows, const struct retisc_fmt *f,
			 const char *first_sep)
{
	size_t n = api->json_arr_len(flows);
	int err = 0;

	for (size_t i = 0; i < n && !err; i++) {
		const char *s = api->json_get_str(api->json_arr_get(flows, i), NULL);

		if (!s)
			return -EINVAL;
		err = retisc_strbuf__printf(f->out, "%s%s",
					    !i		   ? first_sep
					    : f->multiline ? "\n    "
							   : " ",
					    s);
	}
	return err;
}

static int flow_lookup_text(const struct retisc_json *o, const struct retisc_fmt *f)
{
	const struct retisc_json *ufid = api->json_obj_get(o, "ufid");
	const struct retisc_json *flows = api->json_obj_get(o, "ofpflows");
	const char *dpflow = retisc_api__get_str(api, o, "dpflow", NULL);
	uint64_t flow, acts, mask, cache;
	int err;

	if (!get_u(o, "flow", &flow) || !get_u(o, "sf_acts", &acts) ||
	    !get_u(o, "n_mask_hit", &mask) || !get_u(o, "n_cache_hit", &cache) || !ufid)
		return -EINVAL;
	if (!flow)
		return retisc_strbuf__printf(f->out, "flow miss mask %llu cache %llu",
					     (unsigned long long)mask, (unsigned long long)cache);
	err = retisc_strbuf__puts(f->out, "flow hit ufid ");
	err = err ?: ufid_text(f->out, ufid);
	err = err
		      ?: retisc_strbuf__printf(f->out,
					       " mask %llu cache %llu flow %llx sf_acts %llx",
					       (unsigned long long)mask, (unsigned long long)cache,
					       (unsigned long long)flow, (unsigned long long)acts);
	if (!err && dpflow && *dpflow)
		err = retisc_strbuf__printf(f->out, "%sodpflow %s", RETISC_FMT_SEP(f), dpflow);
	if (!err && flows && api->json_arr_len(flows))
		err = ofpflows_text(flows, f, f->multiline ? "\nopenflow\n    " : " openflow ");
	return err;
}

static int format(void *priv, const struct retisc_json *o, const struct retisc_fmt *f)
{
	const char *et = retisc_api__get_str(api, o, "event_type", NULL);
	size_t start = f->out->len;
	uint64_t a, b, c;
	int64_t ret;
	int err;

	(void)priv;
	if (!et)
		return -EINVAL;
	if (!strcmp(et, "upcall")) {
		err = get_u(o, "cmd", &a) && get_u(o, "port", &b) && get_u(o, "cpu", &c)
			      ? retisc_strbuf__printf(f->out, "upcall%s port %llu cpu %llu",
						      cmd_text(a), (unsigned long long)b,
						      (unsigned long long)c)
			      : -EINVAL;
	} else if (!strcmp(et, "upcall_enqueue")) {
		uint64_t q, cmd;

		err = get_u(o, "cmd", &cmd) && get_u(o, "upcall_cpu", &a) &&
				      get_u(o, "upcall_ts", &b) && get_u(o, "queue_id", &q) &&
				      get_i(o, "ret", &ret)
			      ? retisc_strbuf__printf(
					f->out, "upcall_enqueue%s (%llu/%llu) q %llu ret %lld",
					cmd_text(cmd), (unsigned long long)a, (unsigned long long)b,
					(unsigned long long)q, (long long)ret)
			      : -EINVAL;
	} else if (!strcmp(et, "upcall_return")) {
		err = get_u(o, "upcall_cpu", &a) && get_u(o, "upcall_ts", &b) &&
				      get_i(o, "ret", &ret)
			      ? retisc_strbuf__printf(f->out, "upcall_ret (%llu/%llu) ret %lld",
						      (unsigned long long)a, (unsigned long long)b,
						      (long long)ret)
			      : -EINVAL;
	} else if (!strcmp(et, "recv_upcall")) {
		err = get_u(o, "queue_id", &a) && get_u(o, "pkt_size", &b)
			      ? retisc_strbuf__printf(f->out, "upcall_recv q %llu pkt_size %llu",
						      (unsigned long long)a, (unsigned long long)b)
			      : -EINVAL;
	} else if (!strcmp(et, "flow_operation")) {
		const char *op = retisc_api__get_str(api, o, "op_type", NULL);

		err = op && get_u(o, "queue_id", &a) && get_u(o, "batch_ts", &b) &&
				      get_u(o, "batch_idx", &c)
			      ? retisc_strbuf__printf(f->out, "flow_%s q %llu ts %llu (%llu)", op,
						      (unsigned long long)a, (unsigned long long)b,
						      (unsigned long long)c)
			      : -EINVAL;
	} else if (!strcmp(et, "action_execute")) {
		err = action_text(o, f->out);
	} else if (!strcmp(et, "flow_lookup")) {
		err = flow_lookup_text(o, f);
	} else {
		err = -EINVAL;
	}
	if (err)
		retisc_strbuf__truncate(f->out, start);
	return err;
}

/* ovs-detrace (doc/events.md §4.12), an internal event of Retis's
 * --ovs-enrich-flows. */
static int format_detrace(void *priv, const struct retisc_json *o, const struct retisc_fmt *f)
{
	const struct retisc_json *ufid = api->json_obj_get(o, "ufid");
	const struct retisc_json *flows = api->json_obj_get(o, "ofpflows");
	const char *dpflow = retisc_api__get_str(api, o, "dpflow", NULL);
	size_t start = f->out->len;
	int err;

	(void)priv;
	if (!ufid || !dpflow || !flows)
		return -EINVAL;
	err = retisc_strbuf__puts(f->out, "ufid:");
	err = err ?: ufid_text(f->out, ufid);
	err = err
		      ?: retisc_strbuf__printf(f->out, " %s%s", dpflow,
					       f->multiline ? "\nopenflow:" : " openflow: ");
	err = err ?: ofpflows_text(flows, f, "");
	if (err)
		retisc_strbuf__truncate(f->out, start);
	return err;
}

/* -------------------------------------------------------------------------
 * Collector.
 */

/* The kernel side: kprobes and the openvswitch module's tracepoint. 0 or
 * -errno with the reason (doc/collectors.md §8.10). */
static int kernel_side(const struct retisc_collect_env *env, char *reason, size_t reason_sz)
{
	int i;

	if (!api->env_fact(env, RETISC_ENV_KPROBES)) {
		snprintf(reason, reason_sz,
			 "kprobes are not available on this kernel (needed by the ovs collector)");
		return -EOPNOTSUPP;
	}
	i = api->btf_param_index("tp:" OVS_TP_UPCALL, "struct dp_upcall_info *");
	if (i >= 0)
		return 0;
	if (!retisc_kernel__module_loaded("openvswitch") &&
	    !api->env_has_btf_type(env, "struct", "sw_flow"))
		snprintf(reason, reason_sz, "Kernel module 'openvswitch' is not loaded");
	else
		snprintf(reason, reason_sz,
			 "Could not resolve ovs kernel symbol: 'openvswitch' kernel module is "
			 "likely "
			 "not built-in or loaded (%s)",
			 strerror(-i));
	return -ENOENT;
}

/* doc/collectors.md §8.10: with --ovs-track, the USDT side runs alone
 * where the kernel side cannot (init() says what is left out). */
static int can_run(void *priv, const struct retisc_collect_env *env, char *reason, size_t reason_sz)
{
	int err = kernel_side(env, reason, reason_sz);

	(void)priv;
	return err && api->env_option(env, "ovs-track") ? 0 : err;
}

/* The parameter of target of type, into *idx; a negative errno, logged. */
static int param(const char *target, const char *type, __s8 *idx)
{
	int i = api->btf_param_index(target, type);

	if (i < 0) {
		api->log(RETISC_LOG_ERROR, "ovs: no '%s' parameter in %s (%s)", type, target,
			 strerror(-i));
		return i;
	}
	*idx = (__s8)i;
	return 0;
}

/* Hooks, in the order a packet meets them (doc/collectors.md §8.3, §8.5). */
enum {
	H_PROCESS,
	H_LOOKUP,
	H_UPCALL,
	H_ENQUEUE,
	H_UPCALL_RET,
	H_EXEC,
	H_ACTION,
	H_EXEC_RET,
	H_RECV,
	H_OP_PUT,
	H_OP_EXEC,
	N_HOOKS,
};

/* Targets of the kernel side's hooks; the USDT ones name the process. */
static const char *const kernel_targets[N_HOOKS] = {
	[H_PROCESS] = "kprobe:ovs_dp_process_packet",
	[H_LOOKUP] = "kretprobe:" OVS_LOOKUP,
	[H_UPCALL] = "tp:openvswitch:" OVS_TP_UPCALL,
	[H_ENQUEUE] = "kretprobe:queue_userspace_packet",
	[H_UPCALL_RET] = "kretprobe:ovs_dp_upcall",
	[H_EXEC] = "kprobe:ovs_execute_actions",
	[H_ACTION] = "tp:openvswitch:" OVS_TP_ACTION,
	[H_EXEC_RET] = "kretprobe:ovs_execute_actions",
};
static const char *const usdt_notes[N_HOOKS] = {
	[H_RECV] = "dpif_recv:recv_upcall",
	[H_OP_PUT] = "dpif_netlink_operate__:op_flow_put",
	[H_OP_EXEC] = "dpif_netlink_operate__:op_flow_execute",
};

/* The hooks' targets as the core reads them after init() (plugin.h): ""
 * leaves a hook out of the collection. */
static char targets[N_HOOKS][96];

static void targets_set(bool kernel, bool track, int pid)
{
	for (int i = 0; i < N_HOOKS; i++) {
		targets[i][0] = '\0';
		if (kernel_targets[i] && kernel && (i != H_ENQUEUE || track))
			snprintf(targets[i], sizeof(targets[i]), "%s", kernel_targets[i]);
		else if (usdt_notes[i] && track)
			snprintf(targets[i], sizeof(targets[i]), "usdt:%d:%s", pid, usdt_notes[i]);
	}
}

/* Read /proc/<dir>/<file>'s first line into buf; 0 or -errno. */
static int proc_line(const char *dir, const char *file, char *buf, size_t sz)
{
	char path[384];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/%s", dir, file);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(buf, (int)sz, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* The single process named ovs-vswitchd (doc/collectors.md §8.5). */
static int find_vswitchd(int *pid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char comm[32], stat[512], *paren;

		if (!isdigit((unsigned char)e->d_name[0]) ||
		    proc_line(e->d_name, "comm", comm, sizeof(comm)) ||
		    strcmp(comm, "ovs-vswitchd"))
			continue;
		/* An exited one that its parent has not reaped yet is not there. */
		if (!proc_line(e->d_name, "stat", stat, sizeof(stat)) &&
		    (paren = strrchr(stat, ')')) && paren[1] == ' ' && paren[2] == 'Z')
			continue;
		if (!n++)
			*pid = atoi(e->d_name);
	}
	closedir(d);
	if (!n) {
		api->log(RETISC_LOG_ERROR, "ovs: --ovs-track: Process not found (ovs-vswitchd)");
		return -ESRCH;
	}
	if (n > 1) {
		api->log(RETISC_LOG_ERROR,
			 "ovs: --ovs-track: Too many processes found (%d named ovs-vswitchd)", n);
		return -E2BIG;
	}
	return 0;
}

/* Its handler threads, the ones with an upcall batch (§8.5): those of
 * start-up only. */
static int list_handlers(int pid)
{
	char dir[64];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
	d = opendir(dir);
	if (!d) {
		api->log(RETISC_LOG_ERROR, "ovs: --ovs-track: cannot list %s: %s", dir,
			 strerror(errno));
		return -errno;
	}
	st.handlers.n = 0;
	while ((e = readdir(d))) {
		char sub[300], comm[32];

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(sub, sizeof(sub), "%d/task/%s", pid, e->d_name);
		if (proc_line(sub, "comm", comm, sizeof(comm)) || !strstr(comm, "handler"))
			continue;
		if (st.handlers.n == RETISC_OVS_MAX_HANDLERS) {
			api->log(RETISC_LOG_WARN,
				 "ovs: ovs-vswitchd has more than %d handler threads: the others' "
				 "flow operations are not reported",
				 RETISC_OVS_MAX_HANDLERS);
			break;
		}
		st.handlers.tid[st.handlers.n++] = (__u32)atoi(e->d_name);
	}
	closedir(d);
	if (!st.handlers.n)
		api->log(RETISC_LOG_WARN,
			 "ovs: ovs-vswitchd (pid %d) has no handler thread: "
			 "flow operations will not be reported",
			 pid);
	return 0;
}

/* --ovs-track's process and its USDT notes (doc/collectors.md §8.5). */
static int track_init(int *pid)
{
	char exe[64];
	int err;

	err = find_vswitchd(pid);
	if (err)
		return err;
	snprintf(exe, sizeof(exe), "/proc/%d/exe", *pid);
	err = retisc_usdt_has_note(exe, "main", "run_start");
	if (err <= 0) {
		api->log(RETISC_LOG_ERROR,
			 "ovs: Cannot find USDT probes in ovs-vswitchd. Was it built with "
			 "--enable-usdt-probes?%s%s",
			 err < 0 ? " " : "", err < 0 ? strerror(-err) : "");
		return err < 0 ? err : -ENOENT;
	}
	return list_handlers(*pid);
}

static int init(void *priv, const struct retisc_collect_env *env)
{
	bool track = api->env_option(env, "ovs-track") != NULL;
	char reason[256];
	bool kernel;
	int err, pid = 0;

	(void)priv;
	/* Without --ovs-track can_run() wants the kernel side: the parameter
	 * lookups below say what is missing. */
	kernel = !kernel_side(env, reason, sizeof(reason)) || !track;
	st.track = !track   ? RETISC_OVS_TRACK_OFF
		   : kernel ? RETISC_OVS_TRACK_ON
			    : RETISC_OVS_TRACK_USDT;
	st.handlers.n = 0;
	err = ovs_enrich__init(api, env);
	if (!err && track)
		err = track_init(&pid);
	if (err) {
		/* stop() is only called after a successful init(). */
		ovs_enrich__stop();
		return err;
	}
	if (!kernel)
		api->log(RETISC_LOG_WARN,
			 "ovs: %s: only ovs-vswitchd's side is traced (recv_upcall and "
			 "flow_operation events, every upcall it receives)",
			 reason);
	targets_set(kernel, track, pid);
	if (!kernel)
		return 0;
	/* Parameters by type: the hooks read nothing at a guessed position. */
	err = param("tp:" OVS_TP_UPCALL, "struct dp_upcall_info *", &st.args.upcall_info)
		      ?: param("tp:" OVS_TP_ACTION, "struct sw_flow_key *", &st.args.key)
		      ?: param("tp:" OVS_TP_ACTION, "struct nlattr *", &st.args.attr)
		      ?: param(OVS_LOOKUP, "u32 *", &st.args.n_mask_hit);
	if (!err && track)
		err = param("queue_userspace_packet", "struct dp_upcall_info *",
			    &st.args.enqueue_upcall_info);
	return err;
}

static int start(void *priv)
{
	(void)priv;
	return ovs_enrich__start();
}

static void stop(void *priv)
{
	(void)priv;
	ovs_enrich__stop();
}

static void on_event(void *priv, const struct retisc_json *event)
{
	(void)priv;
	ovs_enrich__on_event(event);
}

static const char *const known_types[] = {NULL};

static const struct retisc_collector_opt opts[] = {
	{
		.name = "ovs-track",
		.help = "follow upcalls through ovs-vswitchd (its USDT probes; built with\n"
			"--enable-usdt-probes) and link the packets it sends back",
	},
	{
		.name = "ovs-enrich-flows",
		.help = "ask ovs-vswitchd (unixctl socket) for the datapath and OpenFlow\n"
			"flows of each flow hit (ovs-detrace events)",
	},
	{
		.name = "ovs-enrich-rate",
		.arg = "N",
		.help = "at most N requests per second to ovs-vswitchd (default 20)",
	},
};

static int plugin_init(struct retisc_plugin *plugin, const struct retisc_api *a)
{
	static const struct retisc_hook_rodata rodata[] = {
		{.name = "retisc_ovs_args", .value = &st.args, .size = sizeof(st.args)},
		{.name = "retisc_ovs_track", .value = &st.track, .size = sizeof(st.track)},
	};
	static const struct retisc_hook_rodata usdt_rodata[] = {
		{.name = "retisc_ovs_args", .value = &st.args, .size = sizeof(st.args)},
		{.name = "retisc_ovs_track", .value = &st.track, .size = sizeof(st.track)},
		{.name = "retisc_ovs_handlers", .value = &st.handlers, .size = sizeof(st.handlers)},
	};
	const struct retisc_section_desc secs[] = {
		{
			.sz = sizeof(secs[0]),
			.key = "ovs",
			.rank = 110,
			.owner = RETISC_OWNER_OVS,
			.place = RETISC_PLACE_BODY,
			.decode = decode,
			.format = format,
		},
		{
			.sz = sizeof(secs[1]),
			.key = "ovs-detrace",
			.rank = 120,
			.owner = -1,
			.place = RETISC_PLACE_BODY,
			.format = format_detrace,
		},
	};
#define OVS_HOOK(i, n, fl, rd)                                                                     \
	[i] = {.sz = sizeof(struct retisc_hook_desc),                                              \
	       .name = #n,                                                                         \
	       .target = targets[i],                                                               \
	       .rodata = rd,                                                                       \
	       .n_rodata = sizeof(rd) / sizeof(rd[0]),                                             \
	       .flags = (fl),                                                                      \
	}
	struct retisc_hook_desc hooks[N_HOOKS] = {
		OVS_HOOK(H_PROCESS, ovs_process_hook, RETISC_HOOK_EXCLUSIVE, rodata),
		OVS_HOOK(H_LOOKUP, ovs_lookup_hook, RETISC_HOOK_STACK_SKB, rodata),
		OVS_HOOK(H_UPCALL, ovs_upcall_hook, 0, rodata),
		OVS_HOOK(H_ENQUEUE, ovs_enqueue_hook, 0, rodata),
		OVS_HOOK(H_UPCALL_RET, ovs_upcall_ret_hook, 0, rodata),
		OVS_HOOK(H_EXEC, ovs_exec_hook, RETISC_HOOK_EXCLUSIVE, rodata),
		OVS_HOOK(H_ACTION, ovs_action_hook, 0, rodata),
		OVS_HOOK(H_EXEC_RET, ovs_exec_ret_hook, RETISC_HOOK_EXCLUSIVE, rodata),
		OVS_HOOK(H_RECV, ovs_recv_hook, 0, usdt_rodata),
		OVS_HOOK(H_OP_PUT, ovs_op_put_hook, 0, usdt_rodata),
		OVS_HOOK(H_OP_EXEC, ovs_op_exec_hook, 0, usdt_rodata),
	};
#undef OVS_HOOK
	struct retisc_collector_desc col = {
		.sz = sizeof(col),
		.name = "ovs",
		.known_types = known_types,
		.hooks = hooks,
		.n_hooks = N_HOOKS,
		.order = 40,
		.can_run = can_run,
		.init = init,
		.start = start,
		.stop = stop,
		.opts = opts,
		.n_opts = sizeof(opts) / sizeof(opts[0]),
		.on_event = on_event,
	};

	api = a;
	if (!RETISC_API_HAS(a, env_fact) || !RETISC_API_HAS(a, btf_param_index))
		return -EOPNOTSUPP;
#define OVS_ELF(i, n) (hooks[i].obj = n##__elf_bytes(&hooks[i].obj_sz))
	OVS_ELF(H_PROCESS, ovs_process_hook);
	OVS_ELF(H_LOOKUP, ovs_lookup_hook);
	OVS_ELF(H_UPCALL, ovs_upcall_hook);
	OVS_ELF(H_ENQUEUE, ovs_enqueue_hook);
	OVS_ELF(H_UPCALL_RET, ovs_upcall_ret_hook);
	OVS_ELF(H_EXEC, ovs_exec_hook);
	OVS_ELF(H_ACTION, ovs_action_hook);
	OVS_ELF(H_EXEC_RET, ovs_exec_ret_hook);
	OVS_ELF(H_RECV, ovs_recv_hook);
	OVS_ELF(H_OP_PUT, ovs_op_put_hook);
	OVS_ELF(H_OP_EXEC, ovs_op_exec_hook);
#undef OVS_ELF
	st.args = (struct retisc_ovs_args){-1, -1, -1, -1, -1, {0}};
	/* Until init() says otherwise: the kernel side without --ovs-track. */
	targets_set(true, false, 0);
	return retisc_plugin__register_collector(plugin, a, secs, sizeof(secs) / sizeof(secs[0]),
						 &col);
}

static const struct retisc_plugin_desc desc = {
	.sz = sizeof(desc),
	.abi_version = RETISC_ABI_VERSION,
	.name = "ovs",
	.version = "0.2.0",
	.init = plugin_init,
};

RETISC_PLUGIN_DEFINE(desc)
