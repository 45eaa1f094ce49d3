// SPDX-License-Identifier: GPL-2.0-only
/*
 * nft collector (doc/collectors.md §7): which nftables rule, chain policy
 * or return decided each step of a packet. Two paths, chosen by what the
 * kernel allows:
 *
 *  - kprobe path (kprobe tracking mode, Retis's way; the VM lane runs it):
 *    a kprobe on __nft_trace_packet. The kernel calls it only while some
 *    rule sets `meta nftrace`: with --allow-system-changes the collector
 *    adds such a rule in a table of its own, whose chain has no hook, and
 *    removes it on every exit path (§7.1-§7.6);
 *  - netlink path (no kprobes, as on the project's own machines; Retis has
 *    no equivalent): nf_tables' trace messages, matched to the packets'
 *    BPF events by content and emitted as events of their own (§7.7,
 *    nft_int.h and the nft_*.c files).
 */
#include <errno.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include <nftables/libnftables.h>

#include <retisc/base64.h>
#include <retisc/event.h>
#include <retisc/plugin.h>
#include <retisc/plugin_util.h>

#include "nft.h"
#include "nft_int.h"

#include "plugins/nft/nft_hook.skel.h"

#define NFT_TABLE "retisc_table"
#define NFT_CHAIN "retisc_chain"
#define NFT_PROBE "__nft_trace_packet"

/* Retis's nft_event layout (doc/collectors.md §7.4): raw sections are the same. */
_Static_assert(sizeof(struct retisc_raw_nft) == 424, "nft raw section size");
_Static_assert(offsetof(struct retisc_raw_nft, verdict) == 256, "verdict offset");
_Static_assert(offsetof(struct retisc_raw_nft, t_handle) == 392, "t_handle offset");
_Static_assert(offsetof(struct retisc_raw_nft, policy) == 416, "policy offset");

static const struct retisc_api *api;

static struct {
	/* Rodata of the hook, written by init() (plugin.h: valid while loaded). */
	__u64 verdicts;
	struct retisc_nft_args args;
	bool table_added;
	struct retisc_nft_guard *guard; /* doc/collectors.md §7.8 */
	/* The netlink path (doc/collectors.md §7.7), from init() to stop(). */
	bool netlink, listening;
	struct retisc_nft_filter filter;
	struct retisc_nft_matcher *matcher;
	struct retisc_nft_nl *nl;
} st;

/* -------------------------------------------------------------------------
 * Verdicts (doc/collectors.md §7.3, doc/events.md §4.13).
 */

/* --nft-verdicts LIST into the hook's bit mask. */
static int verdicts_parse(const char *const *values, __u64 *mask)
{
	*mask = values ? 0 : RETISC_NFT_VERDICTS_DEFAULT;
	for (; values && *values; values++) {
		size_t i;

		if (!strcmp(*values, "all")) {
			*mask = RETISC_NFT_VERDICTS_ALL;
			continue;
		}
		/* Names of codes -5 .. 4: bit = code + 5 (stop has no bit). */
		for (i = 0; i < RETISC_NFT_VERDICT_BITS; i++)
			if (!strcmp(*values, retisc_nft_verdict_name((uint32_t)((int)i - 5))))
				break;
		if (i == RETISC_NFT_VERDICT_BITS) {
			api->log(RETISC_LOG_ERROR,
				 "invalid value '%s' for '--nft-verdicts' (all, continue, break, "
				 "jump, goto, return, drop, accept, stolen, queue, repeat)",
				 *values);
			return -EINVAL;
		}
		*mask |= 1ULL << i;
	}
	return 0;
}

/* -------------------------------------------------------------------------
 * Decoding and text (doc/events.md §4.13).
 */

/* A NUL-terminated string of a fixed field, invalid UTF-8 replaced. */
static struct retisc_json *name_json(const char *field, size_t sz)
{
	size_t n = strnlen(field, sz);

	if (n == sz) {
		api->log(RETISC_LOG_WARN, "nft: String is not NULL terminated");
		return NULL;
	}
	return api->json_new_str_lossy(field, n);
}

