/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The running kernel's types (doc/architecture.md §11): the BTF of vmlinux
 * and the split BTF of every loaded module (/sys/kernel/btf/<module>, whose
 * ids continue vmlinux's). Everything that reads kernel types goes through
 * here: probe resolution (function and tracepoint parameters, doc/cli.md
 * §3.2), inspect, the meta filter's casts, and collectors through the API
 * (enum names, parameter types).
 *
 * Loaded on first use, kept until retisc_btf__release(); the modules are
 * those loaded at that moment. Thread-safe. Returned struct btf pointers are
 * borrowed: valid until retisc_btf__release().
 */
#ifndef __RETISC_BTF_INFO_H
#define __RETISC_BTF_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct btf;

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
	/* The module whose BTF describes the target, "" for vmlinux. */
	char module[64];
};

/* vmlinux's BTF, NULL (errno set) without kernel BTF. */
struct btf *retisc_btf__vmlinux(void);
/* The loaded modules with BTF; module i's BTF and, if name, its name. */
size_t retisc_btf__n_modules(void);
struct btf *retisc_btf__module(size_t i, const char **name);
/*
 * A type named name of BTF kind kind (BTF_KIND_*; BTF_KIND_ENUM also finds
 * 64-bit enums): vmlinux first, then the modules in /sys/kernel/btf order.
 * module: NULL for anywhere, "vmlinux", or a module's name. Returns its id
 * and sets *btf (and *mod_name, NULL for vmlinux, when not NULL); -ENOENT,
 * or -ENODATA without kernel BTF.
 */
int retisc_btf__find(const char *name, int kind, const char *module, struct btf **btf,
		     const char **mod_name);

/* Prototype of a kernel function (kprobes): 0, -ENOENT, -ENODATA (no BTF). */
int retisc_btf__func_proto(const char *func, struct retisc_btf_proto *out);
/* Prototype of a tracepoint's raw arguments (btf_trace_<event> minus the
 * leading void *): 0, -ENOENT, -ENODATA. */
int retisc_btf__tp_proto(const char *event, struct retisc_btf_proto *out);
/* Index of the first parameter of type `type` (spelled as in
 * retisc_btf_proto.types) of target, "tp:EVENT" or a function name:
 * >= 0, -ENOENT (no such target), -ESRCH (no such parameter), -ENODATA. */
int retisc_btf__param_index(const char *target, const char *type);
/* Does a type exist? kind: "struct", "union", "enum", "typedef", "func". */
bool retisc_btf__has_type(const char *kind, const char *name);
/* Name of an enum value: 0, -ENOENT, -ENODATA. */
int retisc_btf__enum_name(const char *enum_name, int64_t value, char *buf, size_t buf_sz);
/*
 * Every member of enum enum_name (32 or 64 bits, signedness from BTF), in
 * declaration order, from the first BTF that has it (module as for
 * retisc_btf__find). Stops when fn returns non-zero and returns that;
 * otherwise 0, -ENOENT, -ENODATA.
 */
int retisc_btf__enum_for_each(const char *enum_name, const char *module,
			      int (*fn)(const char *name, int64_t value, void *priv), void *priv);
/* Tracepoint events (btf_trace_*) and functions known to BTF, vmlinux's
 * then each module's, for wildcard matching: calls fn for each name; stops
 * if fn returns non-zero and returns that. */
int retisc_btf__for_each_tp(int (*fn)(const char *event, void *priv), void *priv);
int retisc_btf__for_each_func(int (*fn)(const char *func, void *priv), void *priv);
/* Release the cached BTF. */
void retisc_btf__release(void);

#endif
