// SPDX-License-Identifier: GPL-2.0-only
/* Test plugin "good-b": one section with a dynamic owner id, no version. */
#include <retisc/plugin.h>

static int init(struct retisc_plugin *plugin, const struct retisc_api *api)
{
	struct retisc_section_desc sec = {
		.sz = sizeof(sec),
		.key = "good-b",
		.rank = 1001,
		.owner = 0,
	};

	return api->register_section(plugin, &sec, NULL);
}

static const struct retisc_plugin_desc desc = {
	.sz = sizeof(desc),
	.abi_version = RETISC_ABI_VERSION,
	.name = "good-b",
	.init = init,
};

RETISC_PLUGIN_DEFINE(desc)
