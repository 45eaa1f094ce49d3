// SPDX-License-Identifier: GPL-2.0-only
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <retisc/event.h>

#include "btf_info.h"
#include "collect_env.h"
#include "trust.h"
#include "util.h"
#include "log.h"
#include "registry.h"
#include "reader.h"

struct retisc_plugin {
	char *name;
	char *path;
	char *version;
	void *handle;
	/*
	 * The checked file, open while the plugin is mapped: the loader opens
	 * it as /proc/self/fd/<fd>, and a name the dynamic linker already
	 * knows would give back the old object, so the number is not reused
	 * before dlclose().
	 */
	int fd;
	void (*fini)(struct retisc_plugin *plugin);
	struct retisc_registry *reg;
};

struct retisc_registry {
	struct retisc_api api;
	struct retisc_plugin **plugins;
	size_t n_plugins;
	struct retisc_section *sections;
	size_t n_sections;
	struct retisc_collector *collectors;
	size_t n_collectors;
	struct retisc_processor *processors;
	size_t n_processors;
	struct retisc_sink *sinks;
	size_t n_sinks;
	/* Registries alive, for the INPUT hook (api_reader_open). */
	struct retisc_registry *next_live;
	bool strict_perms;
	/* Plugin whose init() is running: registration is only valid then. */
	struct retisc_plugin *initialising;
};

/* The API table points at these; registry pointer recovered from plugin. */
static int api_register_collector(struct retisc_plugin *plugin,
				  const struct retisc_collector_desc *desc);
static void collector_release(struct retisc_collector *c);
static int api_register_section(struct retisc_plugin *plugin,
				const struct retisc_section_desc *desc, int *owner_out);
static int api_register_processor(struct retisc_plugin *plugin,
				  const struct retisc_processor_desc *desc);
static int api_register_sink(struct retisc_plugin *plugin, const struct retisc_sink_desc *desc);
static struct retisc_reader *api_reader_open(const char *input, char *err, size_t errsz);

/*
 * api_reader_open() has no registry argument (the reader_open signature
 * is ABI): it looks for a sink scheme in every registry alive. Main thread
 * only, as registries are.
 */
static struct retisc_registry *live_regs;
/* The core's own reader_open, behind the hook. */
static struct retisc_reader *(*file_reader_open)(const char *input, char *err, size_t errsz);

/*
 * libbpf-style extensible struct check: the caller's struct must cover the
 * first version (min_sz), and any bytes past what this core knows must be 0.
 */
static int desc_check(const void *desc, size_t user_sz, size_t min_sz, size_t core_sz)
{
	const unsigned char *p = desc;

	if (!desc || user_sz < min_sz)
		return -EINVAL;
	for (size_t i = core_sz; i < user_sz; i++)
		if (p[i])
			return -EINVAL;
	return 0;
}

/* Copy a caller struct of size user_sz into a zeroed core struct. */
static void desc_copy(void *dst, size_t core_sz, const void *src, size_t user_sz)
{
	memset(dst, 0, core_sz);
	memcpy(dst, src, user_sz < core_sz ? user_sz : core_sz);
}

static char **strv_dup(const char *const *v)
{
	size_t n = 0;
	char **out;

	while (v && v[n])
		n++;
	out = calloc(n + 1, sizeof(*out));
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		out[i] = strdup(v[i]);
		if (!out[i]) {
			for (size_t j = 0; j < i; j++)
				free(out[j]);
			free(out);
			return NULL;
		}
	}
	return out;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static int section_add(struct retisc_registry *reg, const struct retisc_section_desc *d,
		       struct retisc_plugin *plugin, int *owner_out)
{
	struct retisc_section *s;
	int owner = d->owner;

	if (!d->key || !*d->key)
		return -EINVAL;
	if (retisc_registry__section_by_key(reg, d->key))
		return -EEXIST;
	if (owner == 0) {
		for (owner = RETISC_OWNER_DYNAMIC; owner <= RETISC_OWNER_MAX; owner++)
			if (!retisc_registry__section_by_owner(reg, owner))
				break;
		if (owner > RETISC_OWNER_MAX)
			return -ENOSPC;
	} else if (owner > RETISC_OWNER_MAX || owner < -1) {
		return -EINVAL;
	} else if (owner > 0 && retisc_registry__section_by_owner(reg, owner)) {
		return -EEXIST;
	}
	s = realloc(reg->sections, (reg->n_sections + 1) * sizeof(*s));
	if (!s)
		return -ENOMEM;
	reg->sections = s;
	s = &reg->sections[reg->n_sections];
	memset(s, 0, sizeof(*s));
	s->key = strdup(d->key);
	if (!s->key)
		return -ENOMEM;
	s->klen = strlen(s->key);
	s->k8 = retisc_key_word8(s->key, s->klen);
	s->rank = d->rank;
	s->owner = owner;
	s->place = d->place;
	s->decode = d->decode;
	s->format = d->format;
	s->priv = d->priv;
	s->encode = d->encode;
	s->plugin = plugin;
	reg->n_sections++;
	if (owner_out)
		*owner_out = owner;
	return 0;
}

