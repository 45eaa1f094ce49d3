// SPDX-License-Identifier: GPL-2.0-only
/*
 * nft collector (doc/collectors.md §7): which nftables rule, chain policy
 * or return decided each step of a packet, from a kprobe on
 * __nft_trace_packet. The kernel calls it only while some rule sets
 * `meta nftrace`: with --allow-system-changes the collector adds such a
 * rule in a table of its own, whose chain has no hook, and removes it on
 * every exit path.
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

#include <retisc/event.h>
#include <retisc/plugin.h>
#include <retisc/plugin_util.h>

#include "nft.h"

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
} st;

/* -------------------------------------------------------------------------
 * Verdicts (doc/collectors.md §7.3, doc/events.md §4.13).
 */

static const char *const verdict_names[] = {
	"return", "goto",   "jump",   "break", "continue",	   /* -5 .. -1 */
	"drop",	  "accept", "stolen", "queue", "repeat",   "stop", /* 0 .. 5 */
};

/* The name of a verdict code; queue numbers and errnos in the upper bits
 * of a non-negative code are not part of it (NF_VERDICT_MASK). */
static const char *verdict_name(uint32_t raw)
{
	int32_t v = (int32_t)raw;

	if (v >= 0)
		v &= 0xff;
	if (v < -5 || v > 5)
		return "unknown";
	return verdict_names[v + 5];
}

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
			if (!strcmp(*values, verdict_names[i]))
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
	verdict = verdict_name(r.verdict);
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
	int err;

	/* A table a killed run left behind is replaced. */
	nft_run("delete table inet " NFT_TABLE, false);
	err = nft_run("add table inet " NFT_TABLE "\n"
		      "add chain inet " NFT_TABLE " " NFT_CHAIN "\n"
		      "insert rule inet " NFT_TABLE " " NFT_CHAIN " meta nftrace set 1\n",
		      true);
	if (err) {
		api->log(RETISC_LOG_ERROR, "nft: cannot add the trace table inet " NFT_TABLE);
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
}

/* -------------------------------------------------------------------------
 * Collector.
 */

/* doc/collectors.md §7.6. */
static int can_run(void *priv, const struct retisc_collect_env *env, char *reason, size_t reason_sz)
{
	int i;

	(void)priv;
	if (!api->env_fact(env, RETISC_ENV_KPROBES)) {
		snprintf(reason, reason_sz,
			 "kprobes are not available on this kernel (needed for " NFT_PROBE ")");
		return -EOPNOTSUPP;
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

/* Every exit path after init() (the core calls stop() for each collector
 * whose init() succeeded). */
static void stop(void *priv)
{
	(void)priv;
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
		.stop = stop,
		.opts = opts,
		.n_opts = sizeof(opts) / sizeof(opts[0]),
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
