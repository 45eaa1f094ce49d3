// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test plugin: descriptor larger than the core's struct, with a non-zero
 * field the core does not know.
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
} wrapped = {
	.desc =
		{
			.sz = sizeof(wrapped),
			.abi_version = RETISC_ABI_VERSION,
			.name = "bad-trailing",
			.init = init,
		},
	.future_field = 0xdeadbeef,
};

RETISC_PLUGIN_DEFINE(wrapped.desc)
