// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test plugin: init() calls the registration functions of the API table with
 * invalid and valid descriptors and checks each return value. Every mismatch
 * is logged ("reg-checks: ... returned X, want Y") and makes init() fail with
 * -EBADMSG. Left registered on success: sections "reg-checks" (owner 200),
 * "reg-checks-newer" and "reg-checks-text" (no raw form), collector and
 * processor "reg-checks", sink "reg-checks://" (which reads back a fixed
 * two-line events file).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <retisc/plugin.h>

static const struct retisc_api *api;
static int failed;

#define EXPECT(expr, want)                                                                         \
	do {                                                                                       \
		int __got = (expr);                                                                \
		if (__got != (want)) {                                                             \
			api->log(RETISC_LOG_ERROR, "reg-checks: %s returned %d, want %d", #expr,   \
				 __got, (int)(want));                                              \
			failed++;                                                                  \
		}                                                                                  \
	} while (0)

static int run(void *priv, const struct retisc_api *a, int argc, char **argv)
{
	(void)priv;
	(void)a;
	(void)argc;
	(void)argv;
	return 0;
}

static const unsigned char fake_obj[] = {0x7f, 'E', 'L', 'F'};

static void check_sections(struct retisc_plugin *plugin)
{
	struct retisc_section_desc s = {.sz = sizeof(s), .key = "reg-checks", .rank = 1000};
	struct {
		struct retisc_section_desc d;
		uint64_t future;
	} big = {.d = {.sz = sizeof(big), .key = "reg-checks-newer", .owner = -1}};
	int owner = 12345;

	EXPECT(api->register_section(plugin, NULL, NULL), -EINVAL);
	EXPECT(api->register_section(NULL, &s, NULL), -EINVAL);
	s.sz = offsetof(struct retisc_section_desc, priv);
	EXPECT(api->register_section(plugin, &s, NULL), -EINVAL);
	s.sz = sizeof(s);
	s.key = NULL;
	EXPECT(api->register_section(plugin, &s, NULL), -EINVAL);
	s.key = "";
	EXPECT(api->register_section(plugin, &s, NULL), -EINVAL);
	s.key = "reg-checks";
	s.owner = 256;
	EXPECT(api->register_section(plugin, &s, NULL), -EINVAL);
	s.owner = -2;
	EXPECT(api->register_section(plugin, &s, NULL), -EINVAL);
	s.owner = 200;
	EXPECT(api->register_section(plugin, &s, &owner), 0);
	EXPECT(owner, 200);
	s.key = "reg-checks-2";
	EXPECT(api->register_section(plugin, &s, NULL), -EEXIST);
	s.key = "reg-checks";
	s.owner = 201;
	EXPECT(api->register_section(plugin, &s, NULL), -EEXIST);
	s.key = "reg-checks-text";
	s.owner = -1;
	EXPECT(api->register_section(plugin, &s, &owner), 0);
	EXPECT(owner, -1);

	big.future = 1;
	EXPECT(api->register_section(plugin, &big.d, NULL), -EINVAL);
	big.future = 0;
	EXPECT(api->register_section(plugin, &big.d, NULL), 0);
}

static void check_collectors(struct retisc_plugin *plugin)
{
	struct retisc_hook_desc hook = {
		.sz = sizeof(hook),
		.name = "reg_checks_hook",
		.obj = fake_obj,
		.obj_sz = sizeof(fake_obj),
	};
	struct retisc_collector_desc c = {.sz = sizeof(c), .name = "reg-checks", .order = 5};

	EXPECT(api->register_collector(plugin, NULL), -EINVAL);
	c.sz = offsetof(struct retisc_collector_desc, priv);
	EXPECT(api->register_collector(plugin, &c), -EINVAL);
	c.sz = sizeof(c);
	c.name = NULL;
	EXPECT(api->register_collector(plugin, &c), -EINVAL);
	c.name = "reg-checks";
	c.n_hooks = 1;
	EXPECT(api->register_collector(plugin, &c), -EINVAL);
	c.hooks = &hook;
	hook.obj = NULL;
	EXPECT(api->register_collector(plugin, &c), -EINVAL);
	hook.obj = fake_obj;
	hook.sz = offsetof(struct retisc_hook_desc, target);
	EXPECT(api->register_collector(plugin, &c), -EINVAL);
	hook.sz = sizeof(hook);
	/* A hook flag this core does not know. */
	hook.flags = 0x80;
	EXPECT(api->register_collector(plugin, &c), -EINVAL);
	hook.flags = RETISC_HOOK_EXCLUSIVE | RETISC_HOOK_STACK_SKB;

	/* Options (plugin.h struct retisc_collector_opt). */
	struct retisc_collector_opt opts[2] = {
		{.name = "reg-checks-level", .arg = "N", .help = "a level"},
		{.name = "reg-checks-flag", .help = "a flag", .flags = RETISC_OPT_REPEAT},
	};
	c.opts = opts;
	c.n_opts = 2;
	opts[1].name = "Reg_Checks";
	EXPECT(api->register_collector(plugin, &c), -EINVAL);
	opts[1].name = "reg-checks--flag";
	EXPECT(api->register_collector(plugin, &c), -EINVAL);
	opts[1].name = "reg-checks-level";
	EXPECT(api->register_collector(plugin, &c), -EINVAL);
	opts[1].name = "reg-checks-flag";
	opts[1].flags = 0x80;
	EXPECT(api->register_collector(plugin, &c), -EINVAL);
	opts[1].flags = RETISC_OPT_REPEAT;
	c.opts = NULL;
	EXPECT(api->register_collector(plugin, &c), -EINVAL);
	c.opts = opts;
	EXPECT(api->register_collector(plugin, &c), 0);
	EXPECT(api->register_collector(plugin, &c), -EEXIST);
	/* Another collector may not take an option name already declared. */
	c.name = "reg-checks-other";
	c.n_opts = 1;
	EXPECT(api->register_collector(plugin, &c), -EINVAL);
	c.name = "reg-checks";
}

