// SPDX-License-Identifier: GPL-2.0-only
/*
 * skb-drop collector plugin (doc/collectors.md §4): the skb:kfree_skb probe,
 * two hooks (generic, and targeted for kernels without drop reasons), the
 * `skb-drop` section (doc/events.md §4.6) and its text.
 *
 * Reason values mean nothing outside the kernel that produced them (the
 * core enum is reordered between releases, subsystems come and go), so the
 * name tables are read from the running kernel's BTF once, when the
 * collector starts, and decoding is a lookup.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <linux/types.h>

#include <bpf/btf.h>

#include <retisc/event.h>
#include <retisc/plugin.h>
#include <retisc/plugin_util.h>

#include "skb_drop.h"
#include "plugins/skb-drop/skb_drop_hook.skel.h"
#include "plugins/skb-drop/skb_drop_noreason_hook.skel.h"

/* include/net/dropreason.h: the subsystem id is in the upper 16 bits. */
#define SUBSYS_SHIFT 16
/* Ids of non-negative s32 reasons: 0 .. INT32_MAX >> 16. */
#define MAX_SUBSYS_ID (INT32_MAX >> SUBSYS_SHIFT)

struct reason_name {
	int64_t value;
	unsigned int index; /* member position in the enum, breaks ties */
	char *name;
};

/* One enum's members, sorted by value; the first member of a value wins. */
struct reason_table {
	struct reason_name *v;
	size_t n;
};

struct subsys {
	uint32_t id;
	char *name; /* lowercased, "core" for id 0 */
	struct reason_table reasons;
};

static const struct retisc_api *api;

static struct {
	pthread_mutex_t lock;
	bool built;
	int err;
	/* Kept from can_run() to init(): loading it costs milliseconds. */
	struct btf *vmlinux;
	struct subsys *subsys;
	size_t n_subsys;
	/* Unknown subsystem ids already warned about (bus thread only). */
	uint8_t warned[(MAX_SUBSYS_ID + 8) / 8];
} st = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

/*
 * Which enum names the reasons of a subsystem, and the module defining it
 * when it is not built in (its BTF is then split from vmlinux's).
 */
static const struct {
	const char *subsys;
	const char *enum_name;
	const char *module;
} subsys_enums[] = {
	{"mac80211_unusable", "mac80211_drop_reason", "mac80211"},
	{"mac80211_monitor", "mac80211_drop_reason", "mac80211"},
	{"openvswitch", "ovs_drop_reason", "openvswitch"},
	{"qdisc", "qdisc_drop_reason", NULL},
};

/* -------------------------------------------------------------------------
 * Name tables.
 */

static struct btf *vmlinux_btf(void)
{
	if (!st.vmlinux) {
		st.vmlinux = btf__load_vmlinux_btf();
		if (!st.vmlinux && !errno)
			errno = ENODATA;
	}
	return st.vmlinux;
}

static const struct btf_type *find_enum(const struct btf *btf, const char *name)
{
	__s32 id = btf__find_by_name_kind(btf, name, BTF_KIND_ENUM);

	if (id < 0)
		id = btf__find_by_name_kind(btf, name, BTF_KIND_ENUM64);
	return id < 0 ? NULL : btf__type_by_id(btf, id);
}

static int64_t enum_value(const struct btf_type *t, unsigned int i)
{
	/* Values past INT64_MAX come out negative: no reason (>= 0) matches them. */
	if (btf_is_enum64(t))
		return (int64_t)btf_enum64_value(btf_enum64(t) + i);
	/* kflag marks a signed enum (commit "bpf: Add btf enum64 support", v6.0). */
	return btf_kflag(t) ? (int64_t)(int32_t)btf_enum(t)[i].val : (int64_t)btf_enum(t)[i].val;
}

static const char *enum_member_name(const struct btf *btf, const struct btf_type *t, unsigned int i)
{
	__u32 off = btf_is_enum64(t) ? btf_enum64(t)[i].name_off : btf_enum(t)[i].name_off;

	return btf__name_by_offset(btf, off);
}

/* doc/events.md §4.6: SKB_DROP_REASON_NO_SOCKET -> NO_SOCKET, SKB_CONSUMED -> CONSUMED. */
static const char *strip_core_prefix(const char *n)
{
	while (!strncmp(n, "SKB_", 4))
		n += 4;
	while (!strncmp(n, "DROP_REASON_", 12))
		n += 12;
	return n;
}

