// SPDX-License-Identifier: GPL-2.0-only
/* The running kernel's types: vmlinux's BTF and its modules' (btf_info.h). */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "btf_info.h"
#include "util.h"

#define SYS_BTF "/sys/kernel/btf"

struct kmod_btf {
	char *name;
	struct btf *btf;
};

static struct {
	pthread_mutex_t lock;
	bool loaded;
	struct btf *vmlinux;
	struct kmod_btf *mods;
	size_t n_mods;
} kb = {.lock = PTHREAD_MUTEX_INITIALIZER};

/*
 * Module BTF is split BTF over vmlinux's (kernel commit 36e68442d1af, "bpf:
 * Load and verify kernel module BTFs", v5.11): each file only adds types.
 * A module that fails to parse is left out, not fatal: its functions are
 * then unknown, as on a kernel without module BTF.
 */
static void modules_load(void)
{
	struct dirent *e;
	DIR *d = opendir(SYS_BTF);

	if (!d)
		return;
	while ((e = readdir(d))) {
		struct kmod_btf *v;
		char path[320];
		struct btf *m;

		if (e->d_name[0] == '.' || !strcmp(e->d_name, "vmlinux"))
			continue;
		snprintf(path, sizeof(path), SYS_BTF "/%s", e->d_name);
		m = btf__parse_split(path, kb.vmlinux);
		if (!m)
			continue;
		v = realloc(kb.mods, (kb.n_mods + 1) * sizeof(*v));
		if (!v || !(v[kb.n_mods].name = strdup(e->d_name))) {
			kb.mods = v ?: kb.mods;
			btf__free(m);
			break;
		}
		kb.mods = v;
		kb.mods[kb.n_mods++].btf = m;
	}
	closedir(d);
}

static void load(void)
{
	pthread_mutex_lock(&kb.lock);
	if (!kb.loaded) {
		struct btf *b = btf__load_vmlinux_btf();

		kb.loaded = true;
		if (!libbpf_get_error(b)) {
			kb.vmlinux = b;
			modules_load();
		}
	}
	pthread_mutex_unlock(&kb.lock);
}

struct btf *retisc_btf__vmlinux(void)
{
	load();
	if (!kb.vmlinux)
		errno = ENODATA;
	return kb.vmlinux;
}

size_t retisc_btf__n_modules(void)
{
	load();
	return kb.n_mods;
}

struct btf *retisc_btf__module(size_t i, const char **name)
{
	load();
	if (i >= kb.n_mods)
		return NULL;
	if (name)
		*name = kb.mods[i].name;
	return kb.mods[i].btf;
}

void retisc_btf__release(void)
{
	pthread_mutex_lock(&kb.lock);
	for (size_t i = 0; i < kb.n_mods; i++) {
		btf__free(kb.mods[i].btf);
		free(kb.mods[i].name);
	}
	free(kb.mods);
	kb.mods = NULL;
	kb.n_mods = 0;
	btf__free(kb.vmlinux);
	kb.vmlinux = NULL;
	kb.loaded = false;
	pthread_mutex_unlock(&kb.lock);
}

static int find_in(const struct btf *btf, const char *name, int kind)
{
	int id = btf__find_by_name_kind(btf, name, kind);

	/* 64-bit enums have their own kind (kernel commit 6089fb325cf7, v6.0). */
	if (id < 0 && kind == BTF_KIND_ENUM)
		id = btf__find_by_name_kind(btf, name, BTF_KIND_ENUM64);
	return id;
}

int retisc_btf__find(const char *name, int kind, const char *module, struct btf **btf,
		     const char **mod_name)
{
	int id;

	load();
	if (!kb.vmlinux)
		return -ENODATA;
	if (!module || !strcmp(module, "vmlinux")) {
		id = find_in(kb.vmlinux, name, kind);
		if (id > 0 || module) {
			*btf = kb.vmlinux;
			if (mod_name)
				*mod_name = NULL;
			return id > 0 ? id : -ENOENT;
		}
	}
	/* Not in vmlinux: a hit in a module's split BTF is one of its own. */
	for (size_t i = 0; i < kb.n_mods; i++) {
		if (module && strcmp(module, kb.mods[i].name))
			continue;
		id = find_in(kb.mods[i].btf, name, kind);
		if (id > 0) {
			*btf = kb.mods[i].btf;
			if (mod_name)
				*mod_name = kb.mods[i].name;
			return id;
		}
	}
	return -ENOENT;
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
	else if (btf_is_any_enum(t))
		kind = "enum ";
	if (t->name_off)
		name = btf__name_by_offset(btf, t->name_off);
	else if (btf_is_func_proto(t))
		name = "fn";
	snprintf(buf, sz, "%s%s%s%.*s", kind, name, ptrs ? " " : "", ptrs > 3 ? 3 : ptrs, "***");
}

static void proto_fill(const struct btf *btf, const struct btf_type *proto, unsigned int skip,
		       const char *module, struct retisc_btf_proto *out)
{
	const struct btf_param *p = btf_params(proto);
	unsigned int n = btf_vlen(proto);

	memset(out, 0, sizeof(*out));
	snprintf(out->module, sizeof(out->module), "%s", module ?: "");
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
	const struct btf_type *t;
	const char *mod;
	struct btf *btf;
	int id = retisc_btf__find(func, BTF_KIND_FUNC, NULL, &btf, &mod);

	if (id < 0)
		return id;
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	if (!t || !btf_is_func_proto(t))
		return -ENOENT;
	proto_fill(btf, t, 0, mod, out);
	return 0;
}