static void check_processors(struct retisc_plugin *plugin)
{
	struct retisc_processor_desc p = {.sz = sizeof(p), .name = "reg-checks"};

	EXPECT(api->register_processor(plugin, NULL), -EINVAL);
	EXPECT(api->register_processor(plugin, &p), -EINVAL);
	p.run = run;
	p.name = NULL;
	EXPECT(api->register_processor(plugin, &p), -EINVAL);
	p.name = "reg-checks";
	p.sz = offsetof(struct retisc_processor_desc, priv);
	EXPECT(api->register_processor(plugin, &p), -EINVAL);
	p.sz = sizeof(p);
	EXPECT(api->register_processor(plugin, &p), 0);
	EXPECT(api->register_processor(plugin, &p), -EEXIST);
}

static int sink_open(void *priv, const char *url, void **out)
{
	(void)priv;
	(void)url;
	*out = NULL;
	return 0;
}

static int sink_write(void *sink, const struct retisc_sink_record *rec)
{
	(void)sink;
	(void)rec;
	return 0;
}

static int sink_close(void *sink, struct retisc_sink_report *report)
{
	(void)sink;
	(void)report;
	return 0;
}

/* Reading back: an events file of two lines written into the pipe; the
 * URL "reg-checks://missing" fails as a missing stream would. */
static int sink_input(void *priv, const char *url, int fd, char *err, size_t errsz)
{
	static const char data[] =
		"{\"common\":{\"timestamp\":1},\"startup\":{\"retis_version\":\"v1.7.0\","
		"\"clock_monotonic_offset\":{\"sec\":0,\"nsec\":0}}}\n"
		"{\"common\":{\"timestamp\":42}}\n";
	ssize_t n;

	(void)priv;
	if (!strcmp(url, "reg-checks://missing")) {
		close(fd);
		snprintf(err, errsz, "%s: no such thing", url);
		return -ENOENT;
	}
	n = write(fd, data, sizeof(data) - 1);
	close(fd);
	return n == (ssize_t)sizeof(data) - 1 ? 0 : -EIO;
}

static void check_sinks(struct retisc_plugin *plugin)
{
	struct retisc_sink_desc k = {
		.sz = sizeof(k), .scheme = "reg-checks", .open = sink_open, .write = sink_write};
	struct {
		struct retisc_sink_desc d;
		uint64_t future;
	} big = {.d = {.sz = sizeof(big),
		       .scheme = "reg-checks-x",
		       .open = sink_open,
		       .write = sink_write,
		       .close = sink_close},
		 .future = 1};

	EXPECT(RETISC_API_HAS(api, register_sink), 1);
	EXPECT(api->register_sink(plugin, NULL), -EINVAL);
	/* close is required. */
	EXPECT(api->register_sink(plugin, &k), -EINVAL);
	k.close = sink_close;
	k.scheme = "Reg-Checks";
	EXPECT(api->register_sink(plugin, &k), -EINVAL);
	k.scheme = "";
	EXPECT(api->register_sink(plugin, &k), -EINVAL);
	k.scheme = "reg-checks";
	k.sz = offsetof(struct retisc_sink_desc, priv);
	EXPECT(api->register_sink(plugin, &k), -EINVAL);
	k.sz = sizeof(k);
	/* A newer plugin's field this core does not know, set: refused. */
	EXPECT(api->register_sink(plugin, &big.d), -EINVAL);
	k.open_input = sink_input;
	EXPECT(api->register_sink(plugin, &k), 0);
	EXPECT(api->register_sink(plugin, &k), -EEXIST);
}

static int init(struct retisc_plugin *plugin, const struct retisc_api *a)
{
	api = a;
	failed = 0;
	EXPECT(a->sz >= sizeof(struct retisc_api), 1);
	EXPECT(a->abi_version, RETISC_ABI_VERSION);
	EXPECT(RETISC_API_HAS(a, json_parse), 1);
	check_sections(plugin);
	check_collectors(plugin);
	check_processors(plugin);
	check_sinks(plugin);
	return failed ? -EBADMSG : 0;
}

static const struct retisc_plugin_desc desc = {
	.sz = sizeof(desc),
	.abi_version = RETISC_ABI_VERSION,
	.name = "reg-checks",
	.init = init,
};

RETISC_PLUGIN_DEFINE(desc)
