// SPDX-License-Identifier: GPL-2.0-only
/*
 * ns collector plugin (collectors.md §5.2): the generic namespace hook, the
 * `netns` section (events.md §4.9) and its text.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <linux/types.h>

#include <retisc/event.h>
#include <retisc/plugin.h>

#include "ns.h"

#include "plugins/ns/ns_hook.skel.h"

_Static_assert(sizeof(struct retisc_ns_raw) == 16, "collectors.md §5.2 layout");

static const struct retisc_api *api;

static int set(struct retisc_json *obj, const char *key, struct retisc_json *v)
{
	return v ? api->json_obj_set(obj, key, v) : -ENOMEM;
}

static int decode(void *priv, struct retisc_json *event, uint8_t type, const void *data,
		  size_t size)
{
	struct retisc_ns_raw raw;
	struct retisc_json *n;
	int err = 0;

	(void)priv;
	if (type != RETISC_NS_TYPE || size < sizeof(raw))
		return -EINVAL;
	memcpy(&raw, data, sizeof(raw));
	n = api->json_new_object();
	if (!n)
		return -ENOMEM;
	/* Absent, not 0, on kernels whose struct net has no cookie. */
	if (raw.has_cookie)
		err = set(n, "cookie", api->json_new_u64(raw.cookie));
	err = err ?: set(n, "inum", api->json_new_u64(raw.inum));
	if (err) {
		api->json_free(n);
		return err;
	}
	return api->json_obj_set(event, "netns", n);
}

/* events.md §4.9: ns {cookie:#x}/{inum} or ns {inum} */
static int format(void *priv, const struct retisc_json *sec, const struct retisc_fmt *f)
{
	uint64_t cookie, inum;

	(void)priv;
	if (!api->json_get_u64(api->json_obj_get(sec, "inum"), &inum))
		return -EINVAL;
	if (api->json_get_u64(api->json_obj_get(sec, "cookie"), &cookie))
		return retisc_strbuf__printf(f->out, "ns 0x%llx/%llu", (unsigned long long)cookie,
					     (unsigned long long)inum);
	return retisc_strbuf__printf(f->out, "ns %llu", (unsigned long long)inum);
}

static const char *const known_types[] = { "struct net *", "struct sk_buff *",
					   "struct net_device *", NULL };

static int init(struct retisc_plugin *plugin, const struct retisc_api *a)
{
	struct retisc_section_desc sec = {
		.sz = sizeof(sec),
		.key = "netns",
		.rank = 90,
		.owner = RETISC_OWNER_NS,
		.place = RETISC_PLACE_BODY,
		.decode = decode,
		.format = format,
	};
	struct retisc_hook_desc hook = {
		.sz = sizeof(hook),
		.name = "ns_hook",
	};
	struct retisc_collector_desc col = {
		.sz = sizeof(col),
		.name = "ns",
		.known_types = known_types,
		.hooks = &hook,
		.n_hooks = 1,
		.order = 80,
	};
	int err;

	api = a;
	hook.obj = ns_hook__elf_bytes(&hook.obj_sz);
	err = a->register_section(plugin, &sec, NULL);
	if (err)
		return err;
	return a->register_collector(plugin, &col);
}

static const struct retisc_plugin_desc desc = {
	.sz = sizeof(desc),
	.abi_version = RETISC_ABI_VERSION,
	.name = "ns",
	.version = "0.1.0",
	.init = init,
};

RETISC_PLUGIN_DEFINE(desc)