static int reason_cmp(const void *a, const void *b)
{
	const struct reason_name *x = a, *y = b;

	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static void table_free(struct reason_table *tab)
{
	for (size_t i = 0; i < tab->n; i++)
		free(tab->v[i].name);
	free(tab->v);
	tab->v = NULL;
	tab->n = 0;
}

static int table_fill(struct reason_table *tab, const struct btf *btf, const struct btf_type *t,
		      bool core)
{
	unsigned int n = btf_vlen(t);
	size_t out = 0;

	tab->v = calloc(n ? n : 1, sizeof(*tab->v));
	if (!tab->v)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		const char *name = enum_member_name(btf, t, i);

		tab->v[i].value = enum_value(t, i);
		tab->v[i].index = i;
		tab->v[i].name = strdup(core ? strip_core_prefix(name) : name);
		tab->n = i + 1;
		if (!tab->v[i].name)
			return -ENOMEM;
	}
	/* Aliases (two members, one value): the first declared names it. */
	qsort(tab->v, tab->n, sizeof(*tab->v), reason_cmp);
	for (size_t i = 0; i < tab->n; i++) {
		if (out && tab->v[out - 1].value == tab->v[i].value) {
			free(tab->v[i].name);
			continue;
		}
		tab->v[out++] = tab->v[i];
	}
	tab->n = out;
	return 0;
}

static void tables_free(void)
{
	for (size_t i = 0; i < st.n_subsys; i++) {
		free(st.subsys[i].name);
		table_free(&st.subsys[i].reasons);
	}
	free(st.subsys);
	st.subsys = NULL;
	st.n_subsys = 0;
}

static struct subsys *subsys_add(uint32_t id, const char *name)
{
	struct subsys *s = realloc(st.subsys, (st.n_subsys + 1) * sizeof(*s));

