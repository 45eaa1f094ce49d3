// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "btf_info.h"
#include "util.h"

static struct btf *vmlinux_btf;
static pthread_mutex_t btf_lock = PTHREAD_MUTEX_INITIALIZER;

static struct btf *btf_get(void)
{
	pthread_mutex_lock(&btf_lock);
	if (!vmlinux_btf) {
		struct btf *b = btf__load_vmlinux_btf();

		if (!libbpf_get_error(b))
			vmlinux_btf = b;
	}
	pthread_mutex_unlock(&btf_lock);
	return vmlinux_btf;
}

void retisc_btf__release(void)
{
	pthread_mutex_lock(&btf_lock);
	btf__free(vmlinux_btf);
	vmlinux_btf = NULL;
	pthread_mutex_unlock(&btf_lock);
}

/* Spell a type as C would, const/volatile dropped: "struct sk_buff *". */
static void type_spell(const struct btf *btf, __u32 id, char *buf, size_t sz)
{
	int ptrs = 0;
	const struct btf_type *t;
	const char *kind = "", *name = "?";

	for (;;) {
		t = btf__type_by_id(btf, id);
		if (!t) {
			snprintf(buf, sz, "void%s", ptrs ? " *" : "");
			return;
		}
		if (btf_is_const(t) || btf_is_volatile(t) || btf_is_restrict(t) ||
		    btf_is_type_tag(t)) {
			id = t->type;
			continue;
		}
		if (btf_is_ptr(t)) {
			ptrs++;
			id = t->type;
			continue;
		}
		break;
	}
	if (btf_is_struct(t))
		kind = "struct ";
	else if (btf_is_union(t))
		kind = "union ";
	else if (btf_is_enum(t) || btf_kind(t) == BTF_KIND_ENUM64)
		kind = "enum ";
	if (t->name_off)
		name = btf__name_by_offset(btf, t->name_off);
	else if (btf_is_func_proto(t))
		name = "fn";
	snprintf(buf, sz, "%s%s%s%.*s", kind, name, ptrs ? " " : "", ptrs > 3 ? 3 : ptrs, "***");
}

static void proto_fill(const struct btf *btf, const struct btf_type *proto, unsigned int skip,
		       struct retisc_btf_proto *out)
{
	const struct btf_param *p = btf_params(proto);
	unsigned int n = btf_vlen(proto);

	memset(out, 0, sizeof(*out));
	for (int k = 0; k < RETISC_ARG_KINDS; k++)
		out->arg[k] = -1;
	for (unsigned int i = skip; i < n && out->nparams < RETISC_BTF_MAX_PARAMS; i++) {
		char *ty = out->types[out->nparams];
		int kind = -1;

		type_spell(btf, p[i].type, ty, sizeof(out->types[0]));
		if (!strcmp(ty, "struct sk_buff *"))
			kind = RETISC_ARG_SKB;
		else if (!strcmp(ty, "enum skb_drop_reason") ||
			 !strcmp(ty, "enum mac80211_drop_reason") ||
			 !strcmp(ty, "enum ovs_drop_reason") ||
			 !strcmp(ty, "enum qdisc_drop_reason"))
			kind = RETISC_ARG_DROP_REASON;
		else if (!strcmp(ty, "struct net_device *"))
			kind = RETISC_ARG_NETDEV;
		else if (!strcmp(ty, "struct net *"))
			kind = RETISC_ARG_NET;
		else if (!strcmp(ty, "struct nft_pktinfo *"))
			kind = RETISC_ARG_NFT_PKTINFO;
		else if (!strcmp(ty, "struct nft_traceinfo *"))
			kind = RETISC_ARG_NFT_TRACEINFO;
		if (kind >= 0 && out->arg[kind] < 0)
			out->arg[kind] = (int)out->nparams;
		out->nparams++;
	}
}

