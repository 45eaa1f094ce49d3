// SPDX-License-Identifier: GPL-2.0-only
/* Test plugin: registers the "common" key, which the core already owns. */
#include <retisc/plugin.h>

static int init(struct retisc_plugin *plugin, const struct retisc_api *api)
{
	struct retisc_section_desc sec = {
		.sz = sizeof(sec),
		.key = "common",
		.rank = 10,
		.owner = 0,
	};

	return api->register_section(plugin, &sec, NULL);
}

static const struct retisc_plugin_desc desc = {
	.sz = sizeof(desc),
	.abi_version = RETISC_ABI_VERSION,
	.name = "dup-section",
	.init = init,
};

RETISC_PLUGIN_DEFINE(desc)
