// SPDX-License-Identifier: GPL-2.0-only
/* Test plugin: valid, but named like good_a ("good-a"). */
#include <retisc/plugin.h>

static int init(struct retisc_plugin *plugin, const struct retisc_api *api)
{
	(void)plugin;
	(void)api;
	return 0;
}

static const struct retisc_plugin_desc desc = {
	.sz = sizeof(desc),
	.abi_version = RETISC_ABI_VERSION,
	.name = "good-a",
	.version = "9.9.9",
	.init = init,
};

RETISC_PLUGIN_DEFINE(desc)
