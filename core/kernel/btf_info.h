/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the running kernel's BTF says about probe targets: the parameters of
 * functions and tracepoints (doc/cli.md §3.2, doc/collectors.md §1.2) and enum value
 * names (drop reasons). The vmlinux BTF is loaded once and cached.
 */
#ifndef __RETISC_BTF_INFO_H
#define __RETISC_BTF_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <retisc/plugin.h>

#define RETISC_BTF_MAX_PARAMS 12

/* Argument slots the core tracks (ctx.h retisc_probe_cfg). */
enum retisc_arg_kind {
	RETISC_ARG_SKB = 0,	  /* struct sk_buff * */
	RETISC_ARG_DROP_REASON,	  /* one of the four drop-reason enums */
	RETISC_ARG_NETDEV,	  /* struct net_device * */
	RETISC_ARG_NET,		  /* struct net * */
	RETISC_ARG_NFT_PKTINFO,	  /* struct nft_pktinfo * */
	RETISC_ARG_NFT_TRACEINFO, /* struct nft_traceinfo * */
	RETISC_ARG_KINDS,
};

struct retisc_btf_proto {
	unsigned int nparams;
	/* C spelling of each parameter type, e.g. "struct sk_buff *". */
	char types[RETISC_BTF_MAX_PARAMS][64];
	/* Index of the first parameter of each kind, -1 if none. */
	int arg[RETISC_ARG_KINDS];
};

/* Prototype of a kernel function (kprobes): 0, -ENOENT, -ENODATA (no BTF). */
int retisc_btf__func_proto(const char *func, struct retisc_btf_proto *out);
/* Prototype of a tracepoint's raw arguments (btf_trace_<event> minus the
 * leading void *): 0, -ENOENT. */
int retisc_btf__tp_proto(const char *event, struct retisc_btf_proto *out);
/* Does a type exist? kind: "struct", "union", "enum", "typedef", "func". */
bool retisc_btf__has_type(const char *kind, const char *name);
/* Name of an enum value: 0, -ENOENT. */
int retisc_btf__enum_name(const char *enum_name, int64_t value, char *buf, size_t buf_sz);
/* Iterate tracepoint events known to BTF (btf_trace_*), for wildcard
 * matching without tracefs: calls fn for each event name; stops if fn
 * returns non-zero and returns that. */
int retisc_btf__for_each_tp(int (*fn)(const char *event, void *priv), void *priv);
int retisc_btf__for_each_func(int (*fn)(const char *func, void *priv), void *priv);
/* Release the cached BTF. */
void retisc_btf__release(void);

/* The collect environment given to collectors (plugin.h). */
struct retisc_collect_env {
	/* Collector options: name -> NULL-terminated values. */
	size_t n_opts;
	struct {
		char *name;
		char **values;
	} * opts;
	int tracking_mode;
};
bool retisc_collect_env__has_btf_type(const struct retisc_collect_env *env, const char *kind,
				      const char *name);
const char *const *retisc_collect_env__option(const struct retisc_collect_env *env,
					      const char *name);

#endif