static int decode(void *priv, struct retisc_json *event, uint8_t type, const void *data,
		  size_t size)
{
	struct retisc_raw_nft r;
	struct retisc_json *sec, *t, *c, *vc = NULL;
	const char *verdict;
	int err;

	(void)priv;
	if (type != RETISC_NFT_TYPE_EVENT || size < sizeof(r) || api->json_obj_get(event, "nft"))
		return -EINVAL;
	memcpy(&r, data, sizeof(r));
	t = name_json(r.table_name, sizeof(r.table_name));
	c = name_json(r.chain_name, sizeof(r.chain_name));
	verdict = retisc_nft_verdict_name(r.verdict);
	if ((!strcmp(verdict, "jump") || !strcmp(verdict, "goto")) && r.verdict_chain_name[0])
		vc = name_json(r.verdict_chain_name, sizeof(r.verdict_chain_name));
	sec = api->json_new_object();
	if (!t || !c || !sec) {
		api->json_free(t);
		api->json_free(c);
		api->json_free(vc);
		api->json_free(sec);
		return -EINVAL;
	}
	err = api->json_obj_set(sec, "table_name", t);
	err = err ?: api->json_obj_set(sec, "chain_name", c);
	err = err ?: retisc_api__put(api, sec, "verdict", api->json_new_str(verdict));
	if (vc)
		err = err ?: api->json_obj_set(sec, "verdict_chain_name", vc);
	err = err ?: retisc_api__put(api, sec, "table_handle", api->json_new_i64(r.t_handle));
	err = err ?: retisc_api__put(api, sec, "chain_handle", api->json_new_i64(r.c_handle));
	if (r.r_handle != -1)
		err = err
			      ?: retisc_api__put(api, sec, "rule_handle",
						 api->json_new_i64(r.r_handle));
	err = err ?: retisc_api__put_bool(api, sec, "policy", r.policy == 1);
	return retisc_api__put_section(api, event, "nft", sec, err);
}

static int format(void *priv, const struct retisc_json *sec, const struct retisc_fmt *f)
{
	const char *table = retisc_api__get_str(api, sec, "table_name", NULL);
	const char *chain = retisc_api__get_str(api, sec, "chain_name", NULL);
	const char *verdict = retisc_api__get_str(api, sec, "verdict", NULL);
	const char *vchain = retisc_api__get_str(api, sec, "verdict_chain_name", NULL);
	const struct retisc_json *rule = api->json_obj_get(sec, "rule_handle");
	const char *match = retisc_api__get_str(api, sec, "match", NULL);
	uint64_t trace_id;
	int64_t th, ch, rh;
	bool policy = false;
	size_t start = f->out->len;
	int err;

	(void)priv;
	if (!table || !chain || !verdict ||
	    !api->json_get_i64(api->json_obj_get(sec, "table_handle"), &th) ||
	    !api->json_get_i64(api->json_obj_get(sec, "chain_handle"), &ch) ||
	    (rule && !api->json_get_i64(rule, &rh)))
		return -EINVAL;
	retisc_api__get_bool(api, sec, "policy", &policy);
	err = retisc_strbuf__printf(f->out, "table %s (%lld) chain %s (%lld)", table, (long long)th,
				    chain, (long long)ch);
	if (!err && rule)
		err = retisc_strbuf__printf(f->out, " handle %lld", (long long)rh);
	err = err ?: retisc_strbuf__printf(f->out, " %s", verdict);
	if (!err && policy)
		err = retisc_strbuf__puts(f->out, " (policy)");
	if (!err && vchain)
		err = retisc_strbuf__printf(f->out, " chain %s", vchain);
	/* retisc's netlink path (doc/events.md §4.13): where the event came
	 * from. Sections of the kprobe path and of Retis have no trace id. */
	if (!err && retisc_api__get_u64(api, sec, "trace_id", &trace_id))
		err = retisc_strbuf__printf(
			f->out, " (trace %#010llx, %s)", (unsigned long long)trace_id,
			match && !strcmp(match, "content") ? "matched by content" : "unmatched");
	if (err)
		retisc_strbuf__truncate(f->out, start);
	return err;
}

/* -------------------------------------------------------------------------
 * The trace table (doc/collectors.md §7.2).
 */

/* Run nft commands through libnftables, output and errors kept quiet. */
static int nft_run(const char *cmds, bool report)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	int ret;

	if (!nft)
		return -ENOMEM;
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	ret = nft_run_cmd_from_buffer(nft, cmds);
	if (ret && report) {
		const char *e = nft_ctx_get_error_buffer(nft);

		api->log(RETISC_LOG_ERROR, "nft: %.*s", (int)strcspn(e ?: "", "\n"), e ?: "");
	}
	nft_ctx_free(nft);
	return ret ? -EIO : 0;
}

