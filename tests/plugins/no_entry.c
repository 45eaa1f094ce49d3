// SPDX-License-Identifier: GPL-2.0-only
/* Test plugin: a shared object without the retisc_plugin_entry symbol. */
#include <retisc/plugin.h>

static const struct retisc_plugin_desc desc = {
	.sz = sizeof(desc),
	.abi_version = RETISC_ABI_VERSION,
	.name = "no-entry",
};

__attribute__((visibility("default"))) const struct retisc_plugin_desc *
retisc_plugin_entry_typo(void)
{
	return &desc;
}
