// SPDX-License-Identifier: GPL-2.0-only
/* Test plugin: descriptor without the required init function. */
#include <retisc/plugin.h>

static const struct retisc_plugin_desc desc = {
	.sz = sizeof(desc),
	.abi_version = RETISC_ABI_VERSION,
	.name = "no-init",
};

RETISC_PLUGIN_DEFINE(desc)