static int table_add(void)
{
	static const char *const own_ns[] = {""};
	int err;

	/* Removes the table if retisc dies without stop() (doc/collectors.md
	 * §7.8): started first, so that the table is never unguarded. */
	retisc_nft_guard__start(&st.guard, api, NFT_TABLE, own_ns, 1);
	/* A table a killed run left behind is replaced. */
	nft_run("delete table inet " NFT_TABLE, false);
	err = nft_run("add table inet " NFT_TABLE "\n"
		      "add chain inet " NFT_TABLE " " NFT_CHAIN "\n"
		      "insert rule inet " NFT_TABLE " " NFT_CHAIN " meta nftrace set 1\n",
		      true);
	if (err) {
		api->log(RETISC_LOG_ERROR, "nft: cannot add the trace table inet " NFT_TABLE);
		retisc_nft_guard__release(st.guard);
		st.guard = NULL;
		return err;
	}
	st.table_added = true;
	return 0;
}

static void table_del(void)
{
	if (!st.table_added)
		return;
	st.table_added = false;
	if (nft_run("delete table inet " NFT_TABLE, true))
		api->log(RETISC_LOG_ERROR,
			 "Unable to delete " NFT_TABLE ". To remove the table, please run: nft "
			 "delete table inet " NFT_TABLE);
	retisc_nft_guard__release(st.guard);
	st.guard = NULL;
}

/* -------------------------------------------------------------------------
 * Collector.
 */

/* -------------------------------------------------------------------------
 * The netlink path (doc/collectors.md §7.7).
 */

/* A trace message became an event (nft_match.c decided it). */
static void emit(void *priv, const struct retisc_nft_trace *t, const struct retisc_nft_seen *m,
		 uint64_t ts)
{
	struct retisc_json *ev = retisc_nft_event__new(api, t, m, ts);
	int err;

	(void)priv;
	err = ev ? api->event_emit(ev) : -ENOMEM;
	if (err)
		api->log(RETISC_LOG_DEBUG, "nft: an event of a trace message is lost: %s",
			 strerror(-err));
}

/*
 * What the matcher needs of a packet's BPF event: its content key (from
 * the packet section), its tracking id and whether the skb-drop collector
 * says nftables dropped it. false when it lacks the packet or the id.
 */
static bool event_packet(const struct retisc_json *ev, struct retisc_nft_seen *s)
{
	const struct retisc_json *trk = api->json_obj_get(ev, "skb-tracking");
	const struct retisc_json *drop = api->json_obj_get(ev, "skb-drop");
	const char *data = retisc_api__get_str(api, api->json_obj_get(ev, "packet"), "data", NULL);
	const char *reason = retisc_api__get_str(api, drop, "drop_reason", NULL);
	/* Enough for Ethernet, two VLAN tags, IPv6 with extension headers and
	 * the first transport bytes: the rest is never part of a key. A
	 * multiple of 3, so that a cut encoding has no padding. */
	uint8_t frame[129];
	size_t len = data ? strlen(data) : 0;
	ssize_t n;

	memset(s, 0, sizeof(*s));
	if (!data || !retisc_api__get_u64(api, trk, "orig_head", &s->orig_head) ||
	    !retisc_api__get_u64(api, trk, "timestamp", &s->first_ts) ||
	    !retisc_api__get_u64(api, trk, "skb", &s->skb))
		return false;
	if (len > retisc_base64__encoded_len(sizeof(frame)))
		len = retisc_base64__encoded_len(sizeof(frame));
	n = retisc_base64__decode(data, len, frame, sizeof(frame));
	if (n <= 0 || retisc_nft_key__from_frame(&s->key, frame, (size_t)n))
		return false;
	s->nf_drop =
		reason && !strcmp(reason, "NETFILTER_DROP") && !api->json_obj_get(drop, "subsys");
	return true;
}

/* Every BPF event, bus thread (plugin.h, on_event). */
static void on_event(void *priv, const struct retisc_json *ev)
{
	struct retisc_nft_seen s;
	uint64_t ts;
	bool pkt;

	(void)priv;
	if (!st.netlink ||
	    !retisc_api__get_u64(api, api->json_obj_get(ev, "common"), "timestamp", &ts))
		return;
	pkt = event_packet(ev, &s);
	s.ts = ts;
	/* Every message the kernel sent before this event is read first. */
	retisc_nft_nl__sync(st.nl, ts);
	retisc_nft_matcher__on_event(st.matcher, ts, pkt ? &s : NULL);
}

/* Only the netlink path matches messages to events (plugin.h). */
static bool on_event_needed(void *priv)
{
	(void)priv;
	return st.netlink;
}

static void netlink_cleanup(void)
{
	retisc_nft_nl__free(st.nl);
	st.nl = NULL;
	retisc_nft_matcher__free(st.matcher);
	st.matcher = NULL;
	retisc_nft_filter__release(&st.filter);
	st.netlink = st.listening = false;
}