/* A core section (no plugin): render's text-only sections, for example. */
int retisc_registry__add_core_section(struct retisc_registry *reg,
				      const struct retisc_section_desc *desc)
{
	return section_add(reg, desc, NULL, NULL);
}

const struct retisc_registry *retisc_registry__of_api(const struct retisc_api *api)
{
	/* The table is a named member of the registry that handed it out. */
	return (const struct retisc_registry *)((const char *)api -
						offsetof(struct retisc_registry, api));
}

struct retisc_registry *retisc_registry__create(const struct retisc_api *services)
{
	struct retisc_registry *reg = calloc(1, sizeof(*reg));
	const char *unsafe = getenv("RETISC_ALLOW_UNSAFE_PLUGINS");

	if (!reg)
		return NULL;
	reg->strict_perms = !(unsafe && !strcmp(unsafe, "1"));
	/* The services of the other core modules, then the registry's own. */
	reg->api = *services;
	reg->api.sz = sizeof(struct retisc_api);
	reg->api.abi_version = RETISC_ABI_VERSION;
	reg->api.register_collector = api_register_collector;
	reg->api.register_section = api_register_section;
	reg->api.register_processor = api_register_processor;
	reg->api.register_sink = api_register_sink;
	/* SCHEME://... inputs go to the sink of that scheme (plugin.h). */
	file_reader_open = services->reader_open;
	reg->api.reader_open = api_reader_open;
	reg->next_live = live_regs;
	live_regs = reg;
	return reg;
}

static void plugin_free(struct retisc_plugin *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->path);
	free(p->version);
	free(p);
}

/* Drop everything a plugin registered (its init() failed). */
static void registry_forget(struct retisc_registry *reg, struct retisc_plugin *p)
{
	size_t j = 0;

	for (size_t i = 0; i < reg->n_sections; i++) {
		if (reg->sections[i].plugin == p)
			free(reg->sections[i].key);
		else
			reg->sections[j++] = reg->sections[i];
	}
	reg->n_sections = j;
	j = 0;
	for (size_t i = 0; i < reg->n_collectors; i++) {
		struct retisc_collector *c = &reg->collectors[i];

		if (c->plugin == p)
			collector_release(c);
		else
			reg->collectors[j++] = *c;
	}
	reg->n_collectors = j;
	j = 0;
	for (size_t i = 0; i < reg->n_processors; i++) {
		struct retisc_processor *pr = &reg->processors[i];

		if (pr->plugin == p) {
			free(pr->name);
			free(pr->summary);
		} else {
			reg->processors[j++] = *pr;
		}
	}
	reg->n_processors = j;
	j = 0;
	for (size_t i = 0; i < reg->n_sinks; i++) {
		struct retisc_sink *sk = &reg->sinks[i];

		if (sk->plugin == p) {
			free(sk->scheme);
			free(sk->summary);
		} else {
			reg->sinks[j++] = *sk;
		}
	}
	reg->n_sinks = j;
}

void retisc_registry__free(struct retisc_registry *reg)
{
	if (!reg)
		return;
	for (size_t i = reg->n_plugins; i-- > 0;) {
		struct retisc_plugin *p = reg->plugins[i];

		if (p->fini)
			p->fini(p);
	}
	for (size_t i = 0; i < reg->n_plugins; i++)
		registry_forget(reg, reg->plugins[i]);
	registry_forget(reg, NULL);
	for (size_t i = 0; i < reg->n_plugins; i++) {
		/* Sanitizer builds keep the code mapped so leak reports can
		 * still symbolise plugin frames. */
		if (!getenv("RETISC_NO_DLCLOSE")) {
			dlclose(reg->plugins[i]->handle);
			close(reg->plugins[i]->fd);
		}
		plugin_free(reg->plugins[i]);
	}
	free(reg->plugins);
	free(reg->sections);
	free(reg->collectors);
	free(reg->processors);
	free(reg->sinks);
	for (struct retisc_registry **r = &live_regs; *r; r = &(*r)->next_live) {
		if (*r == reg) {
			*r = reg->next_live;
			break;
		}
	}
	free(reg);
}