int retisc_btf__func_proto(const char *func, struct retisc_btf_proto *out)
{
	struct btf *btf = btf_get();
	const struct btf_type *t;
	__s32 id;

	if (!btf)
		return -ENODATA;
	id = btf__find_by_name_kind(btf, func, BTF_KIND_FUNC);
	if (id < 0)
		return -ENOENT;
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	if (!t || !btf_is_func_proto(t))
		return -ENOENT;
	proto_fill(btf, t, 0, out);
	return 0;
}

int retisc_btf__tp_proto(const char *event, struct retisc_btf_proto *out)
{
	struct btf *btf = btf_get();
	const struct btf_type *t;
	char name[192];
	__s32 id;

	if (!btf)
		return -ENODATA;
	snprintf(name, sizeof(name), "btf_trace_%s", event);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return -ENOENT;
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	if (!t || !btf_is_ptr(t))
		return -ENOENT;
	t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_func_proto(t))
		return -ENOENT;
	/* The first parameter is the tracepoint's `void *__data`. */
	proto_fill(btf, t, 1, out);
	return 0;
}

bool retisc_btf__has_type(const char *kind, const char *name)
{
	struct btf *btf = btf_get();
	int k;

	if (!btf)
		return false;
	if (!strcmp(kind, "struct"))
		k = BTF_KIND_STRUCT;
	else if (!strcmp(kind, "union"))
		k = BTF_KIND_UNION;
	else if (!strcmp(kind, "enum"))
		return btf__find_by_name_kind(btf, name, BTF_KIND_ENUM) >= 0 ||
		       btf__find_by_name_kind(btf, name, BTF_KIND_ENUM64) >= 0;
	else if (!strcmp(kind, "typedef"))
		k = BTF_KIND_TYPEDEF;
	else if (!strcmp(kind, "func"))
		k = BTF_KIND_FUNC;
	else
		return false;
	return btf__find_by_name_kind(btf, name, k) >= 0;
}

int retisc_btf__enum_name(const char *enum_name, int64_t value, char *buf, size_t buf_sz)
{
	struct btf *btf = btf_get();
	const struct btf_type *t;
	__s32 id;

	if (!btf)
		return -ENODATA;
	id = btf__find_by_name_kind(btf, enum_name, BTF_KIND_ENUM);
	if (id < 0)
		return -ENOENT;
	t = btf__type_by_id(btf, id);
	for (unsigned int i = 0; i < btf_vlen(t); i++) {
		const struct btf_enum *e = btf_enum(t) + i;

		if ((int64_t)e->val == value) {
			snprintf(buf, buf_sz, "%s", btf__name_by_offset(btf, e->name_off));
			return 0;
		}
	}
	return -ENOENT;
}

static int for_each_kind(int kind, const char *prefix, int (*fn)(const char *name, void *priv),
			 void *priv)
{
	struct btf *btf = btf_get();
	size_t plen = strlen(prefix);
	__u32 n;

	if (!btf)
		return -ENODATA;
	n = btf__type_cnt(btf);
	for (__u32 id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const char *name;
		int ret;

		if (btf_kind(t) != kind)
			continue;
		name = btf__name_by_offset(btf, t->name_off);
		if (strncmp(name, prefix, plen))
			continue;
		ret = fn(name + plen, priv);
		if (ret)
			return ret;
	}
	return 0;
}

int retisc_btf__for_each_tp(int (*fn)(const char *event, void *priv), void *priv)
{
	return for_each_kind(BTF_KIND_TYPEDEF, "btf_trace_", fn, priv);
}

int retisc_btf__for_each_func(int (*fn)(const char *func, void *priv), void *priv)
{
	return for_each_kind(BTF_KIND_FUNC, "", fn, priv);
}

bool retisc_collect_env__has_btf_type(const struct retisc_collect_env *env, const char *kind,
				      const char *name)
{
	(void)env;
	return retisc_btf__has_type(kind, name);
}

const char *const *retisc_collect_env__option(const struct retisc_collect_env *env,
					      const char *name)
{
	if (!env)
		return NULL;
	for (size_t i = 0; i < env->n_opts; i++)
		if (!strcmp(env->opts[i].name, name))
			return (const char *const *)env->opts[i].values;
	return NULL;
}