static int netlink_init(const struct retisc_collect_env *env)
{
	const char *const *expr = api->env_option(env, "filter-packet");
	struct retisc_nft_nl_cfg cfg = {
		.api = api,
		.system_changes = api->env_fact(env, RETISC_ENV_SYSTEM_CHANGES) == 1,
		.verdicts = st.verdicts,
		.filter = &st.filter,
	};
	struct retisc_nft_match_cfg mcfg;
	struct retisc_nft_nl_stats ns;
	char why[512];
	int err;

	/* The core compiles -f too and reports a bad expression itself. */
	if (expr && expr[0] && retisc_nft_filter__compile(&st.filter, expr[0], why, sizeof(why)))
		api->log(RETISC_LOG_DEBUG, "nft: -f not applied to trace messages: %s", why);
	retisc_nft_match_cfg__default(&mcfg);
	st.matcher = retisc_nft_matcher__new(&mcfg, emit, NULL);
	if (!st.matcher) {
		err = -errno;
		goto fail;
	}
	cfg.matcher = st.matcher;
	if (!cfg.system_changes)
		api->log(RETISC_LOG_INFO,
			 "nft: no trace table added (see help for --allow-system-changes): nft "
			 "events are reported only for packets that a rule of yours marks with "
			 "`meta nftrace set 1`");
	st.nl = retisc_nft_nl__new(&cfg);
	if (!st.nl) {
		err = -errno;
		goto fail;
	}
	st.netlink = true;
	retisc_nft_nl__stats(st.nl, &ns);
	api->log(RETISC_LOG_INFO,
		 "nft: kprobes unavailable, reading nf_tables trace messages in %u network "
		 "namespace(s)%s",
		 ns.n_ns,
		 cfg.system_changes ? " (trace table inet " RETISC_NFT_TRACE_TABLE " added)" : "");
	return 0;
fail:
	netlink_cleanup();
	return err;
}

static void netlink_stop(void)
{
	struct retisc_nft_match_stats ms;
	struct retisc_nft_nl_stats ns;

	/* Messages still queued are read, then every pending one decided
	 * (emitted before the core's last drain, plugin.h). */
	retisc_nft_nl__stop(st.nl);
	retisc_nft_matcher__flush(st.matcher);
	retisc_nft_nl__stats(st.nl, &ns);
	retisc_nft_matcher__stats(st.matcher, &ms);
	/* A start-up failure: nothing was read. */
	if (st.listening)
		api->log(
			RETISC_LOG_INFO,
			"nft: %llu trace message(s) read, %llu event(s): %llu matched by content "
			"(%llu placed before their skb-drop), %llu unmatched; left out: %llu about "
			"table " RETISC_NFT_TRACE_TABLE
			", %llu by -f, %llu by --nft-verdicts; %llu "
			"socket overrun(s)",
			(unsigned long long)ns.received,
			(unsigned long long)(ms.matched + ms.unmatched),
			(unsigned long long)ms.matched, (unsigned long long)ms.drop_placed,
			(unsigned long long)ms.unmatched, (unsigned long long)ns.own,
			(unsigned long long)ns.filtered, (unsigned long long)ns.verdicts,
			(unsigned long long)ns.lost);
	netlink_cleanup();
}

/* -------------------------------------------------------------------------
 * Collector.
 */

/* doc/collectors.md §7.6, §7.7. */
/* doc/collectors.md §7.6. */
static int can_run(void *priv, const struct retisc_collect_env *env, char *reason, size_t reason_sz)
{
	int i;

	(void)priv;
	if (!api->env_fact(env, RETISC_ENV_KPROBES)) {
		if (!RETISC_API_HAS(api, event_emit)) {
			snprintf(reason, reason_sz,
				 "kprobes are not available on this kernel (needed for " NFT_PROBE
				 ")");
			return -EOPNOTSUPP;
		}
		return retisc_nft_nl__probe(reason, reason_sz);
	}
	i = api->btf_param_index(NFT_PROBE, "struct nft_traceinfo *");
	if (i >= 0)
		return 0;
	if (!retisc_kernel__module_loaded("nf_tables") &&
	    !api->env_has_btf_type(env, "struct", "nft_chain"))
		snprintf(reason, reason_sz, "Kernel module 'nf_tables' is not loaded");
	else
		snprintf(reason, reason_sz,
			 "Could not resolve nft kernel symbol: 'nf_tables' kernel module is likely "
			 "not built-in or loaded (%s)",
			 strerror(-i));
	return -ENOENT;
}

