/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * retisc plugin helpers: the steps that section decoders, formatters and
 * plugin init() functions all take, written once over struct retisc_api.
 *
 * Header-only for the reason strbuf.h is: plugins never link against the
 * retisc binary, so everything here goes through the API table the plugin
 * was given in init() (pass it as api).
 *
 * Ownership: json.h rules. A value handed to retisc_api__put() or
 * retisc_api__put_section() belongs to the container afterwards, also when
 * the call fails (it is freed then), so callers never free what they handed
 * over. Getters return borrowed pointers, valid until the object changes.
 *
 * Errors: int functions return 0 or a negative errno; a NULL value given to
 * a put function is taken as a failed constructor (-ENOMEM). Getters return
 * false (or NULL) when the key is missing or holds another type, which
 * formatters report as -EINVAL for a mandatory key (plugin.h).
 *
 * Threads: as the API functions they call (plugin.h).
 */
#ifndef __RETISC_PLUGIN_UTIL_H
#define __RETISC_PLUGIN_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "plugin.h"

/* -------------------------------------------------------------------------
 * Building sections (decoders).
 */

/* obj[key] = v. A NULL v (a constructor that failed) gives -ENOMEM. */
static inline int retisc_api__put(const struct retisc_api *api, struct retisc_json *obj,
				  const char *key, struct retisc_json *v)
{
	return v ? api->json_obj_set(obj, key, v) : -ENOMEM;
}

/* obj[key] = v as an unsigned integer. */
static inline int retisc_api__put_u64(const struct retisc_api *api, struct retisc_json *obj,
				      const char *key, uint64_t v)
{
	return retisc_api__put(api, obj, key, api->json_new_u64(v));
}

/* obj[key] = v as a boolean. */
static inline int retisc_api__put_bool(const struct retisc_api *api, struct retisc_json *obj,
				       const char *key, bool v)
{
	return retisc_api__put(api, obj, key, api->json_new_bool(v));
}

/*
 * The last step of a decoder: err is the result of filling sec. 0: the
 * section becomes event[key] (the result of that). Otherwise sec is freed
 * and err returned, so that a half-built section never reaches the event.
 * sec is consumed in both cases.
 */
static inline int retisc_api__put_section(const struct retisc_api *api, struct retisc_json *event,
					  const char *key, struct retisc_json *sec, int err)
{
	if (err) {
		api->json_free(sec);
		return err;
	}
	return api->json_obj_set(event, key, sec);
}

/* -------------------------------------------------------------------------
 * Reading sections (formatters). obj may be NULL (no such key: false).
 */

static inline bool retisc_api__get_u64(const struct retisc_api *api, const struct retisc_json *obj,
				       const char *key, uint64_t *out)
{
	return api->json_get_u64(api->json_obj_get(obj, key), out);
}

static inline bool retisc_api__get_bool(const struct retisc_api *api, const struct retisc_json *obj,
					const char *key, bool *out)
{
	return api->json_get_bool(api->json_obj_get(obj, key), out);
}

/* The string obj[key] (borrowed) and its length in *len when len is not
 * NULL; NULL when the key is missing or not a string. */
static inline const char *retisc_api__get_str(const struct retisc_api *api,
					      const struct retisc_json *obj, const char *key,
					      size_t *len)
{
	return api->json_get_str(api->json_obj_get(obj, key), len);
}

/* -------------------------------------------------------------------------
 * The running kernel (can_run()).
 */

/* Is kernel module name loaded (a line of /proc/modules)? false when the
 * file cannot be read. Any thread. */
static inline bool retisc_kernel__module_loaded(const char *name)
{
	size_t len = strlen(name);
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/modules", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, name, len) && line[len] == ' ';
	fclose(f);
	return found;
}

/* -------------------------------------------------------------------------
 * Registration (init()).
 */

/*
 * What a collector plugin's init() registers, in order: its n_secs sections
 * (owner ids are not returned: call register_section() directly to learn a
 * dynamic one), then the collector. Returns 0 or the first error, as
 * register_section()/register_collector() give it; the core drops what was
 * registered before a failing init() (plugin.h).
 */
static inline int retisc_plugin__register_collector(struct retisc_plugin *plugin,
						    const struct retisc_api *api,
						    const struct retisc_section_desc *secs,
						    size_t n_secs,
						    const struct retisc_collector_desc *col)
{
	int err;

	for (size_t i = 0; i < n_secs; i++) {
		err = api->register_section(plugin, &secs[i], NULL);
		if (err)
			return err;
	}
	return api->register_collector(plugin, col);
}

/*
 * Define a whole plugin made of one processor: its init(), which registers
 * the processor, its descriptor and the entry point (RETISC_PLUGIN_DEFINE()).
 * name_ (a string) names both the plugin and the processor, version_ is the
 * plugin's version, summary_ the processor's line of `retisc process
 * --help`, run_ its run callback (priv is NULL). Once per .so, at file scope.
 * Its name starts with RETISC_PLUGIN_DEFINE on purpose: the build tells the
 * files that define a plugin's entry point by that string.
 */
#define RETISC_PLUGIN_DEFINE_PROCESSOR(name_, version_, summary_, run_)                            \
	static int retisc_processor_plugin__init(struct retisc_plugin *plugin,                     \
						 const struct retisc_api *api)                     \
	{                                                                                          \
		const struct retisc_processor_desc p = {                                           \
			.sz = sizeof(p),                                                           \
			.name = (name_),                                                           \
			.summary = (summary_),                                                     \
			.run = (run_),                                                             \
		};                                                                                 \
                                                                                                   \
		return api->register_processor(plugin, &p);                                        \
	}                                                                                          \
                                                                                                   \
	static const struct retisc_plugin_desc retisc_processor_plugin__desc = {                   \
		.sz = sizeof(retisc_processor_plugin__desc),                                       \
		.abi_version = RETISC_ABI_VERSION,                                                 \
		.name = (name_),                                                                   \
		.version = (version_),                                                             \
		.init = retisc_processor_plugin__init,                                             \
	};                                                                                         \
                                                                                                   \
	RETISC_PLUGIN_DEFINE(retisc_processor_plugin__desc)

#endif /* __RETISC_PLUGIN_UTIL_H */
