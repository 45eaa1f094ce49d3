// SPDX-License-Identifier: GPL-2.0-only
/*
 * mark: an example third-party collector, built out of the retisc tree
 * against the installed SDK. It adds a `mark` section ({"mark":N,
 * "priority":N}) to every event that carries an skb, shown as
 * `mark 0x2a priority 6` in text output.
 *
 * The section asks for a dynamic owner id (owner 0): the core picks a free
 * id >= RETISC_OWNER_DYNAMIC at load time and writes it into the hook's
 * retisc_owner, so this plugin never collides with another one.
 *
 * It declares one option, `--mark-mask MASK` (also `mark_mask:` in a
 * profile's args): the bits of the mark to report, handed to the hook as
 * read-only data.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include <retisc/plugin.h>

#include "mark.h"
#include "mark_hook.skel.h"

static const struct retisc_api *api;

static int decode(void *priv, struct retisc_json *event, uint8_t type, const void *data,
		  size_t size)
{
	struct retisc_json *s;
	struct mark_raw raw;
	int err;

	(void)priv;
	if (type != MARK_DATA_TYPE || size < sizeof(raw))
		return -EINVAL;
	memcpy(&raw, data, sizeof(raw));
	s = api->json_new_object();
	if (!s)
		return -ENOMEM;
	err = api->json_obj_set(s, "mark", api->json_new_u64(raw.mark))
		      ?: api->json_obj_set(s, "priority", api->json_new_u64(raw.priority));
	if (err) {
		api->json_free(s);
		return err;
	}
	return api->json_obj_set(event, "mark", s);
}

static int format(void *priv, const struct retisc_json *sec, const struct retisc_fmt *f)
{
	uint64_t mark, prio;

	(void)priv;
	if (!api->json_get_u64(api->json_obj_get(sec, "mark"), &mark) ||
	    !api->json_get_u64(api->json_obj_get(sec, "priority"), &prio))
		return -EINVAL;
	return retisc_strbuf__printf(f->out, "mark 0x%llx priority %llu", (unsigned long long)mark,
				     (unsigned long long)prio);
}

static const char *const known_types[] = {"struct sk_buff *", NULL};

/* Written into the hook's mark_mask before it loads (after init()). */
static __u32 mark_mask = 0xffffffff;

static int collector_init(void *priv, const struct retisc_collect_env *env)
{
	const char *const *v = api->env_option(env, "mark-mask");
	unsigned long m;
	char *end;

	(void)priv;
	if (!v)
		return 0;
	errno = 0;
	m = strtoul(v[0], &end, 0);
	if (errno || !*v[0] || *end || m > 0xffffffffUL) {
		api->log(RETISC_LOG_ERROR, "mark: invalid --mark-mask '%s' (a 32-bit number)",
			 v[0]);
		return -EINVAL;
	}
	mark_mask = (__u32)m;
	return 0;
}

static int init(struct retisc_plugin *plugin, const struct retisc_api *a)
{
	struct retisc_section_desc sec = {
		.sz = sizeof(sec),
		.key = "mark",
		/* After every built-in section. */
		.rank = 1000,
		.owner = 0,
		.place = RETISC_PLACE_BODY,
		.decode = decode,
		.format = format,
	};
	static const struct retisc_hook_rodata rodata[] = {
		{.name = "mark_mask", .value = &mark_mask, .size = sizeof(mark_mask)},
	};
	static const struct retisc_collector_opt opts[] = {
		{.name = "mark-mask", .arg = "MASK", .help = "bits of the mark to report"},
	};
	struct retisc_hook_desc hook = {
		.sz = sizeof(hook),
		.name = "mark_hook",
		.rodata = rodata,
		.n_rodata = 1,
	};
	struct retisc_collector_desc col = {
		.sz = sizeof(col),
		.name = "mark",
		.known_types = known_types,
		.hooks = &hook,
		.n_hooks = 1,
		/* After the built-in collectors. */
		.order = 1000,
		.init = collector_init,
		.opts = opts,
		.n_opts = 1,
	};
	int owner, err;

	api = a;
	hook.obj = mark_hook__elf_bytes(&hook.obj_sz);
	err = a->register_section(plugin, &sec, &owner);
	if (err)
		return err;
	a->log(RETISC_LOG_DEBUG, "mark: section owner id %d", owner);
	return a->register_collector(plugin, &col);
}

RETISC_PLUGIN("mark", "1.0.0", init)