void retisc_registry__set_strict_perms(struct retisc_registry *reg, bool strict)
{
	reg->strict_perms = strict;
}

const struct retisc_api *retisc_registry__api(const struct retisc_registry *reg)
{
	return &reg->api;
}

static struct retisc_plugin *plugin_by_name(const struct retisc_registry *reg, const char *name)
{
	for (size_t i = 0; i < reg->n_plugins; i++)
		if (!strcmp(reg->plugins[i]->name, name))
			return reg->plugins[i];
	return NULL;
}

int retisc_registry__load_file(struct retisc_registry *reg, const char *path)
{
	const struct retisc_plugin_desc *udesc;
	struct retisc_plugin_desc desc;
	struct retisc_plugin *p = NULL, **v;
	retisc_plugin_entry_fn entry;
	char why[160], fdpath[64], dir[PATH_MAX];
	void *handle = NULL;
	bool bad_dir;
	int err, fd;

	/*
	 * Check the opened file (trust.h), then load that same file through
	 * its descriptor: a file swapped in after the check is never loaded.
	 */
	fd = retisc_trust__open(path, reg->strict_perms, &bad_dir, why, sizeof(why));
	if (fd == -EPERM) {
		retisc_trust__dirname(path, dir, sizeof(dir));
		if (bad_dir)
			pr_err("Refusing plugin %s: its directory %s is %s; set "
			       "RETISC_ALLOW_UNSAFE_PLUGINS=1 to override",
			       path, dir, why);
		else
			pr_err("Refusing plugin %s: %s; set RETISC_ALLOW_UNSAFE_PLUGINS=1 to "
			       "override",
			       path, why);
		return fd;
	}
	if (fd < 0) {
		pr_err("Cannot load plugin %s: %s", path, fd == -EINVAL ? why : strerror(-fd));
		return fd;
	}
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	handle = dlopen(fdpath, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		pr_err("Cannot load plugin %s: %s", path, dlerror());
		close(fd);
		return -ELIBBAD;
	}
	entry = (retisc_plugin_entry_fn)dlsym(handle, RETISC_PLUGIN_ENTRY_SYMBOL);
	if (!entry) {
		pr_err("Cannot load plugin %s: no entry point '%s' (not a retisc plugin?)", path,
		       RETISC_PLUGIN_ENTRY_SYMBOL);
		err = -EINVAL;
		goto err_out;
	}
	udesc = entry();
	if (!udesc) {
		pr_err("Cannot load plugin %s: entry point returned no descriptor", path);
		err = -EINVAL;
		goto err_out;
	}
	/* abi_version sits right after sz: check it before trusting sz. */
	if (udesc->sz >= offsetofend(struct retisc_plugin_desc, abi_version) &&
	    udesc->abi_version != RETISC_ABI_VERSION) {
		pr_err("Cannot load plugin %s: built for plugin ABI version %u, this retisc "
		       "supports version %u",
		       path, udesc->abi_version, RETISC_ABI_VERSION);
		err = -EPROTO;
		goto err_out;
	}
	if (desc_check(udesc, udesc->sz, offsetofend(struct retisc_plugin_desc, fini),
		       sizeof(desc))) {
		pr_err("Cannot load plugin %s: plugin descriptor size %zu is invalid (expected at "
		       "least %zu, unknown trailing fields must be zero)",
		       path, udesc->sz, offsetofend(struct retisc_plugin_desc, fini));
		err = -EINVAL;
		goto err_out;
	}
	desc_copy(&desc, sizeof(desc), udesc, udesc->sz);
	if (!desc.name || !*desc.name || !desc.init) {
		pr_err("Cannot load plugin %s: descriptor lacks %s", path,
		       desc.init ? "a name" : "an init function");
		err = -EINVAL;
		goto err_out;
	}
	if (plugin_by_name(reg, desc.name)) {
		pr_err("Cannot load plugin %s: a plugin named '%s' is already loaded from %s", path,
		       desc.name, plugin_by_name(reg, desc.name)->path);
		err = -EEXIST;
		goto err_out;
	}

	p = calloc(1, sizeof(*p));
	v = realloc(reg->plugins, (reg->n_plugins + 1) * sizeof(*v));
	if (!p || !v) {
		free(p);
		p = NULL;
		if (v)
			reg->plugins = v;
		err = -ENOMEM;
		goto err_out;
	}
	reg->plugins = v;
	p->name = strdup(desc.name);
	p->path = strdup(path);
	p->version = strdup(desc.version ? desc.version : "");
	p->handle = handle;
	p->fd = fd;
	p->fini = desc.fini;
	p->reg = reg;
	if (!p->name || !p->path || !p->version) {
		err = -ENOMEM;
		goto err_out;
	}

	reg->initialising = p;
	err = desc.init(p, &reg->api);
	reg->initialising = NULL;
	if (err) {
		pr_err("Cannot load plugin %s: its init failed: %s", path, strerror(-err));
		registry_forget(reg, p);
		goto err_out;
	}
	reg->plugins[reg->n_plugins++] = p;
	pr_debug("Loaded plugin %s (%s)", p->name, path);
	return 0;

err_out:
	plugin_free(p);
	if (handle)
		dlclose(handle);
	close(fd);
	return err;
}