int retisc_btf__tp_proto(const char *event, struct retisc_btf_proto *out)
{
	const struct btf_type *t;
	const char *mod;
	struct btf *btf;
	char name[192];
	int id;

	snprintf(name, sizeof(name), "btf_trace_%s", event);
	id = retisc_btf__find(name, BTF_KIND_TYPEDEF, NULL, &btf, &mod);
	if (id < 0)
		return id;
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	if (!t || !btf_is_ptr(t))
		return -ENOENT;
	t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_func_proto(t))
		return -ENOENT;
	/* The first parameter is the tracepoint's `void *__data`. */
	proto_fill(btf, t, 1, mod, out);
	return 0;
}

int retisc_btf__param_index(const char *target, const char *type)
{
	struct retisc_btf_proto proto;
	int err = !strncmp(target, "tp:", 3) ? retisc_btf__tp_proto(target + 3, &proto)
					     : retisc_btf__func_proto(target, &proto);

	if (err)
		return err;
	for (unsigned int i = 0; i < proto.nparams; i++)
		if (!strcmp(proto.types[i], type))
			return (int)i;
	return -ESRCH;
}

bool retisc_btf__has_type(const char *kind, const char *name)
{
	static const struct {
		const char *name;
		int kind;
	} kinds[] = {
		{"struct", BTF_KIND_STRUCT},   {"union", BTF_KIND_UNION}, {"enum", BTF_KIND_ENUM},
		{"typedef", BTF_KIND_TYPEDEF}, {"func", BTF_KIND_FUNC},
	};
	struct btf *btf;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kind, kinds[i].name))
			return retisc_btf__find(name, kinds[i].kind, NULL, &btf, NULL) > 0;
	return false;
}

static int64_t enum_value(const struct btf_type *t, unsigned int i)
{
	if (btf_is_enum64(t))
		return (int64_t)btf_enum64_value(btf_enum64(t) + i);
	/* kflag marks a signed enum (kernel commit 6089fb325cf7, v6.0). */
	return btf_kflag(t) ? (int64_t)(int32_t)btf_enum(t)[i].val : (int64_t)btf_enum(t)[i].val;
}

int retisc_btf__enum_for_each(const char *enum_name, const char *module,
			      int (*fn)(const char *name, int64_t value, void *priv), void *priv)
{
	const struct btf_type *t;
	struct btf *btf;
	int id = retisc_btf__find(enum_name, BTF_KIND_ENUM, module, &btf, NULL);

	if (id < 0)
		return id;
	t = btf__type_by_id(btf, id);
	for (unsigned int i = 0; i < btf_vlen(t); i++) {
		__u32 off = btf_is_enum64(t) ? btf_enum64(t)[i].name_off : btf_enum(t)[i].name_off;
		const char *name = btf__name_by_offset(btf, off);
		int ret;

		if (!name)
			continue;
		ret = fn(name, enum_value(t, i), priv);
		if (ret)
			return ret;
	}
	return 0;
}

struct enum_name_ctx {
	int64_t value;
	char *buf;
	size_t sz;
};

static int enum_name_cb(const char *name, int64_t value, void *priv)
{
	struct enum_name_ctx *c = priv;

	if (value != c->value)
		return 0;
	snprintf(c->buf, c->sz, "%s", name);
	return 1;
}

int retisc_btf__enum_name(const char *enum_name, int64_t value, char *buf, size_t buf_sz)
{
	struct enum_name_ctx c = {value, buf, buf_sz};
	int ret = retisc_btf__enum_for_each(enum_name, NULL, enum_name_cb, &c);

	return ret == 1 ? 0 : ret < 0 ? ret : -ENOENT;
}

/* Names of kind with prefix among the types btf adds to its base. */
static int for_each_kind_in(const struct btf *btf, __u32 first, int kind, const char *prefix,
			    int (*fn)(const char *name, void *priv), void *priv)
{
	size_t plen = strlen(prefix);
	__u32 n = btf__type_cnt(btf);

	for (__u32 id = first; id < n; id++) {
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

static int for_each_kind(int kind, const char *prefix, int (*fn)(const char *name, void *priv),
			 void *priv)
{
	struct btf *vmlinux = retisc_btf__vmlinux();
	int ret;

	if (!vmlinux)
		return -ENODATA;
	ret = for_each_kind_in(vmlinux, 1, kind, prefix, fn, priv);
	for (size_t i = 0; !ret && i < kb.n_mods; i++)
		ret = for_each_kind_in(kb.mods[i].btf, btf__type_cnt(vmlinux), kind, prefix, fn,
				       priv);
	return ret;
}

int retisc_btf__for_each_tp(int (*fn)(const char *event, void *priv), void *priv)
{
	return for_each_kind(BTF_KIND_TYPEDEF, "btf_trace_", fn, priv);
}

int retisc_btf__for_each_func(int (*fn)(const char *func, void *priv), void *priv)
{
	return for_each_kind(BTF_KIND_FUNC, "", fn, priv);
}
