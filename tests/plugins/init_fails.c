// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test plugin: init() registers a section (dynamic owner), a collector and a
 * processor, then fails with -EINVAL: the core must drop all of them.
 */
#include <errno.h>

#include <retisc/plugin.h>

static int run(void *priv, const struct retisc_api *api, int argc, char **argv)
{
	(void)priv;
	(void)api;
	(void)argc;
	(void)argv;
	return 0;
}

static const char *const known_types[] = {"struct sk_buff *", "struct net *", NULL};
static const char *const probes[] = {"kprobe:ip_rcv", NULL};
static const unsigned char fake_obj[] = {0x7f, 'E', 'L', 'F'};

static int init(struct retisc_plugin *plugin, const struct retisc_api *api)
{
	struct retisc_section_desc sec = {
		.sz = sizeof(sec),
		.key = "init-fails",
		.rank = 1000,
		.owner = 0,
	};
	struct retisc_hook_desc hook = {
		.sz = sizeof(hook),
		.name = "init_fails_hook",
		.obj = fake_obj,
		.obj_sz = sizeof(fake_obj),
	};
	struct retisc_collector_desc col = {
		.sz = sizeof(col),
		.name = "init-fails",
		.known_types = known_types,
		.hooks = &hook,
		.n_hooks = 1,
		.probes = probes,
	};
	struct retisc_processor_desc proc = {
		.sz = sizeof(proc),
		.name = "init-fails",
		.summary = "never registered",
		.run = run,
	};
	int err;

	err = api->register_section(plugin, &sec, NULL) ?:
	      api->register_collector(plugin, &col) ?:
	      api->register_processor(plugin, &proc);
	if (err)
		return err;
	return -EINVAL;
}

static const struct retisc_plugin_desc desc = {
	.sz = sizeof(desc),
	.abi_version = RETISC_ABI_VERSION,
	.name = "init-fails",
	.init = init,
};

RETISC_PLUGIN_DEFINE(desc)