static int so_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 3 && !strcmp(d->d_name + n - 3, ".so");
}

/*
 * Load every *.so of dir in name order. With skip_loaded, a file whose
 * plugin name is already loaded is skipped: an earlier directory of the
 * search path wins.
 */
static int load_dir(struct retisc_registry *reg, const char *dir, bool skip_loaded)
{
	struct dirent **list;
	int n, loaded = 0;

	n = scandir(dir, &list, so_filter, alphasort);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX], name[256];
		size_t len = strlen(list[i]->d_name) - 3;

		snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);
		snprintf(name, sizeof(name), "%.*s", (int)len, list[i]->d_name);
		if (skip_loaded && plugin_by_name(reg, name))
			pr_debug("Plugin %s shadowed by %s", path, plugin_by_name(reg, name)->path);
		else if (!retisc_registry__load_file(reg, path))
			loaded++;
		free(list[i]);
	}
	free(list);
	return loaded;
}

int retisc_registry__load_dir(struct retisc_registry *reg, const char *dir)
{
	return load_dir(reg, dir, false);
}

static int load_dir_once(struct retisc_registry *reg, const char *dir)
{
	return load_dir(reg, dir, true);
}

int retisc_registry__load_default(struct retisc_registry *reg, const char *const *extra)
{
	char exe[PATH_MAX], dir[PATH_MAX + 16];
	const char *env = getenv("RETISC_PLUGIN_PATH");
	ssize_t n;
	int total = 0, err;

	for (size_t i = 0; extra && extra[i]; i++) {
		err = load_dir_once(reg, extra[i]);
		if (err < 0) {
			pr_err("Cannot read plugin directory %s: %s", extra[i], strerror(-err));
			return err;
		}
		total += err;
	}
	if (env && *env) {
		char *copy = strdup(env), *save = NULL;

		if (!copy)
			return -ENOMEM;
		for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
			err = load_dir_once(reg, d);
			if (err > 0)
				total += err;
			else if (err < 0 && err != -ENOENT)
				pr_warn("Cannot read plugin directory %s: %s", d, strerror(-err));
		}
		free(copy);
	}
	/* Running from the build tree: build/retisc next to build/plugins. */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(dir, sizeof(dir), "%s/plugins", exe);
			err = load_dir_once(reg, dir);
			if (err > 0)
				total += err;
		}
	}
	err = load_dir_once(reg, RETISC_PLUGINDIR);
	if (err > 0)
		total += err;
	return total;
}

static struct retisc_registry *plugin_reg(struct retisc_plugin *plugin)
{
	if (!plugin || !plugin->reg || plugin->reg->initialising != plugin)
		return NULL;
	return plugin->reg;
}

