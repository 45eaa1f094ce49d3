// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test plugin: built against a "newer SDK" whose descriptor is larger than
 * the core's, with the unknown trailing fields left at zero: accepted.
 */
#include <stdint.h>

#include <retisc/plugin.h>

static int init(struct retisc_plugin *plugin, const struct retisc_api *api)
{
	(void)plugin;
	(void)api;
	return 0;
}

static const struct {
	struct retisc_plugin_desc desc;
	uint64_t future_field;
} newer = {
	.desc =
		{
			.sz = sizeof(newer),
			.abi_version = RETISC_ABI_VERSION,
			.name = "good-newer",
			.init = init,
		},
	.future_field = 0,
};

RETISC_PLUGIN_DEFINE(newer.desc)