static int init(void *priv, const struct retisc_collect_env *env)
{
	int err;

	(void)priv;
	err = verdicts_parse(api->env_option(env, "nft-verdicts"), &st.verdicts);
	if (err)
		return err;
	if (!api->env_fact(env, RETISC_ENV_KPROBES))
		return netlink_init(env);
	/* Parameters by type: __nft_trace_packet's changed in 6.4. */
	st.args.info = (__s8)api->btf_param_index(NFT_PROBE, "struct nft_traceinfo *");
	st.args.chain = (__s8)api->btf_param_index(NFT_PROBE, "struct nft_chain *");
	st.args.rule = (__s8)api->btf_param_index(NFT_PROBE, "struct nft_rule_dp *");
	st.args.verdict = (__s8)api->btf_param_index(NFT_PROBE, "struct nft_verdict *");
	st.args.type = (__s8)api->btf_param_index(NFT_PROBE, "enum nft_trace_types");
	/* Negative errnos mean "absent" to the hook, as -1 does. */
	if (st.args.info < 0)
		return -ENOENT;
	if (!api->env_fact(env, RETISC_ENV_SYSTEM_CHANGES)) {
		api->log(RETISC_LOG_INFO,
			 "If an nft trace rule wasn't manually added nft events won't be "
			 "reported: see help for --allow-system-changes");
		return 0;
	}
	return table_add();
}

/* The netlink path listens from here: events flow (plugin.h). */
static int start(void *priv)
{
	int err;

	(void)priv;
	if (!st.netlink)
		return 0;
	err = retisc_nft_nl__start(st.nl);
	st.listening = !err;
	return err;
}

/* Every exit path after init() (the core calls stop() for each collector
 * whose init() succeeded). */
static void stop(void *priv)
{
	(void)priv;
	if (st.netlink)
		netlink_stop();
	table_del();
}

static const char *const known_types[] = {"struct nft_traceinfo *", NULL};

static const struct retisc_collector_opt opts[] = {
	{
		.name = "nft-verdicts",
		.arg = "LIST",
		.help = "nft verdicts to report (comma-separated): all, continue, break,\n"
			"jump, goto, return, drop, accept, stolen, queue, repeat (default\n"
			"drop,accept; stolen verdicts may be missed with -f)",
		.flags = RETISC_OPT_LIST,
	},
};

static int plugin_init(struct retisc_plugin *plugin, const struct retisc_api *a)
{
	static const struct retisc_hook_rodata rodata[] = {
		{.name = "retisc_nft_verdicts", .value = &st.verdicts, .size = sizeof(st.verdicts)},
		{.name = "retisc_nft_args", .value = &st.args, .size = sizeof(st.args)},
	};
	struct retisc_section_desc sec = {
		.sz = sizeof(sec),
		.key = "nft",
		.rank = 130,
		.owner = RETISC_OWNER_NFT,
		.place = RETISC_PLACE_BODY,
		.decode = decode,
		.format = format,
	};
	struct retisc_hook_desc hook = {
		.sz = sizeof(hook),
		.name = "nft_hook",
		.target = "kprobe:" NFT_PROBE,
		.rodata = rodata,
		.n_rodata = sizeof(rodata) / sizeof(rodata[0]),
	};
	struct retisc_collector_desc col = {
		.sz = sizeof(col),
		.name = "nft",
		.known_types = known_types,
		.hooks = &hook,
		.n_hooks = 1,
		.order = 50,
		.can_run = can_run,
		.init = init,
		.start = start,
		.stop = stop,
		.opts = opts,
		.n_opts = sizeof(opts) / sizeof(opts[0]),
		.on_event = on_event,
		.on_event_needed = on_event_needed,
	};

	api = a;
	if (!RETISC_API_HAS(a, env_fact) || !RETISC_API_HAS(a, btf_param_index))
		return -EOPNOTSUPP;
	st.verdicts = RETISC_NFT_VERDICTS_DEFAULT;
	st.args = (struct retisc_nft_args){-1, -1, -1, -1, -1, {0}};
	hook.obj = nft_hook__elf_bytes(&hook.obj_sz);
	return retisc_plugin__register_collector(plugin, a, &sec, 1, &col);
}

static void plugin_fini(struct retisc_plugin *plugin)
{
	(void)plugin;
	table_del();
	netlink_cleanup();
}

static const struct retisc_plugin_desc desc = {
	.sz = sizeof(desc),
	.abi_version = RETISC_ABI_VERSION,
	.name = "nft",
	.version = "0.1.0",
	.init = plugin_init,
	.fini = plugin_fini,
};

RETISC_PLUGIN_DEFINE(desc)