static int api_register_section(struct retisc_plugin *plugin,
				const struct retisc_section_desc *udesc, int *owner_out)
{
	struct retisc_registry *reg = plugin_reg(plugin);
	struct retisc_section_desc d;
	int err, owner;

	if (!reg || !udesc)
		return -EINVAL;
	err = desc_check(udesc, udesc->sz, offsetofend(struct retisc_section_desc, priv),
			 sizeof(d));
	if (err) {
		pr_err("Plugin %s: section descriptor of size %zu refused", plugin->name,
		       udesc->sz);
		return err;
	}
	desc_copy(&d, sizeof(d), udesc, udesc->sz);
	err = section_add(reg, &d, plugin, owner_out);
	if (err) {
		pr_err("Plugin %s: cannot register section '%s': %s", plugin->name,
		       d.key ? d.key : "(null)", strerror(-err));
		return err;
	}
	/* A collector registered before its plugin's first raw section gets
	 * that section's owner id too (its hooks write it). */
	owner = reg->sections[reg->n_sections - 1].owner;
	for (size_t i = 0; owner > 0 && i < reg->n_collectors; i++)
		if (reg->collectors[i].plugin == plugin && reg->collectors[i].owner < 0)
			reg->collectors[i].owner = owner;
	return 0;
}

static int collector_cmp(const void *a, const void *b)
{
	const struct retisc_collector *x = a, *y = b;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Free what a registered collector owns (accepts a partly filled one). */
static void collector_release(struct retisc_collector *c)
{
	free(c->name);
	strv_free(c->known_types);
	strv_free(c->probes);
	free(c->hooks);
	for (size_t i = 0; i < c->n_opts; i++) {
		free((char *)c->opts[i].name);
		free((char *)c->opts[i].arg);
		free((char *)c->opts[i].help);
	}
	free(c->opts);
	memset(c, 0, sizeof(*c));
}

/* Lowercase kebab-case: [a-z0-9] words joined by single '-'. */
static bool kebab(const char *s)
{
	if (!s || !*s || *s == '-')
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      (*p == '-' && p[1] && p[1] != '-')))
			return false;
	return true;
}

/* An option name some registered collector already declares. */
static const struct retisc_collector *opt_owner(const struct retisc_registry *reg, const char *name)
{
	for (size_t i = 0; i < reg->n_collectors; i++)
		for (size_t j = 0; j < reg->collectors[i].n_opts; j++)
			if (!strcmp(reg->collectors[i].opts[j].name, name))
				return &reg->collectors[i];
	return NULL;
}

/* Copy and check a collector's option table (plugin.h rules). */
static int collector_opts_copy(struct retisc_registry *reg, struct retisc_plugin *plugin,
			       struct retisc_collector *c, const struct retisc_collector_desc *d)
{
	if (!d->n_opts)
		return 0;
	if (!d->opts)
		return -EINVAL;
	c->opts = calloc(d->n_opts, sizeof(*c->opts));
	if (!c->opts)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_opts; i++) {
		const struct retisc_collector_opt *o = &d->opts[i];
		const struct retisc_collector *other = NULL;
		bool dup = false;

		for (size_t j = 0; j < i; j++)
			dup |= o->name && !strcmp(o->name, d->opts[j].name);
		if (!kebab(o->name) || dup || (other = opt_owner(reg, o->name)) ||
		    (o->flags & ~(unsigned int)(RETISC_OPT_REPEAT | RETISC_OPT_LIST))) {
			pr_err("Plugin %s: option '%s' of collector '%s' refused (%s)",
			       plugin->name, o->name ? o->name : "(null)", d->name,
			       !kebab(o->name) ? "not a kebab-case name"
			       : dup	       ? "declared twice"
			       : other	       ? "another collector declares it"
					       : "unknown flags");
			return -EINVAL;
		}
		c->opts[i] = (struct retisc_collector_opt){
			.name = strdup(o->name),
			.arg = o->arg ? strdup(o->arg) : NULL,
			.help = strdup(o->help ? o->help : ""),
			.flags = o->flags,
		};
		c->n_opts = i + 1;
		if (!c->opts[i].name || !c->opts[i].help || (o->arg && !c->opts[i].arg))
			return -ENOMEM;
	}
	return 0;
}