	if (!s)
		return NULL;
	st.subsys = s;
	s = &st.subsys[st.n_subsys];
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->name = strdup(name);
	if (!s->name)
		return NULL;
	for (char *c = s->name; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	st.n_subsys++;
	return s;
}

/* Fill a non-core subsystem's table from vmlinux, else from its module. */
static int subsys_fill(struct subsys *s, struct btf *vmlinux)
{
	const struct btf_type *t;
	struct btf *mod;
	size_t i;
	int err;

	for (i = 0; i < sizeof(subsys_enums) / sizeof(subsys_enums[0]); i++)
		if (!strcmp(subsys_enums[i].subsys, s->name))
			break;
	if (i == sizeof(subsys_enums) / sizeof(subsys_enums[0])) {
		api->log(RETISC_LOG_WARN, "Unknown drop reason subsystem (%s)", s->name);
		return 0;
	}
	t = find_enum(vmlinux, subsys_enums[i].enum_name);
	if (t)
		return table_fill(&s->reasons, vmlinux, t, false);
	/* A module not loaded (yet) leaves the subsystem's reasons as numbers. */
	if (!subsys_enums[i].module)
		return 0;
	mod = btf__load_module_btf(subsys_enums[i].module, vmlinux);
	if (!mod)
		return 0;
	t = find_enum(mod, subsys_enums[i].enum_name);
	err = t ? table_fill(&s->reasons, mod, t, false) : 0;
	btf__free(mod);
	return err;
}

/* doc/collectors.md §4.3 step 1. */
static int tables_build(void)
{
	static const char prefix[] = "SKB_DROP_REASON_SUBSYS_";
	struct btf *btf = vmlinux_btf();
	const struct btf_type *subsys_t, *core_t;
	int err = 0;

	if (!btf) {
		api->log(RETISC_LOG_WARN,
			 "Cannot read the kernel's BTF (%s): drop reasons are shown as numbers",
			 strerror(errno));
		return subsys_add(0, "core") ? 0 : -ENOMEM;
	}
	core_t = find_enum(btf, "skb_drop_reason");
	/*
	 * Subsystems came with commit 071c0fc6fb91 ("net: extend drop reasons
	 * for multiple subsystems", v6.4); before, every reason is core.
	 */
	subsys_t = find_enum(btf, "skb_drop_reason_subsys");
	if (!subsys_t) {
		struct subsys *s = subsys_add(0, "core");

		if (!s)
			return -ENOMEM;
		return core_t ? table_fill(&s->reasons, btf, core_t, true) : 0;
	}
	for (unsigned int i = 0; i < btf_vlen(subsys_t) && !err; i++) {
		const char *name = enum_member_name(btf, subsys_t, i);
		int64_t id = enum_value(subsys_t, i);
		struct subsys *s;

		if (!strncmp(name, prefix, sizeof(prefix) - 1))
			name += sizeof(prefix) - 1;
		if (!strcmp(name, "NUM") || id < 0 || id > MAX_SUBSYS_ID)
			continue;
		s = subsys_add((uint32_t)id, name);
		if (!s)
			return -ENOMEM;
		if (!strcmp(s->name, "core"))
			err = core_t ? table_fill(&s->reasons, btf, core_t, true) : 0;
		else
			err = subsys_fill(s, btf);
	}
	return err;
}

/* Build the tables once; later calls return the first result. */
static int tables_get(void)
{
	pthread_mutex_lock(&st.lock);
	if (!st.built) {
		st.err = tables_build();
		if (st.err)
			tables_free();
		st.built = true;
		/* Every later question is answered by the tables. */
		btf__free(st.vmlinux);
		st.vmlinux = NULL;
	}
	pthread_mutex_unlock(&st.lock);
	return st.err;
}

static const struct subsys *subsys_by_id(uint32_t id)
{
	for (size_t i = 0; i < st.n_subsys; i++)
		if (st.subsys[i].id == id)
			return &st.subsys[i];
	return NULL;
}

static int value_cmp(const void *key, const void *elem)
{
	int64_t v = *(const int64_t *)key, e = ((const struct reason_name *)elem)->value;

	return v < e ? -1 : v > e;
}

static const char *reason_name(const struct reason_table *tab, int64_t value)
{
	const struct reason_name *r;

	if (!tab->n)
		return NULL;
	r = bsearch(&value, tab->v, tab->n, sizeof(*tab->v), value_cmp);
	return r ? r->name : NULL;
}

/* -------------------------------------------------------------------------
 * Section.
 */

/* doc/collectors.md §4.3 step 2, doc/events.md §4.6. */
static int decode(void *priv, struct retisc_json *event, uint8_t type, const void *data,
		  size_t size)
{
	struct retisc_raw_skb_drop raw;
	char subsys_num[16], reason_num[16];
	const char *subsys = NULL, *reason = NULL;
	struct retisc_json *s;
	int err;

	(void)priv;
	if (type != RETISC_SKB_DROP_TYPE_REASON || size < sizeof(raw))
		return -EINVAL;
	memcpy(&raw, data, sizeof(raw));
	tables_get();
	if (raw.drop_reason < 0) {
		reason = "NOT_SPECIFIED";
	} else {
		uint32_t id = (uint32_t)raw.drop_reason >> SUBSYS_SHIFT;
		const struct subsys *ss = subsys_by_id(id);

		snprintf(reason_num, sizeof(reason_num), "%d", raw.drop_reason);
		if (!ss) {
			/* Once per id: a flood of such drops must not flood the log. */
			if (!(st.warned[id / 8] & (1u << (id % 8)))) {
				st.warned[id / 8] |= (uint8_t)(1u << (id % 8));
				api->log(RETISC_LOG_WARN, "Unknown drop reason subsystem id (%u)",
					 id);
			}
			snprintf(subsys_num, sizeof(subsys_num), "%u", id);
			subsys = subsys_num;
		} else {
			reason = reason_name(&ss->reasons, raw.drop_reason);
			if (id)
				subsys = ss->name;
		}
		if (!reason)
			reason = reason_num;
	}

	s = api->json_new_object();
	if (!s)
		return -ENOMEM;
	err = subsys ? retisc_api__put(api, s, "subsys", api->json_new_str(subsys)) : 0;
	err = err ?: retisc_api__put(api, s, "drop_reason", api->json_new_str(reason));
	return retisc_api__put_section(api, event, "skb-drop", s, err);
}

/* doc/events.md §4.6: drop (reason {drop_reason}) / drop (reason {subsys}/{drop_reason}) */
static int format(void *priv, const struct retisc_json *sec, const struct retisc_fmt *f)
{
	const char *reason = retisc_api__get_str(api, sec, "drop_reason", NULL);
	const char *subsys = retisc_api__get_str(api, sec, "subsys", NULL);

	(void)priv;
	if (!reason)
		return -EINVAL;
	if (subsys)
		retisc_strbuf__printf(f->out, "drop (reason %s/%s)", subsys, reason);
	else
		retisc_strbuf__printf(f->out, "drop (reason %s)", reason);
	return 0;
}

/* -------------------------------------------------------------------------
 * Collector.
 */

/* 1: skb:kfree_skb passes an enum skb_drop_reason, 0: not, -ENOENT: no such
 * tracepoint. */
static int kfree_skb_has_reason(const struct btf *btf)
{
	const struct btf_type *t;
	const struct btf_param *p;
	__s32 id = btf__find_by_name_kind(btf, "btf_trace_kfree_skb", BTF_KIND_TYPEDEF);

	if (id < 0)
		return -ENOENT;
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	if (!t || !btf_is_ptr(t))
		return -ENOENT;
	t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_func_proto(t))
		return -ENOENT;
	p = btf_params(t);
	for (unsigned int i = 0; i < btf_vlen(t); i++) {
		const struct btf_type *pt = btf__type_by_id(btf, p[i].type);

		while (pt && (btf_is_const(pt) || btf_is_volatile(pt)))
			pt = btf__type_by_id(btf, pt->type);
		if (pt && btf_is_any_enum(pt) &&
		    !strcmp(btf__name_by_offset(btf, pt->name_off), "skb_drop_reason"))
			return 1;
	}
	return 0;
}

