// SPDX-License-Identifier: GPL-2.0-only
/*
 * skb plugin: the `packet` section (events.md §4.7) and its one-liner text
 * (events.md §6). The kernel side (capture hook and the `skb` metadata
 * section) is the subject of the skb collectors work; until it lands this
 * plugin renders packets of files written by Retis or by a later retisc.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <retisc/base64.h>
#include <retisc/plugin.h>

#include "packet_fmt.h"

static const struct retisc_api *api;

static int packet_format(void *priv, const struct retisc_json *sec, const struct retisc_fmt *f)
{
	uint8_t buf[512];
	const char *data;
	size_t len;
	ssize_t n;

	(void)priv;
	data = api->json_get_str(api->json_obj_get(sec, "data"), &len);
	if (!data)
		return -EINVAL;
	/* capture_len <= 255 by construction; refuse what cannot be a capture. */
	n = retisc_base64__decode(data, len, buf, sizeof(buf));
	if (n < 0)
		return -EINVAL;
	return retisc_packet__format(f->out, buf, (size_t)n, f->link_layer);
}

static int init(struct retisc_plugin *plugin, const struct retisc_api *a)
{
	struct retisc_section_desc sec = {
		.sz = sizeof(sec),
		.key = "packet",
		.rank = 70,
		.owner = -1,
		.place = RETISC_PLACE_BODY,
		.format = packet_format,
	};

	api = a;
	return a->register_section(plugin, &sec, NULL);
}

static const struct retisc_plugin_desc desc = {
	.sz = sizeof(desc),
	.abi_version = RETISC_ABI_VERSION,
	.name = "skb",
	.version = "0.1.0",
	.init = init,
};

RETISC_PLUGIN_DEFINE(desc)