static int api_register_collector(struct retisc_plugin *plugin,
				  const struct retisc_collector_desc *udesc)
{
	struct retisc_registry *reg = plugin_reg(plugin);
	struct retisc_collector_desc d;
	struct retisc_collector *c;
	int err;

	if (!reg || !udesc)
		return -EINVAL;
	err = desc_check(udesc, udesc->sz, offsetofend(struct retisc_collector_desc, priv),
			 sizeof(d));
	if (err) {
		pr_err("Plugin %s: collector descriptor of size %zu refused", plugin->name,
		       udesc->sz);
		return err;
	}
	desc_copy(&d, sizeof(d), udesc, udesc->sz);
	if (!d.name || !*d.name || (d.n_hooks && !d.hooks))
		return -EINVAL;
	if (retisc_registry__collector_by_name(reg, d.name)) {
		pr_err("Plugin %s: collector '%s' is already registered", plugin->name, d.name);
		return -EEXIST;
	}
	c = realloc(reg->collectors, (reg->n_collectors + 1) * sizeof(*c));
	if (!c)
		return -ENOMEM;
	reg->collectors = c;
	c = &reg->collectors[reg->n_collectors];
	memset(c, 0, sizeof(*c));
	c->name = strdup(d.name);
	c->known_types = strv_dup(d.known_types);
	c->probes = strv_dup(d.probes);
	c->hooks = calloc(d.n_hooks ? d.n_hooks : 1, sizeof(*c->hooks));
	err = !c->name || !c->known_types || !c->probes || !c->hooks ? -ENOMEM : 0;
	err = err ?: collector_opts_copy(reg, plugin, c, &d);
	if (err)
		goto fail;
	for (size_t i = 0; i < d.n_hooks; i++) {
		const struct retisc_hook_desc *h = &d.hooks[i];

		if (desc_check(h, h->sz, offsetofend(struct retisc_hook_desc, target),
			       sizeof(*h)) ||
		    !h->obj || !h->obj_sz) {
			pr_err("Plugin %s: hook %zu of collector '%s' is invalid", plugin->name, i,
			       d.name);
			err = -EINVAL;
			goto fail;
		}
		desc_copy(&c->hooks[i], sizeof(c->hooks[i]), h, h->sz);
		/* A flag this core does not know would be silently ignored. */
		if (c->hooks[i].flags &
		    ~(uint32_t)(RETISC_HOOK_EXCLUSIVE | RETISC_HOOK_STACK_SKB)) {
			pr_err("Plugin %s: hook %zu of collector '%s' has unknown flags %#x",
			       plugin->name, i, d.name, c->hooks[i].flags);
			err = -EINVAL;
			goto fail;
		}
	}
	c->n_hooks = d.n_hooks;
	c->order = d.order;
	c->can_run = d.can_run;
	c->init = d.init;
	c->start = d.start;
	c->stop = d.stop;
	/* Zero for descriptors older than the field (desc_copy()). */
	c->on_event = d.on_event;
	c->on_event_needed = d.on_event_needed;
	c->priv = d.priv;
	c->plugin = plugin;
	c->owner = -1;
	/* Hooks write the owner id of the collector's sections. */
	for (size_t i = 0; i < reg->n_sections; i++) {
		if (reg->sections[i].plugin == plugin && reg->sections[i].owner > 0) {
			c->owner = reg->sections[i].owner;
			break;
		}
	}
	reg->n_collectors++;
	qsort(reg->collectors, reg->n_collectors, sizeof(*reg->collectors), collector_cmp);
	return 0;
fail:
	collector_release(c);
	return err;
}

