// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test plugin "good-b": a collector registered *before* its section, which
 * asks for a dynamic owner id (the collector's hooks must still get it), and
 * no version.
 */
#include <retisc/plugin.h>

static int init(struct retisc_plugin *plugin, const struct retisc_api *api)
{
	struct retisc_collector_desc col = {
		.sz = sizeof(col),
		.name = "good-b",
		.order = 98,
	};
	struct retisc_section_desc sec = {
		.sz = sizeof(sec),
		.key = "good-b",
		.rank = 1001,
		.owner = 0,
	};

	return api->register_collector(plugin, &col) ?: api->register_section(plugin, &sec, NULL);
}

static const struct retisc_plugin_desc desc = {
	.sz = sizeof(desc),
	.abi_version = RETISC_ABI_VERSION,
	.name = "good-b",
	.init = init,
};

RETISC_PLUGIN_DEFINE(desc)
