// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test plugin built against the plugin header before collectors had
 * on_event (its collector descriptor ends at n_opts). The core must load
 * it as it is: options kept, no on_event.
 */
#include <stdint.h>

#include <retisc/plugin.h>

/* struct retisc_collector_desc as plugin.h had it before `on_event`. */
struct opts_collector_desc {
	size_t sz;
	const char *name;
	const char *const *known_types;
	const struct retisc_hook_desc *hooks;
	size_t n_hooks;
	const char *const *probes;
	uint32_t order;
	int (*can_run)(void *priv, const struct retisc_collect_env *env, char *reason,
		       size_t reason_sz);
	int (*init)(void *priv, const struct retisc_collect_env *env);
	int (*start)(void *priv);
	void (*stop)(void *priv);
	void *priv;
	const struct retisc_collector_opt *opts;
	size_t n_opts;
	size_t : 0;
};

static const struct retisc_collector_opt opts[] = {
	{.name = "opts-collector-level", .arg = "N", .help = "a level"},
};

static int init(struct retisc_plugin *plugin, const struct retisc_api *api)
{
	static const struct opts_collector_desc c = {
		.sz = sizeof(c),
		.name = "opts-collector",
		.order = 501,
		.opts = opts,
		.n_opts = 1,
	};

	return api->register_collector(plugin, (const struct retisc_collector_desc *)&c);
}

static const struct retisc_plugin_desc desc = {
	.sz = sizeof(desc),
	.abi_version = RETISC_ABI_VERSION,
	.name = "opts-collector",
	.version = "1.0.0",
	.init = init,
};

RETISC_PLUGIN_DEFINE(desc)
