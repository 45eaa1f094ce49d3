// SPDX-License-Identifier: GPL-2.0-only
/* Test plugin: built for another plugin ABI version. */
#include <retisc/plugin.h>

static int init(struct retisc_plugin *plugin, const struct retisc_api *api)
{
	(void)plugin;
	(void)api;
	return 0;
}

static const struct retisc_plugin_desc desc = {
	.sz = sizeof(desc),
	.abi_version = RETISC_ABI_VERSION + 1,
	.name = "bad-abi",
	.init = init,
};

RETISC_PLUGIN_DEFINE(desc)
