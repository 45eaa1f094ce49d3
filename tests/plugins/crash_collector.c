// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test plugin: the collector crash-collector dies of SIGSEGV in its init()
 * (RETISC_TEST_CRASH=init, the default) or in its start()
 * (RETISC_TEST_CRASH=start, once the BPF programs are loaded and attached).
 * Ordered after every built-in collector, so that nft's trace tables exist
 * when it crashes: the live test (tests/live/core.sh,
 * test_collector_crash) checks that nothing of retisc stays behind
 * (doc/files.md §8, doc/collectors.md §7.8).
 */
#include <stdlib.h>
#include <string.h>

#include <retisc/plugin.h>

static void crash(const char *at)
{
	const char *want = getenv("RETISC_TEST_CRASH");

	if (!strcmp(want && *want ? want : "init", at))
		*(volatile int *)NULL = 1;
}

static int coll_init(void *priv, const struct retisc_collect_env *env)
{
	(void)priv;
	(void)env;
	crash("init");
	return 0;
}

static int coll_start(void *priv)
{
	(void)priv;
	crash("start");
	return 0;
}

static int init(struct retisc_plugin *plugin, const struct retisc_api *api)
{
	static const struct retisc_collector_desc c = {
		.sz = sizeof(c),
		.name = "crash-collector",
		.order = 900,
		.init = coll_init,
		.start = coll_start,
	};

	return api->register_collector(plugin, &c);
}

static const struct retisc_plugin_desc desc = {
	.sz = sizeof(desc),
	.abi_version = RETISC_ABI_VERSION,
	.name = "crash-collector",
	.version = "1.0.0",
	.init = init,
};

RETISC_PLUGIN_DEFINE(desc)
