// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test plugin "good-a": a valid plugin registering a section with a dynamic
 * owner id (0), a collector without hooks and a processor. The section has a
 * decoder so test_decode can feed it raw sections of its dynamic owner.
 */
#include <errno.h>
#include <string.h>

#include <retisc/plugin.h>

static const struct retisc_api *api;
static struct retisc_plugin *self;
static int owner = -1;
static int runs;

/* "good-a":{"type":T,"size":N}; data type 0xff is refused as malformed. */
static int decode(void *priv, struct retisc_json *event, uint8_t type, const void *data,
		  size_t size)
{
	struct retisc_json *s;
	int err;

	(void)priv;
	(void)data;
	if (type == 0xff)
		return -EINVAL;
	s = api->json_new_object();
	if (!s)
		return -ENOMEM;
	err = api->json_obj_set(s, "type", api->json_new_u64(type))
		      ?: api->json_obj_set(s, "size", api->json_new_u64(size));
	if (err) {
		api->json_free(s);
		return err;
	}
	return api->json_obj_set(event, "good-a", s);
}

/*
 * Exit status 2 without an argument. Also checks that registering outside
 * init() is refused.
 */
static int run(void *priv, const struct retisc_api *a, int argc, char **argv)
{
	struct retisc_processor_desc late = {
		.sz = sizeof(late),
		.name = "good-a-late",
		.run = run,
	};
	int *count = priv;

	(*count)++;
	if (argc < 2)
		return 2;
	a->log(RETISC_LOG_INFO, "good-a run %d: %s %s owner %d late %d", *count, argv[0], argv[1],
	       owner, a->register_processor(self, &late));
	return 0;
}

static const char *const known_types[] = {"struct sk_buff *", NULL};
static const char *const probes[] = {"tp:skb:kfree_skb", NULL};

static int init(struct retisc_plugin *plugin, const struct retisc_api *a)
{
	struct retisc_section_desc sec = {
		.sz = sizeof(sec),
		.key = "good-a",
		.rank = 1000,
		.owner = 0,
		.place = RETISC_PLACE_BODY,
		.decode = decode,
	};
	struct retisc_collector_desc col = {
		.sz = sizeof(col),
		.name = "good-a",
		.known_types = known_types,
		.probes = probes,
		.order = 99,
	};
	struct retisc_processor_desc proc = {
		.sz = sizeof(proc),
		.name = "good-a",
		.summary = "Test processor",
		.run = run,
		.priv = &runs,
	};
	int err;

	api = a;
	self = plugin;
	runs = 0;
	owner = -1;
	err = a->register_section(plugin, &sec, &owner);
	if (err)
		return err;
	a->log(RETISC_LOG_INFO, "good-a: section owner %d", owner);
	return a->register_collector(plugin, &col) ?: a->register_processor(plugin, &proc);
}

static void fini(struct retisc_plugin *plugin)
{
	(void)plugin;
	api->log(RETISC_LOG_INFO, "good-a: fini");
}

static const struct retisc_plugin_desc desc = {
	.sz = sizeof(desc),
	.abi_version = RETISC_ABI_VERSION,
	.name = "good-a",
	.version = "1.2.3",
	.init = init,
	.fini = fini,
};

RETISC_PLUGIN_DEFINE(desc)
