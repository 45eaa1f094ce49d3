/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Plugin registry: loads plugin .so files, checks their ABI, and keeps what
 * they register (collectors, event sections, processors). The core's own
 * sections (common, kernel, userspace, tracking, startup) are registered
 * through the same descriptors by retisc_registry__new().
 */
#ifndef __RETISC_REGISTRY_H
#define __RETISC_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include <retisc/plugin.h>

struct retisc_registry;

/* A registered section, as the core keeps it (fields copied from the
 * descriptor; `plugin` is NULL for core sections). */
struct retisc_section {
	char *key;
	/* For retisc_registry__section_by_key(): see retisc_key_word8(). */
	size_t klen;
	uint64_t k8;
	uint32_t rank;
	int owner; /* -1: no raw form */
	enum retisc_section_place place;
	int (*decode)(void *priv, struct retisc_json *event, uint8_t data_type, const void *data,
		      size_t size);
	int (*format)(void *priv, const struct retisc_json *section, const struct retisc_fmt *f);
	void *priv;
	int (*encode)(void *priv, uint8_t data_type, const void *data, size_t size,
		      struct retisc_json_piece *p);
	struct retisc_plugin *plugin;
};

struct retisc_collector {
	char *name;
	uint32_t order;
	char **known_types; /* NULL-terminated copy */
	struct retisc_hook_desc *hooks;
	size_t n_hooks;
	char **probes; /* NULL-terminated copy */
	int (*can_run)(void *priv, const struct retisc_collect_env *env, char *reason,
		       size_t reason_sz);
	int (*init)(void *priv, const struct retisc_collect_env *env);
	int (*start)(void *priv);
	void (*stop)(void *priv);
	void (*on_event)(void *priv, const struct retisc_json *event);
	bool (*on_event_needed)(void *priv);
	void *priv;
	struct retisc_plugin *plugin;
	int owner; /* owner id of the collector's first section, for its hooks */
	/* Command-line options (copies of the descriptor's table). */
	struct retisc_collector_opt *opts;
	size_t n_opts;
};

struct retisc_processor {
	char *name;
	char *summary;
	int (*run)(void *priv, const struct retisc_api *api, int argc, char **argv);
	void *priv;
	struct retisc_plugin *plugin;
};

/* A registered sink (plugin.h, struct retisc_sink_desc), copied. */
struct retisc_sink {
	char *scheme;
	char *summary;
	int (*open)(void *priv, const char *url, void **out);
	int (*write)(void *sink, const struct retisc_sink_record *rec);
	int (*flush)(void *sink);
	int (*close)(void *sink, struct retisc_sink_report *report);
	int (*open_input)(void *priv, const char *url, int fd, char *err, size_t errsz);
	void *priv;
	struct retisc_plugin *plugin;
};

/*
 * Create a registry holding the core's built-in sections, with the full
 * plugin API table (core/host/host.c assembles it). NULL + errno.
 */
struct retisc_registry *retisc_registry__new(void);
/*
 * The registry alone: services is the API table of the other core modules
 * (json, reader, text, env, log); the registry adds its register_*
 * functions, the size and the ABI version. NULL + errno. For host.c.
 */
struct retisc_registry *retisc_registry__create(const struct retisc_api *services);
/* Add a section that belongs to the core (no plugin). 0 or -errno. */
int retisc_registry__add_core_section(struct retisc_registry *reg,
				      const struct retisc_section_desc *desc);
/* The registry that handed out an API table. */
const struct retisc_registry *retisc_registry__of_api(const struct retisc_api *api);
/* Unload every plugin (fini, dlclose) and free. Accepts NULL. */
void retisc_registry__free(struct retisc_registry *reg);

/*
 * Load one plugin file. Errors (negative errno, logged with the path and the
 * reason): -ENOENT missing file, -EINVAL not a regular file / missing entry
 * point / descriptor too small or with unknown non-zero fields / missing
 * init, -EPROTO ABI version mismatch, -EEXIST a plugin of the same name is
 * loaded, -EPERM unsafe permissions (see retisc_registry__set_strict_perms),
 * -ELIBBAD dlopen failure, or init()'s own error.
 */
int retisc_registry__load_file(struct retisc_registry *reg, const char *path);
/*
 * Load every *.so of dir (sorted by name). Files that fail are logged and
 * skipped; returns the number loaded, or a negative errno if dir cannot be
 * read (-ENOENT is not logged: missing directories are normal).
 */
int retisc_registry__load_dir(struct retisc_registry *reg, const char *dir);
/*
 * Load from the default search path, in order: dirs given with --plugin-dir
 * (extra, NULL-terminated, may be NULL), RETISC_PLUGIN_PATH (colon
 * separated), the build tree's plugin directory when the binary runs from a
 * build tree (<exe dir>/plugins), then the installed RETISC_PLUGINDIR.
 * A plugin name found twice is loaded once (the first wins, a debug line
 * notes the other).
 */
int retisc_registry__load_default(struct retisc_registry *reg, const char *const *extra);

/* When running as root, refuse plugin files or directories writable by
 * other users (default on; RETISC_ALLOW_UNSAFE_PLUGINS=1 disables it). */
void retisc_registry__set_strict_perms(struct retisc_registry *reg, bool strict);

const struct retisc_api *retisc_registry__api(const struct retisc_registry *reg);

/* Lookups; borrowed pointers valid until the registry is freed. */
const struct retisc_section *retisc_registry__section_by_key(const struct retisc_registry *reg,
							     const char *key);
const struct retisc_section *retisc_registry__section_by_owner(const struct retisc_registry *reg,
							       int owner);
size_t retisc_registry__n_collectors(const struct retisc_registry *reg);
/* i-th collector in initialisation order. */
struct retisc_collector *retisc_registry__collector(const struct retisc_registry *reg, size_t i);
struct retisc_collector *retisc_registry__collector_by_name(const struct retisc_registry *reg,
							    const char *name);
size_t retisc_registry__n_processors(const struct retisc_registry *reg);
const struct retisc_processor *retisc_registry__processor(const struct retisc_registry *reg,
							  size_t i);
const struct retisc_processor *retisc_registry__processor_by_name(const struct retisc_registry *reg,
								  const char *name);

size_t retisc_registry__n_sinks(const struct retisc_registry *reg);
const struct retisc_sink *retisc_registry__sink(const struct retisc_registry *reg, size_t i);
/* The sink of scheme (len bytes, no "://"), or NULL. */
const struct retisc_sink *retisc_registry__sink_by_scheme(const struct retisc_registry *reg,
							  const char *scheme, size_t len);
/* Length of the scheme when s starts with "scheme://" (lowercase
 * letters, digits, "+-."), else 0. */
size_t retisc_registry__url_scheme(const char *s);

/* For `retisc plugin list`: loaded plugins, their file and what they
 * registered. */
size_t retisc_registry__n_plugins(const struct retisc_registry *reg);
const char *retisc_registry__plugin_name(const struct retisc_registry *reg, size_t i);
const char *retisc_registry__plugin_path(const struct retisc_registry *reg, size_t i);
const char *retisc_registry__plugin_version(const struct retisc_registry *reg, size_t i);
/* Appends "collector skb-tracking, section skb-tracking (owner 4)" etc. */
int retisc_registry__plugin_describe(const struct retisc_registry *reg, size_t i,
				     struct retisc_strbuf *out);

#endif /* __RETISC_REGISTRY_H */