static bool kernel_at_least(unsigned int major, unsigned int minor)
{
	unsigned int ma = 0, mi = 0;
	struct utsname u;

	if (uname(&u) || sscanf(u.release, "%u.%u", &ma, &mi) != 2)
		return true; /* unknown: assume a current kernel */
	return ma > major || (ma == major && mi >= minor);
}

/* doc/collectors.md §4.4. */
static int can_run(void *priv, const struct retisc_collect_env *env, char *reason, size_t reason_sz)
{
	struct btf *btf;
	int ret;

	(void)priv;
	(void)env;
	pthread_mutex_lock(&st.lock);
	btf = vmlinux_btf();
	ret = btf ? kfree_skb_has_reason(btf) : -errno;
	if (st.built) {
		/* Tables exist already: nobody needs the BTF any more. */
		btf__free(st.vmlinux);
		st.vmlinux = NULL;
	}
	pthread_mutex_unlock(&st.lock);
	if (ret == -ENOENT) {
		snprintf(reason, reason_sz, "Could not find a tracepoint matching 'skb:kfree_skb'");
		return ret;
	}
	if (ret < 0) {
		snprintf(reason, reason_sz, "Could not read the kernel's BTF: %s", strerror(-ret));
		return ret;
	}
	if (!ret) {
		/* kfree_skb_reason(), commit c504e5c2f964, v5.17. */
		if (kernel_at_least(5, 17)) {
			snprintf(reason, reason_sz,
				 "Could not retrieve skb drop reasons from the kernel");
			return -EOPNOTSUPP;
		}
		api->log(RETISC_LOG_WARN, "This kernel doesn't provide skb drop reasons");
	}
	return 0;
}

static int init(void *priv, const struct retisc_collect_env *env)
{
	(void)priv;
	(void)env;
	return tables_get();
}

static const char *const known_types[] = {
	"enum skb_drop_reason",
	"enum mac80211_drop_reason",
	"enum ovs_drop_reason",
	"enum qdisc_drop_reason",
	NULL,
};

static const char *const probes[] = {"tp:skb:kfree_skb", NULL};

static int plugin_init(struct retisc_plugin *plugin, const struct retisc_api *a)
{
	struct retisc_section_desc sec = {
		.sz = sizeof(sec),
		.key = "skb-drop",
		.rank = 60,
		.owner = RETISC_OWNER_SKB_DROP,
		.place = RETISC_PLACE_FIRST_LINE,
		.decode = decode,
		.format = format,
	};
	/* Both are always loaded: each is a no-op where the other applies. */
	struct retisc_hook_desc hooks[2] = {
		{
			.sz = sizeof(hooks[0]),
			.name = "skb_drop_hook",
		},
		{
			.sz = sizeof(hooks[1]),
			.name = "skb_drop_noreason_hook",
			.target = "tp:skb:kfree_skb",
		},
	};
	struct retisc_collector_desc col = {
		.sz = sizeof(col),
		.name = "skb-drop",
		.known_types = known_types,
		.hooks = hooks,
		.n_hooks = 2,
		.probes = probes,
		.order = 30,
		.can_run = can_run,
		.init = init,
	};

	api = a;
	hooks[0].obj = skb_drop_hook__elf_bytes(&hooks[0].obj_sz);
	hooks[1].obj = skb_drop_noreason_hook__elf_bytes(&hooks[1].obj_sz);
	return retisc_plugin__register_collector(plugin, a, &sec, 1, &col);
}

static void plugin_fini(struct retisc_plugin *plugin)
{
	(void)plugin;
	pthread_mutex_lock(&st.lock);
	tables_free();
	btf__free(st.vmlinux);
	st.vmlinux = NULL;
	st.built = false;
	st.err = 0;
	memset(st.warned, 0, sizeof(st.warned));
	pthread_mutex_unlock(&st.lock);
}

static const struct retisc_plugin_desc desc = {
	.sz = sizeof(desc),
	.abi_version = RETISC_ABI_VERSION,
	.name = "skb-drop",
	.version = "0.1.0",
	.init = plugin_init,
	.fini = plugin_fini,
};

RETISC_PLUGIN_DEFINE(desc)