static int api_register_processor(struct retisc_plugin *plugin,
				  const struct retisc_processor_desc *udesc)
{
	struct retisc_registry *reg = plugin_reg(plugin);
	struct retisc_processor_desc d;
	struct retisc_processor *p;
	int err;

	if (!reg || !udesc)
		return -EINVAL;
	err = desc_check(udesc, udesc->sz, offsetofend(struct retisc_processor_desc, priv),
			 sizeof(d));
	if (err)
		return err;
	desc_copy(&d, sizeof(d), udesc, udesc->sz);
	if (!d.name || !*d.name || !d.run)
		return -EINVAL;
	if (retisc_registry__processor_by_name(reg, d.name))
		return -EEXIST;
	p = realloc(reg->processors, (reg->n_processors + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	reg->processors = p;
	p = &reg->processors[reg->n_processors];
	p->name = strdup(d.name);
	p->summary = strdup(d.summary ? d.summary : "");
	if (!p->name || !p->summary) {
		free(p->name);
		free(p->summary);
		return -ENOMEM;
	}
	p->run = d.run;
	p->priv = d.priv;
	p->plugin = plugin;
	reg->n_processors++;
	return 0;
}

static int api_register_sink(struct retisc_plugin *plugin, const struct retisc_sink_desc *udesc)
{
	struct retisc_registry *reg = plugin_reg(plugin);
	struct retisc_sink_desc d;
	struct retisc_sink *sk;

	if (!reg || !udesc)
		return -EINVAL;
	if (desc_check(udesc, udesc->sz, offsetofend(struct retisc_sink_desc, priv), sizeof(d)))
		return -EINVAL;
	desc_copy(&d, sizeof(d), udesc, udesc->sz);
	if (!d.scheme || !*d.scheme || strspn(d.scheme, "abcdefghijklmnopqrstuvwxyz0123456789+-.") !=
						  strlen(d.scheme) ||
	    !d.open || !d.write || !d.close)
		return -EINVAL;
	if (retisc_registry__sink_by_scheme(reg, d.scheme, strlen(d.scheme)))
		return -EEXIST;
	sk = realloc(reg->sinks, (reg->n_sinks + 1) * sizeof(*sk));
	if (!sk)
		return -ENOMEM;
	reg->sinks = sk;
	sk = &reg->sinks[reg->n_sinks];
	memset(sk, 0, sizeof(*sk));
	sk->scheme = strdup(d.scheme);
	sk->summary = strdup(d.summary ? d.summary : "");
	if (!sk->scheme || !sk->summary) {
		free(sk->scheme);
		free(sk->summary);
		return -ENOMEM;
	}
	sk->open = d.open;
	sk->write = d.write;
	sk->flush = d.flush;
	sk->close = d.close;
	sk->open_input = d.open_input;
	sk->priv = d.priv;
	sk->plugin = plugin;
	reg->n_sinks++;
	return 0;
}

const struct retisc_sink *retisc_registry__sink_by_scheme(const struct retisc_registry *reg,
							  const char *scheme, size_t len)
{
	for (size_t i = 0; i < reg->n_sinks; i++)
		if (strlen(reg->sinks[i].scheme) == len && !strncmp(reg->sinks[i].scheme, scheme, len))
			return &reg->sinks[i];
	return NULL;
}

size_t retisc_registry__url_scheme(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789+-.");

	return n && !strncmp(s + n, "://", 3) ? n : 0;
}

/*
 * The INPUT hook (doc/processing.md §0): SCHEME://... is read by the sink
 * of that scheme into a pipe, which the file reader reads as it reads
 * stdin, so that every processor takes such an input with no change.
 */
static struct retisc_reader *api_reader_open(const char *input, char *err, size_t errsz)
{
	size_t n = input ? retisc_registry__url_scheme(input) : 0;
	const struct retisc_sink *sk = NULL;
	struct retisc_reader *r;
	char path[32];
	int fds[2], ret;

	for (const struct retisc_registry *reg = live_regs; n && reg && !sk; reg = reg->next_live)
		sk = retisc_registry__sink_by_scheme(reg, input, n);
	if (!n)
		return file_reader_open(input, err, errsz);
	if (!sk || !sk->open_input) {
		snprintf(err, errsz, "%s: no plugin reads %.*s:// inputs%s", input, (int)n, input,
			 sk ? "" : " (see `retisc plugin list`)");
		errno = ENOENT;
		return NULL;
	}
	if (pipe2(fds, O_CLOEXEC)) {
		snprintf(err, errsz, "%s: %s", input, strerror(errno));
		return NULL;
	}
	ret = sk->open_input(sk->priv, input, fds[1], err, errsz);
	if (ret) {
		close(fds[0]);
		errno = -ret;
		return NULL;
	}
	/* The reader opens its own descriptor of the pipe; messages name
	 * the URL through the path the reader shows. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[0]);
	r = file_reader_open(path, err, errsz);
	ret = errno;
	close(fds[0]);
	/* The reader's message names the pipe: name the URL instead. */
	if (!r && !strncmp(err, path, strlen(path))) {
		char *tail = strdup(err + strlen(path));

		if (tail) {
			snprintf(err, errsz, "%s%s", input, tail);
			free(tail);
		}
	}
	errno = ret;
	return r;
}

size_t retisc_registry__n_sinks(const struct retisc_registry *reg)
{
	return reg->n_sinks;
}

const struct retisc_sink *retisc_registry__sink(const struct retisc_registry *reg, size_t i)
{
	return i < reg->n_sinks ? &reg->sinks[i] : NULL;
}

__attribute__((no_sanitize_address)) const struct retisc_section *
retisc_registry__section_by_key(const struct retisc_registry *reg, const char *key)
{
	size_t qlen;
	uint64_t q8;

	/*
	 * Called for every key of every event: the key's first 8 bytes and
	 * length settle most (section keys sharing a first byte are "skb",
	 * "skb-drop", "skb-tracking", "startup").
	 */
	q8 = retisc_str_word8(key, &qlen);
	for (size_t i = 0; i < reg->n_sections; i++) {
		const struct retisc_section *sec = &reg->sections[i];

		if (sec->k8 == q8 && (qlen < 8 ? sec->klen == qlen
					       : sec->klen >= 8 && !strcmp(sec->key + 8, key + 8)))
			return sec;
	}
	return NULL;
}

const struct retisc_section *retisc_registry__section_by_owner(const struct retisc_registry *reg,
							       int owner)
{
	for (size_t i = 0; i < reg->n_sections; i++)
		if (reg->sections[i].owner == owner)
			return &reg->sections[i];
	return NULL;
}

size_t retisc_registry__n_collectors(const struct retisc_registry *reg)
{
	return reg->n_collectors;
}

struct retisc_collector *retisc_registry__collector(const struct retisc_registry *reg, size_t i)
{
	return i < reg->n_collectors ? &reg->collectors[i] : NULL;
}

struct retisc_collector *retisc_registry__collector_by_name(const struct retisc_registry *reg,
							    const char *name)
{
	for (size_t i = 0; i < reg->n_collectors; i++)
		if (!strcmp(reg->collectors[i].name, name))
			return &reg->collectors[i];
	return NULL;
}

size_t retisc_registry__n_processors(const struct retisc_registry *reg)
{
	return reg->n_processors;
}

const struct retisc_processor *retisc_registry__processor(const struct retisc_registry *reg,
							  size_t i)
{
	return i < reg->n_processors ? &reg->processors[i] : NULL;
}

const struct retisc_processor *retisc_registry__processor_by_name(const struct retisc_registry *reg,
								  const char *name)
{
	for (size_t i = 0; i < reg->n_processors; i++)
		if (!strcmp(reg->processors[i].name, name))
			return &reg->processors[i];
	return NULL;
}

size_t retisc_registry__n_plugins(const struct retisc_registry *reg)
{
	return reg->n_plugins;
}

const char *retisc_registry__plugin_name(const struct retisc_registry *reg, size_t i)
{
	return i < reg->n_plugins ? reg->plugins[i]->name : NULL;
}

const char *retisc_registry__plugin_path(const struct retisc_registry *reg, size_t i)
{
	return i < reg->n_plugins ? reg->plugins[i]->path : NULL;
}

const char *retisc_registry__plugin_version(const struct retisc_registry *reg, size_t i)
{
	return i < reg->n_plugins ? reg->plugins[i]->version : NULL;
}

int retisc_registry__plugin_describe(const struct retisc_registry *reg, size_t i,
				     struct retisc_strbuf *out)
{
	const struct retisc_plugin *p;
	const char *sep = "";
	int err = 0;

	if (i >= reg->n_plugins)
		return -EINVAL;
	p = reg->plugins[i];
	for (size_t j = 0; j < reg->n_collectors && !err; j++) {
		if (reg->collectors[j].plugin != p)
			continue;
		err = retisc_strbuf__printf(out, "%scollector %s (%zu hook%s)", sep,
					    reg->collectors[j].name, reg->collectors[j].n_hooks,
					    reg->collectors[j].n_hooks == 1 ? "" : "s");
		sep = ", ";
	}
	for (size_t j = 0; j < reg->n_sections && !err; j++) {
		if (reg->sections[j].plugin != p)
			continue;
		if (reg->sections[j].owner > 0)
			err = retisc_strbuf__printf(out, "%ssection %s (owner %d)", sep,
						    reg->sections[j].key, reg->sections[j].owner);
		else
			err = retisc_strbuf__printf(out, "%ssection %s", sep, reg->sections[j].key);
		sep = ", ";
	}
	for (size_t j = 0; j < reg->n_processors && !err; j++) {
		if (reg->processors[j].plugin != p)
			continue;
		err = retisc_strbuf__printf(out, "%sprocessor %s", sep, reg->processors[j].name);
		sep = ", ";
	}
	for (size_t j = 0; j < reg->n_sinks && !err; j++) {
		if (reg->sinks[j].plugin != p)
			continue;
		err = retisc_strbuf__printf(out, "%ssink %s://", sep, reg->sinks[j].scheme);
		sep = ", ";
	}
	return err;
}
