// SPDX-License-Identifier: GPL-2.0-only
/*
 * ns collector plugin (doc/collectors.md §5.2): the generic namespace hook, the
 * `netns` section (doc/events.md §4.9) and its text.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <linux/types.h>

#include <retisc/event.h>
#include <retisc/json_text.h>
#include <retisc/plugin.h>
#include <retisc/plugin_util.h>

#include "ns.h"

#include "plugins/ns/ns_hook.skel.h"

_Static_assert(sizeof(struct retisc_ns_raw) == 16, "doc/collectors.md §5.2 layout");

static const struct retisc_api *api;

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
		err = retisc_api__put_u64(api, n, "cookie", raw.cookie);
	err = err ?: retisc_api__put_u64(api, n, "inum", raw.inum);
	return retisc_api__put_section(api, event, "netns", n, err);
}

/* decode()'s section as text (plugin.h, encode). */
static int encode(void *priv, uint8_t type, const void *data, size_t size,
		  struct retisc_json_piece *p)
{
	struct retisc_strbuf *sb = p->text;
	struct retisc_ns_raw raw;

	(void)priv;
	if (type != RETISC_NS_TYPE || size < sizeof(raw))
		return -EINVAL;
	memcpy(&raw, data, sizeof(raw));
	p->key = "netns";
	return retisc_strbuf__putc(sb, '{')
	       ?: (raw.has_cookie ? retisc_json_text__key_u64(sb, "cookie", true, raw.cookie) : 0)
	       ?: retisc_json_text__key_u64(sb, "inum", !raw.has_cookie, raw.inum)
	       ?: retisc_strbuf__putc(sb, '}');
}

/* doc/events.md §4.9: ns {cookie:#x}/{inum} or ns {inum} */
static int format(void *priv, const struct retisc_json *sec, const struct retisc_fmt *f)
{
	uint64_t cookie, inum;

	(void)priv;
	if (!retisc_api__get_u64(api, sec, "inum", &inum))
		return -EINVAL;
	if (retisc_api__get_u64(api, sec, "cookie", &cookie))
		return retisc_strbuf__printf(f->out, "ns 0x%llx/%llu", (unsigned long long)cookie,
					     (unsigned long long)inum);
	return retisc_strbuf__printf(f->out, "ns %llu", (unsigned long long)inum);
}

static const char *const known_types[] = {"struct net *", "struct sk_buff *", "struct net_device *",
					  NULL};

static int init(struct retisc_plugin *plugin, const struct retisc_api *a)
{
	struct retisc_section_desc sec = {
		.sz = sizeof(sec),
		.key = "netns",
		.rank = 90,
		.owner = RETISC_OWNER_NS,
		.place = RETISC_PLACE_BODY,
		.decode = decode,
		.encode = encode,
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

	api = a;
	hook.obj = ns_hook__elf_bytes(&hook.obj_sz);
	return retisc_plugin__register_collector(plugin, a, &sec, 1, &col);
}

static const struct retisc_plugin_desc desc = {
	.sz = sizeof(desc),
	.abi_version = RETISC_ABI_VERSION,
	.name = "ns",
	.version = "0.1.0",
	.init = init,
};

RETISC_PLUGIN_DEFINE(desc)
