// SPDX-License-Identifier: GPL-2.0-only
/*
 * dev collector plugin (doc/collectors.md §5.1): the generic device hook, the
 * `dev` section (doc/events.md §4.10) and its text.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <linux/types.h>

#include <retisc/event.h>
#include <retisc/json_text.h>
#include <retisc/plugin.h>
#include <retisc/plugin_util.h>

#include "dev.h"

#include "plugins/dev/dev_hook.skel.h"

_Static_assert(sizeof(struct retisc_dev_raw) == 24, "doc/collectors.md §5.1 layout");

static const struct retisc_api *api;

/*
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past
 * U+10FFFF. A device name failing it is a stale or misread buffer.
 */
static bool utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		uint32_t cp, min;
		size_t len;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			len = 2;
			cp = c & 0x1f;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3;
			cp = c & 0x0f;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

static int decode(void *priv, struct retisc_json *event, uint8_t type, const void *data,
		  size_t size)
{
	struct retisc_dev_raw raw;
	struct retisc_json *d;
	size_t name_len;
	int err;

	(void)priv;
	if (type != RETISC_DEV_TYPE || size < sizeof(raw))
		return -EINVAL;
	memcpy(&raw, data, sizeof(raw));
	/*
	 * Up to the first NUL: a renamed device keeps the tail of its old,
	 * longer name after the terminator (Retis keeps it; retisc does not).
	 */
	name_len = strnlen((const char *)raw.dev_name, sizeof(raw.dev_name));
	/* Not a name (doc/events.md §3): no section, not an error. */
	if (!utf8_valid(raw.dev_name, name_len))
		return 0;
	d = api->json_new_object();
	if (!d)
		return -ENOMEM;
	err = retisc_api__put(api, d, "name",
			      api->json_new_strn((const char *)raw.dev_name, name_len))
		      ?: retisc_api__put_u64(api, d, "ifindex", raw.ifindex);
	/* skb_iif is an int: only a positive index is one. */
	if (!err && (int32_t)raw.iif > 0)
		err = retisc_api__put_u64(api, d, "rx_ifindex", raw.iif);
	return retisc_api__put_section(api, event, "dev", d, err);
}

/* decode()'s section as text (plugin.h, encode). */
static int encode(void *priv, uint8_t type, const void *data, size_t size,
		  struct retisc_json_piece *p)
{
	struct retisc_strbuf *sb = p->text;
	struct retisc_dev_raw raw;
	size_t name_len;

	(void)priv;
	if (type != RETISC_DEV_TYPE || size < sizeof(raw) || !RETISC_API_HAS(api, json_dump_str))
		return -EINVAL;
	memcpy(&raw, data, sizeof(raw));
	name_len = strnlen((const char *)raw.dev_name, sizeof(raw.dev_name));
	/* No section then: the tree path leaves it out. */
	if (!utf8_valid(raw.dev_name, name_len))
		return -EINVAL;
	p->key = "dev";
	return retisc_strbuf__putc(sb, '{') ?: retisc_json_text__key(sb, "name", true)
	       ?: api->json_dump_str(sb, (const char *)raw.dev_name, name_len)
	       ?: retisc_json_text__key_u64(sb, "ifindex", false, raw.ifindex)
	       ?: ((int32_t)raw.iif > 0 ? retisc_json_text__key_u64(sb, "rx_ifindex", false, raw.iif)
				       : 0)
	       ?: retisc_strbuf__putc(sb, '}');
}

/* doc/events.md §4.10: if {ifindex}[ ({name})][ rxif {rx_ifindex}] */
static int format(void *priv, const struct retisc_json *sec, const struct retisc_fmt *f)
{
	uint64_t ifindex, rx;
	const char *name;
	size_t len;
	int err;

	(void)priv;
	name = retisc_api__get_str(api, sec, "name", &len);
	if (!name || !retisc_api__get_u64(api, sec, "ifindex", &ifindex))
		return -EINVAL;
	err = retisc_strbuf__printf(f->out, "if %llu", (unsigned long long)ifindex);
	if (len)
		err = err ?: retisc_strbuf__printf(f->out, " (%s)", name);
	if (retisc_api__get_u64(api, sec, "rx_ifindex", &rx))
		err = err ?: retisc_strbuf__printf(f->out, " rxif %llu", (unsigned long long)rx);
	return err;
}

static const char *const known_types[] = {"struct net_device *", "struct sk_buff *", NULL};

static int init(struct retisc_plugin *plugin, const struct retisc_api *a)
{
	struct retisc_section_desc sec = {
		.sz = sizeof(sec),
		.key = "dev",
		.rank = 100,
		.owner = RETISC_OWNER_DEV,
		.place = RETISC_PLACE_BODY,
		.decode = decode,
		.encode = encode,
		.format = format,
	};
	struct retisc_hook_desc hook = {
		.sz = sizeof(hook),
		.name = "dev_hook",
	};
	struct retisc_collector_desc col = {
		.sz = sizeof(col),
		.name = "dev",
		.known_types = known_types,
		.hooks = &hook,
		.n_hooks = 1,
		.order = 70,
	};

	api = a;
	hook.obj = dev_hook__elf_bytes(&hook.obj_sz);
	return retisc_plugin__register_collector(plugin, a, &sec, 1, &col);
}

static const struct retisc_plugin_desc desc = {
	.sz = sizeof(desc),
	.abi_version = RETISC_ABI_VERSION,
	.name = "dev",
	.version = "0.1.0",
	.init = init,
};

RETISC_PLUGIN_DEFINE(desc)
