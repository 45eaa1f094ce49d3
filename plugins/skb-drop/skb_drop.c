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

#include <retisc/event.h>
#include <retisc/json_text.h>
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
	struct subsys *subsys;
	size_t n_subsys;
	/* Unknown subsystem ids already warned about (bus thread only). */
	uint8_t warned[(MAX_SUBSYS_ID + 8) / 8];
} st = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

/*
 * Which enum names the reasons of a subsystem. The core's BTF lookups
 * (api->btf_enum_for_each) look into vmlinux, then the loaded modules:
 * mac80211 and openvswitch are modules on most distributions.
 */
static const struct {
	const char *subsys;
	const char *enum_name;
} subsys_enums[] = {
	{"mac80211_unusable", "mac80211_drop_reason"},
	{"mac80211_monitor", "mac80211_drop_reason"},
	{"openvswitch", "ovs_drop_reason"},
	{"qdisc", "qdisc_drop_reason"},
};

/* -------------------------------------------------------------------------
 * Name tables.
 */

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

struct fill {
	struct reason_table *tab;
	size_t cap;
	bool core;
};

static int fill_one(const char *name, int64_t value, void *priv)
{
	struct fill *f = priv;
	struct reason_table *tab = f->tab;
	struct reason_name *r;

	if (tab->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;

		r = realloc(tab->v, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		tab->v = r;
		f->cap = cap;
	}
	r = &tab->v[tab->n];
	/* Values past INT64_MAX come out negative: no reason (>= 0) matches them. */
	r->value = value;
	r->index = (unsigned int)tab->n;
	r->name = strdup(f->core ? strip_core_prefix(name) : name);
	if (!r->name)
		return -ENOMEM;
	tab->n++;
	return 0;
}

/* The members of enum_name; -ENOENT (no such enum) leaves the table empty. */
static int table_fill(struct reason_table *tab, const char *enum_name, bool core)
{
	struct fill f = {.tab = tab, .core = core};
	size_t out = 0;
	int err = api->btf_enum_for_each(enum_name, NULL, fill_one, &f);

	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
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

/* A non-core subsystem's table; a module not loaded (yet) leaves its
 * reasons as numbers. */
static int subsys_fill(struct subsys *s)
{
	for (size_t i = 0; i < sizeof(subsys_enums) / sizeof(subsys_enums[0]); i++)
		if (!strcmp(subsys_enums[i].subsys, s->name))
			return table_fill(&s->reasons, subsys_enums[i].enum_name, false);
	api->log(RETISC_LOG_WARN, "Unknown drop reason subsystem (%s)", s->name);
	return 0;
}

static int subsys_one(const char *name, int64_t id, void *priv)
{
	static const char prefix[] = "SKB_DROP_REASON_SUBSYS_";
	struct subsys *s;

	(void)priv;
	if (!strncmp(name, prefix, sizeof(prefix) - 1))
		name += sizeof(prefix) - 1;
	if (!strcmp(name, "NUM") || id < 0 || id > MAX_SUBSYS_ID)
		return 0;
	s = subsys_add((uint32_t)id, name);
	if (!s)
		return -ENOMEM;
	if (!strcmp(s->name, "core"))
		return table_fill(&s->reasons, "skb_drop_reason", true);
	return subsys_fill(s);
}

/* doc/collectors.md §4.3 step 1. */
static int tables_build(void)
{
	struct subsys *s;
	/*
	 * Subsystems came with commit 071c0fc6fb91 ("net: extend drop reasons
	 * for multiple subsystems", v6.4); before, every reason is core.
	 */
	int err = api->btf_enum_for_each("skb_drop_reason_subsys", NULL, subsys_one, NULL);

	if (err != -ENOENT && err != -ENODATA)
		return err;
	if (err == -ENODATA)
		api->log(RETISC_LOG_WARN,
			 "Cannot read the kernel's BTF (%s): drop reasons are shown as numbers",
			 strerror(ENODATA));
	s = subsys_add(0, "core");
	if (!s)
		return -ENOMEM;
	return err == -ENODATA ? 0 : table_fill(&s->reasons, "skb_drop_reason", true);
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

/* decode()'s section as text (plugin.h, encode); an unknown subsystem is
 * left to decode(), which warns about it once. */
static int encode(void *priv, uint8_t type, const void *data, size_t size,
		  struct retisc_json_piece *p)
{
	struct retisc_strbuf *sb = p->text;
	struct retisc_raw_skb_drop raw;
	const char *subsys = NULL, *reason;
	char reason_num[16];

	(void)priv;
	if (type != RETISC_SKB_DROP_TYPE_REASON || size < sizeof(raw) ||
	    !RETISC_API_HAS(api, json_dump_str))
		return -EINVAL;
	memcpy(&raw, data, sizeof(raw));
	tables_get();
	if (raw.drop_reason < 0) {
		reason = "NOT_SPECIFIED";
	} else {
		uint32_t id = (uint32_t)raw.drop_reason >> SUBSYS_SHIFT;
		const struct subsys *ss = subsys_by_id(id);

		if (!ss)
			return -ENOENT;
		snprintf(reason_num, sizeof(reason_num), "%d", raw.drop_reason);
		reason = reason_name(&ss->reasons, raw.drop_reason);
		if (id)
			subsys = ss->name;
		if (!reason)
			reason = reason_num;
	}
	p->key = "skb-drop";
	return retisc_strbuf__putc(sb, '{')
	       ?: (subsys ? retisc_json_text__key(sb, "subsys", true)
				    ?: api->json_dump_str(sb, subsys, strlen(subsys))
			  : 0)
	       ?: retisc_json_text__key(sb, "drop_reason", !subsys)
	       ?: api->json_dump_str(sb, reason, strlen(reason)) ?: retisc_strbuf__putc(sb, '}');
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
 * tracepoint, -ENODATA: no kernel BTF. */
static int kfree_skb_has_reason(void)
{
	int i = api->btf_param_index("tp:kfree_skb", "enum skb_drop_reason");

	return i >= 0 ? 1 : i == -ESRCH ? 0 : i;
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
	int ret = kfree_skb_has_reason();

	(void)priv;
	(void)env;
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
		.encode = encode,
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
