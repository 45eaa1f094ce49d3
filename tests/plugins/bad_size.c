// SPDX-License-Identifier: GPL-2.0-only
/* Test plugin: descriptor sz smaller than the first version of the struct. */
#include <retisc/plugin.h>

static int init(struct retisc_plugin *plugin, const struct retisc_api *api)
{
	(void)plugin;
	(void)api;
	return 0;
}

static const struct retisc_plugin_desc desc = {
	.sz = offsetof(struct retisc_plugin_desc, name),
	.abi_version = RETISC_ABI_VERSION,
	.name = "bad-size",
	.init = init,
};

RETISC_PLUGIN_DEFINE(desc)
