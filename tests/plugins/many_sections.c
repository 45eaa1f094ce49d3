// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test plugin: registers sections with a dynamic owner until the core runs
 * out of ids. In a fresh registry that is ids 32..255 in order, then
 * -ENOSPC; anything else fails init() with -EBADMSG.
 */
#include <errno.h>
#include <stdio.h>

#include <retisc/plugin.h>

static int init(struct retisc_plugin *plugin, const struct retisc_api *api)
{
	struct retisc_section_desc s = {.sz = sizeof(s), .rank = 2000, .owner = 0};
	char key[32];
	int i, err, owner;

	for (i = 0;; i++) {
		snprintf(key, sizeof(key), "many-%d", i);
		s.key = key;
		owner = -1;
		err = api->register_section(plugin, &s, &owner);
		if (err)
			break;
		if (owner != 32 + i) {
			api->log(RETISC_LOG_ERROR, "many-sections: section %d got owner %d", i,
				 owner);
			return -EBADMSG;
		}
	}
	if (err != -ENOSPC || i != 224) {
		api->log(RETISC_LOG_ERROR, "many-sections: %d sections, then error %d", i, err);
		return -EBADMSG;
	}
	return 0;
}

static const struct retisc_plugin_desc desc = {
	.sz = sizeof(desc),
	.abi_version = RETISC_ABI_VERSION,
	.name = "many-sections",
	.init = init,
};

RETISC_PLUGIN_DEFINE(desc)
