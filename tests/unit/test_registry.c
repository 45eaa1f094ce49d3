// SPDX-License-Identifier: GPL-2.0-only
/*
 * Plugin loader and registry (core/host/registry.c): ABI and descriptor checks,
 * registration through the API table, rollback of a failed init(), owner
 * ids, directory loading and the root permission rules.
 *
 * The plugins are the small .so files built from tests/plugins/ into
 * $RETISC_TEST_BUILD/tests/plugins (default build/).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugtest.h"

#include <retisc/event.h>
#include <retisc/plugin.h>
#include <retisc/strbuf.h>

#include "log.h"
#include "registry.h"

/* -------------------------------------------------------------------------
 * Helpers.
 */

static char tmp_dir[PATH_MAX];

/* build/tests/plugins/<name>.so */
static const char *test_plugin(const char *name)
{
	return ring_path("%s/tests/plugins/%s.so", build_dir(), name);
}

static const char *tmp_path(const char *name)
{
	return ring_path("%s/%s", tmp_dir, name);
}

static struct retisc_registry *new_reg(void)
{
	struct retisc_registry *reg = retisc_registry__new();

	assert_non_null(reg);
	return reg;
}

/* The last logged line that contains needle must also contain want. */
static void assert_log_line(const char *needle, const char *want)
{
	const char *s = retisc_strbuf__str(&logs), *hit = NULL, *end;

	for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
		hit = p;
	if (!hit)
		fail_msg("log lacks '%s'; log:\n%s", needle, s);
	while (hit > s && hit[-1] != '\n')
		hit--;
	end = strchr(hit, '\n');
	if (!end)
		end = hit + strlen(hit);
	{
		char line[4096];

		snprintf(line, sizeof(line), "%.*s", (int)(end - hit), hit);
		if (!strstr(line, want))
			fail_msg("log line '%s' lacks '%s'", line, want);
	}
}

static void copy_file(const char *src, const char *dst, mode_t mode)
{
	char buf[65536];
	ssize_t n;
	int in, out;

	in = open(src, O_RDONLY);
	assert_true(in >= 0);
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, n), n);
	assert_int_equal(n, 0);
	assert_int_equal(close(in), 0);
	assert_int_equal(close(out), 0);
	assert_int_equal(chmod(dst, mode), 0);
}

static int setup(void **state)
{
	(void)state;
	retisc_strbuf__reset(&logs);
	retisc_log__set_level(RETISC_LOG_INFO);
	retisc_log__set_sink(log_capture, &logs);
	return make_tmp_dir(tmp_dir, "registry");
}

static int teardown(void **state)
{
	(void)state;
	retisc_log__set_sink(NULL, NULL);
	retisc_strbuf__release(&logs);
	/* The permission tests may leave the directory 0777 or chowned. */
	chmod(tmp_dir, 0700);
	rm_tree(tmp_dir);
	return 0;
}

/* -------------------------------------------------------------------------
 * Built-in state.
 */

static void test_builtin_sections(void **state)
{
	static const struct {
		const char *key;
		uint32_t rank;
		enum retisc_section_place place;
	} want[] = {
		{"common", 10, RETISC_PLACE_FIRST_LINE},
		{"kernel", 20, RETISC_PLACE_FIRST_LINE},
		{"userspace", 30, RETISC_PLACE_FIRST_LINE},
		{"tracking", 40, RETISC_PLACE_FIRST_LINE},
		{"startup", 150, RETISC_PLACE_BODY},
	};
	struct retisc_registry *reg = new_reg();
	const struct retisc_api *api = retisc_registry__api(reg);

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct retisc_section *s = retisc_registry__section_by_key(reg, want[i].key);

		assert_non_null(s);
		assert_str_eq(s->key, want[i].key);
		assert_int_equal(s->rank, want[i].rank);
		assert_int_equal(s->place, want[i].place);
		assert_int_equal(s->owner, -1);
		assert_null(s->plugin);
		assert_non_null(s->format);
		assert_null(s->decode);
	}
	assert_null(retisc_registry__section_by_key(reg, "skb-tracking"));
	assert_null(retisc_registry__section_by_owner(reg, RETISC_OWNER_DYNAMIC));
	assert_int_equal(retisc_registry__n_plugins(reg), 0);
	assert_int_equal(retisc_registry__n_collectors(reg), 0);
	assert_int_equal(retisc_registry__n_processors(reg), 0);
	assert_null(retisc_registry__collector(reg, 0));
	assert_null(retisc_registry__processor(reg, 0));
	assert_null(retisc_registry__plugin_name(reg, 0));
	assert_null(retisc_registry__plugin_path(reg, 0));
	assert_null(retisc_registry__plugin_version(reg, 0));

	assert_int_equal(api->sz, sizeof(struct retisc_api));
	assert_int_equal(api->abi_version, RETISC_ABI_VERSION);
	assert_non_null(api->log);
	assert_non_null(api->json_parse);
	retisc_registry__free(reg);
	retisc_registry__free(NULL);
}

/* -------------------------------------------------------------------------
 * Valid plugins.
 */

static void test_load_good(void **state)
{
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;
	struct retisc_registry *reg = new_reg();
	const char *path = test_plugin("good_a");
	const struct retisc_section *s;
	const struct retisc_processor *p;
	struct retisc_collector *c;

	(void)state;
	assert_int_equal(plug_load(reg, path), 0);
	assert_int_equal(retisc_registry__n_plugins(reg), 1);
	assert_str_eq(retisc_registry__plugin_name(reg, 0), "good-a");
	assert_str_eq(retisc_registry__plugin_path(reg, 0), path);
	assert_str_eq(retisc_registry__plugin_version(reg, 0), "1.2.3");

	/* Owner 0 asked for a dynamic id: the first one in a fresh registry,
	 * returned to the plugin through owner_out. */
	s = retisc_registry__section_by_key(reg, "good-a");
	assert_non_null(s);
	assert_int_equal(s->owner, RETISC_OWNER_DYNAMIC);
	assert_int_equal(s->rank, 1000);
	assert_int_equal(s->place, RETISC_PLACE_BODY);
	assert_non_null(s->decode);
	assert_null(s->format);
	assert_non_null(s->plugin);
	assert_ptr_equal(retisc_registry__section_by_owner(reg, RETISC_OWNER_DYNAMIC), s);
	assert_log_has("good-a: section owner 32\n");

	assert_int_equal(retisc_registry__n_collectors(reg), 1);
	c = retisc_registry__collector_by_name(reg, "good-a");
	assert_non_null(c);
	assert_ptr_equal(retisc_registry__collector(reg, 0), c);
	assert_int_equal(c->n_hooks, 0);
	assert_int_equal(c->order, 99);
	assert_int_equal(c->owner, RETISC_OWNER_DYNAMIC);
	assert_ptr_equal(c->plugin, s->plugin);
	assert_str_eq(c->known_types[0], "struct sk_buff *");
	assert_null(c->known_types[1]);
	assert_str_eq(c->probes[0], "tp:skb:kfree_skb");
	assert_null(c->probes[1]);
	assert_null(c->can_run);
	assert_null(retisc_registry__collector_by_name(reg, "good-b"));

	assert_int_equal(retisc_registry__n_processors(reg), 1);
	p = retisc_registry__processor_by_name(reg, "good-a");
	assert_non_null(p);
	assert_ptr_equal(retisc_registry__processor(reg, 0), p);
	assert_str_eq(p->summary, "Test processor");
	assert_null(retisc_registry__processor_by_name(reg, "sort"));

	assert_int_equal(retisc_registry__plugin_describe(reg, 0, &sb), 0);
	assert_str_eq(retisc_strbuf__str(&sb),
		      "collector good-a (0 hooks), section good-a (owner 32), processor good-a");
	assert_int_equal(retisc_registry__plugin_describe(reg, 1, &sb), -EINVAL);
	retisc_strbuf__release(&sb);

	/* fini() runs when the registry is freed. */
	assert_log_lacks("good-a: fini");
	retisc_registry__free(reg);
	assert_log_has("good-a: fini\n");
}

static void test_processor_run(void **state)
{
	struct retisc_registry *reg = new_reg();
	char arg0[] = "good-a", arg1[] = "hello";
	char *argv[] = {arg0, arg1, NULL};
	const struct retisc_processor *p;

	(void)state;
	assert_int_equal(plug_load(reg, test_plugin("good_a")), 0);
	p = retisc_registry__processor_by_name(reg, "good-a");
	assert_non_null(p);
	assert_non_null(p->run);
	assert_int_equal(p->run(p->priv, retisc_registry__api(reg), 2, argv), 0);
	/* Registering after init() returned is refused (-EINVAL). */
	assert_log_has("good-a run 1: good-a hello owner 32 late -22\n");
	assert_null(retisc_registry__processor_by_name(reg, "good-a-late"));
	/* Usage error: the processor's exit status is passed through. */
	assert_int_equal(p->run(p->priv, retisc_registry__api(reg), 1, argv), 2);
	assert_int_equal(retisc_registry__n_processors(reg), 1);
	retisc_registry__free(reg);
}

/* A descriptor larger than the core's, with zero unknown fields. */
static void test_load_newer_zero_tail(void **state)
{
	struct retisc_registry *reg = new_reg();

	(void)state;
	assert_int_equal(plug_load(reg, test_plugin("good_newer")), 0);
	assert_str_eq(retisc_registry__plugin_name(reg, 0), "good-newer");
	/* No version given: reported as "". */
	assert_str_eq(retisc_registry__plugin_version(reg, 0), "");
	retisc_registry__free(reg);
}

/* Registration checks done from inside a plugin's init(), and the
 * collector order across plugins. */
static void test_registration_checks(void **state)
{
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;
	struct retisc_registry *reg = new_reg();
	const char *skb_tracking = ring_path("%s/plugins/%s.so", build_dir(), "skb-tracking");
	const struct retisc_section *s;
	struct retisc_collector *c;

	(void)state;
	assert_int_equal(plug_load(reg, test_plugin("reg_checks")), 0);
	assert_log_lacks("ERROR reg-checks:");
	s = retisc_registry__section_by_key(reg, "reg-checks");
	assert_non_null(s);
	assert_int_equal(s->owner, 200);
	assert_ptr_equal(retisc_registry__section_by_owner(reg, 200), s);
	s = retisc_registry__section_by_key(reg, "reg-checks-text");
	assert_non_null(s);
	assert_int_equal(s->owner, -1);
	assert_non_null(retisc_registry__section_by_key(reg, "reg-checks-newer"));
	assert_null(retisc_registry__section_by_key(reg, "reg-checks-2"));
	c = retisc_registry__collector_by_name(reg, "reg-checks");
	assert_non_null(c);
	assert_int_equal(c->n_hooks, 1);
	assert_str_eq(c->hooks[0].name, "reg_checks_hook");
	assert_int_equal(c->hooks[0].obj_sz, 4);
	assert_null(c->hooks[0].target);
	assert_int_equal(c->owner, 200);
	/* Its options, copied; the refused registrations left nothing. */
	assert_int_equal(c->n_opts, 2);
	assert_str_eq(c->opts[0].name, "reg-checks-level");
	assert_str_eq(c->opts[0].arg, "N");
	assert_null(c->opts[1].arg);
	assert_int_equal(c->opts[1].flags, RETISC_OPT_REPEAT);
	assert_null(retisc_registry__collector_by_name(reg, "reg-checks-other"));
	assert_non_null(c->known_types);
	assert_null(c->known_types[0]);
	assert_int_equal(retisc_registry__n_processors(reg), 1);

	assert_int_equal(plug_load(reg, skb_tracking), 0);
	assert_int_equal(plug_load(reg, test_plugin("good_a")), 0);
	/* Collectors come in initialisation order: 5, 10, 99. */
	assert_int_equal(retisc_registry__n_collectors(reg), 3);
	assert_str_eq(retisc_registry__collector(reg, 0)->name, "reg-checks");
	assert_str_eq(retisc_registry__collector(reg, 1)->name, "skb-tracking");
	assert_str_eq(retisc_registry__collector(reg, 2)->name, "good-a");
	assert_null(retisc_registry__collector(reg, 3));
	assert_int_equal(retisc_registry__collector(reg, 1)->owner, RETISC_OWNER_SKB_TRACKING);

	assert_int_equal(retisc_registry__plugin_describe(reg, 0, &sb), 0);
	assert_str_eq(retisc_strbuf__str(&sb),
		      "collector reg-checks (1 hook), section reg-checks (owner 200), "
		      "section reg-checks-text, section reg-checks-newer, processor reg-checks, "
		      "sink reg-checks://");
	retisc_strbuf__reset(&sb);
	assert_int_equal(retisc_registry__plugin_describe(reg, 1, &sb), 0);
	assert_str_eq(retisc_strbuf__str(&sb),
		      "collector skb-tracking (1 hook), section skb-tracking (owner 4)");
	retisc_strbuf__release(&sb);
	retisc_registry__free(reg);
}

/*
 * A sink's scheme as INPUT (plugin.h, open_input): the registry's
 * reader_open hands the plugin a pipe and reads it as an events file;
 * the sink's error names the URL; an unknown scheme says so; plain paths
 * still reach the file reader.
 */
static void test_sink_input(void **state)
{
	struct retisc_registry *reg = new_reg();
	const struct retisc_api *api;
	const struct retisc_sink *k;
	struct retisc_reader *rd;
	struct retisc_json *ev;
	char err[256];
	uint64_t ts = 0;

	(void)state;
	assert_int_equal(plug_load(reg, test_plugin("reg_checks")), 0);
	api = retisc_registry__api(reg);
	k = retisc_registry__sink_by_scheme(reg, "reg-checks", 10);
	assert_non_null(k);
	assert_str_eq(k->scheme, "reg-checks");
	assert_null(retisc_registry__sink_by_scheme(reg, "reg", 3));
	assert_int_equal(retisc_registry__url_scheme("reg-checks://x"), 10);
	assert_int_equal(retisc_registry__url_scheme("/tmp/x://y"), 0);
	assert_int_equal(retisc_registry__url_scheme("File://x"), 0);

	rd = api->reader_open("reg-checks://x", err, sizeof(err));
	assert_non_null(rd);
	assert_int_equal(api->reader_kind(rd), RETISC_READER_EVENTS);
	assert_int_equal(api->reader_next(rd, &ev, err, sizeof(err)), RETISC_READ_OK);
	assert_non_null(api->json_obj_get(ev, "startup"));
	api->json_free(ev);
	assert_int_equal(api->reader_next(rd, &ev, err, sizeof(err)), RETISC_READ_OK);
	assert_true(api->json_get_u64(
		api->json_obj_get(api->json_obj_get(ev, "common"), "timestamp"), &ts));
	assert_int_equal(ts, 42);
	api->json_free(ev);
	assert_int_equal(api->reader_next(rd, &ev, err, sizeof(err)), RETISC_READ_END);
	api->reader_free(rd);

	assert_null(api->reader_open("reg-checks://missing", err, sizeof(err)));
	assert_int_equal(errno, ENOENT);
	assert_str_eq(err, "reg-checks://missing: no such thing");
	assert_null(api->reader_open("kafka://broker/t", err, sizeof(err)));
	assert_str_eq(err, "kafka://broker/t: no plugin reads kafka:// inputs (see `retisc plugin "
			   "list`)");
	assert_null(api->reader_open("/nonexistent/retisc-file", err, sizeof(err)));
	assert_str_eq(err, "/nonexistent/retisc-file: No such file or directory");
	retisc_registry__free(reg);
}

/* A plugin built against the header before collector options still loads. */
static void test_old_collector_abi(void **state)
{
	struct retisc_registry *reg = new_reg();
	struct retisc_collector *c;

	(void)state;
	assert_int_equal(plug_load(reg, test_plugin("old_collector")), 0);
	c = retisc_registry__collector_by_name(reg, "old-collector");
	assert_non_null(c);
	assert_int_equal(c->order, 500);
	assert_int_equal(c->n_opts, 0);
	assert_null(c->opts);
	assert_null(c->on_event);
	retisc_registry__free(reg);
}

/* A plugin built against the header before on_event (its descriptor ends
 * at n_opts) still loads, its options kept. */
static void test_opts_collector_abi(void **state)
{
	struct retisc_registry *reg = new_reg();
	struct retisc_collector *c;

	(void)state;
	assert_int_equal(plug_load(reg, test_plugin("opts_collector")), 0);
	c = retisc_registry__collector_by_name(reg, "opts-collector");
	assert_non_null(c);
	assert_int_equal(c->order, 501);
	assert_int_equal(c->n_opts, 1);
	assert_str_eq(c->opts[0].name, "opts-collector-level");
	assert_null(c->on_event);
	assert_null(c->start);
	retisc_registry__free(reg);
}

/* Dynamic ids run from 32 to 255, then -ENOSPC. */
static void test_owner_exhaustion(void **state)
{
	struct retisc_registry *reg = new_reg();
	const char *good = test_plugin("good_a");

	(void)state;
	assert_int_equal(plug_load(reg, test_plugin("many_sections")), 0);
	assert_log_lacks("ERROR many-sections:");
	assert_str_eq(retisc_registry__section_by_owner(reg, 32)->key, "many-0");
	assert_str_eq(retisc_registry__section_by_owner(reg, 255)->key, "many-223");
	assert_null(retisc_registry__section_by_key(reg, "many-224"));

	assert_int_equal(plug_load(reg, good), -ENOSPC);
	assert_log_line("cannot register section 'good-a'", "No space left on device");
	assert_log_line("its init failed", good);
	assert_int_equal(retisc_registry__n_plugins(reg), 1);
	assert_null(retisc_registry__section_by_key(reg, "good-a"));
	retisc_registry__free(reg);
}

/* -------------------------------------------------------------------------
 * Refused plugins: return value, log line naming the file and the reason,
 * and nothing left behind.
 */

static void assert_nothing_loaded(const struct retisc_registry *reg)
{
	assert_int_equal(retisc_registry__n_plugins(reg), 0);
	assert_int_equal(retisc_registry__n_collectors(reg), 0);
	assert_int_equal(retisc_registry__n_processors(reg), 0);
	assert_null(retisc_registry__section_by_owner(reg, RETISC_OWNER_DYNAMIC));
}

/*
 * Load tests/plugins/<name>.so into a new registry: it must fail with
 * want_err, say why on the log line naming the file and leave nothing
 * loaded. Returns the registry for more checks; the caller frees it.
 */
static struct retisc_registry *load_refused(const char *name, int want_err, const char *why)
{
	struct retisc_registry *reg = new_reg();
	const char *path = test_plugin(name);

	assert_int_equal(plug_load(reg, path), want_err);
	assert_log_line(path, why);
	assert_nothing_loaded(reg);
	return reg;
}

static void test_dup_name(void **state)
{
	struct retisc_registry *reg = new_reg();
	const char *a = test_plugin("good_a"), *dup = test_plugin("good_a_dup");
	char want[PATH_MAX + 64];

	(void)state;
	assert_int_equal(plug_load(reg, a), 0);
	assert_int_equal(plug_load(reg, dup), -EEXIST);
	snprintf(want, sizeof(want),
		 "Cannot load plugin %s: a plugin named 'good-a' is already "
		 "loaded from %s",
		 dup, a);
	assert_log_has(want);
	assert_int_equal(retisc_registry__n_plugins(reg), 1);
	assert_str_eq(retisc_registry__plugin_version(reg, 0), "1.2.3");
	/* Loading the same file twice is the same conflict. */
	assert_int_equal(plug_load(reg, a), -EEXIST);
	assert_int_equal(retisc_registry__n_plugins(reg), 1);
	retisc_registry__free(reg);
}

static void test_bad_abi(void **state)
{
	struct retisc_registry *reg;

	(void)state;
	reg = load_refused("bad_abi", -EPROTO, "ABI version 2, this retisc supports version 1");
	assert_log_has("ERROR ");
	retisc_registry__free(reg);
}

static void test_bad_size(void **state)
{
	(void)state;
	retisc_registry__free(
		load_refused("bad_size", -EINVAL, "plugin descriptor size 16 is invalid"));
}

static void test_bad_trailing(void **state)
{
	struct retisc_registry *reg;

	(void)state;
	reg = load_refused("bad_trailing", -EINVAL, "plugin descriptor size 56 is invalid");
	assert_log_line(test_plugin("bad_trailing"), "unknown trailing fields must be zero");
	retisc_registry__free(reg);
}

static void test_no_entry(void **state)
{
	(void)state;
	retisc_registry__free(
		load_refused("no_entry", -EINVAL, "no entry point 'retisc_plugin_entry'"));
}

static void test_no_init(void **state)
{
	(void)state;
	retisc_registry__free(load_refused("no_init", -EINVAL, "init function"));
}

static void test_init_fails(void **state)
{
	struct retisc_registry *reg;

	(void)state;
	reg = load_refused("init_fails", -EINVAL, "its init failed: Invalid argument");
	/* What init() registered before failing is gone. */
	assert_null(retisc_registry__section_by_key(reg, "init-fails"));
	assert_null(retisc_registry__collector_by_name(reg, "init-fails"));
	assert_null(retisc_registry__processor_by_name(reg, "init-fails"));
	assert_non_null(retisc_registry__section_by_key(reg, "startup"));
	/* Its dynamic owner id is free again. */
	assert_int_equal(plug_load(reg, test_plugin("good_a")), 0);
	assert_int_equal(retisc_registry__section_by_key(reg, "good-a")->owner,
			 RETISC_OWNER_DYNAMIC);
	assert_int_equal(retisc_registry__n_plugins(reg), 1);
	retisc_registry__free(reg);
}

static void test_dup_section(void **state)
{
	struct retisc_registry *reg;
	const struct retisc_section *s;

	(void)state;
	reg = load_refused("dup_section", -EEXIST, "its init failed: File exists");
	assert_log_line("Plugin dup-section", "cannot register section 'common': File exists");
	s = retisc_registry__section_by_key(reg, "common");
	assert_non_null(s);
	assert_null(s->plugin);
	assert_int_equal(s->rank, 10);
	retisc_registry__free(reg);
}

static void test_not_regular(void **state)
{
	struct retisc_registry *reg = new_reg();
	const char *dir = ring_path("%s/tests/plugins", build_dir());
	const char *fifo = tmp_path("fifo.so");
	char want[PATH_MAX + 64];

	(void)state;
	assert_int_equal(retisc_registry__load_file(reg, dir), -EINVAL);
	snprintf(want, sizeof(want), "Cannot load plugin %s: not a regular file", dir);
	assert_log_has(want);

	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(retisc_registry__load_file(reg, fifo), -EINVAL);
	snprintf(want, sizeof(want), "Cannot load plugin %s: not a regular file", fifo);
	assert_log_has(want);
	assert_nothing_loaded(reg);
	retisc_registry__free(reg);
}

static void test_missing(void **state)
{
	struct retisc_registry *reg = new_reg();
	const char *path = tmp_path("missing.so");
	char want[PATH_MAX + 64];

	(void)state;
	assert_int_equal(retisc_registry__load_file(reg, path), -ENOENT);
	snprintf(want, sizeof(want), "Cannot load plugin %s: No such file or directory", path);
	assert_log_has(want);
	assert_nothing_loaded(reg);
	retisc_registry__free(reg);
}

/* Not an ELF object: dlopen() fails. */
static void test_not_elf(void **state)
{
	struct retisc_registry *reg = new_reg();
	const char *path = tmp_path("garbage.so");

	(void)state;
	write_text_file(path, "not a shared object\n");
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(plug_load(reg, path), -ELIBBAD);
	assert_log_line("Cannot load plugin", path);
	assert_nothing_loaded(reg);
	retisc_registry__free(reg);
}

/* -------------------------------------------------------------------------
 * Directories.
 */

static void test_load_dir(void **state)
{
	struct retisc_registry *reg = new_reg();

	(void)state;
	/* Sorted by name: 05, 10, 15, 20, 30, 40, 50; good-b before good-a. */
	copy_file(test_plugin("no_entry"), tmp_path("05-no_entry.so"), 0755);
	copy_file(test_plugin("good_b"), tmp_path("10-good_b.so"), 0755);
	copy_file(test_plugin("bad_abi"), tmp_path("15-bad_abi.so"), 0755);
	copy_file(test_plugin("good_a"), tmp_path("20-good_a.so"), 0755);
	copy_file(test_plugin("good_a_dup"), tmp_path("30-good_a_dup.so"), 0755);
	assert_int_equal(mkdir(tmp_path("40-dir.so"), 0755), 0);
	write_text_file(tmp_path("50-garbage.so"), "garbage");
	assert_int_equal(chmod(tmp_path("50-garbage.so"), 0644), 0);
	/* Not *.so: ignored without a word. */
	copy_file(test_plugin("bad_size"), tmp_path("60-bad_size.so.disabled"), 0755);
	write_text_file(tmp_path("README"), "plugins\n");

	assert_int_equal(retisc_registry__load_dir(reg, tmp_dir), 2);
	assert_int_equal(retisc_registry__n_plugins(reg), 2);
	assert_str_eq(retisc_registry__plugin_name(reg, 0), "good-b");
	assert_str_eq(retisc_registry__plugin_path(reg, 0), tmp_path("10-good_b.so"));
	assert_str_eq(retisc_registry__plugin_name(reg, 1), "good-a");
	assert_str_eq(retisc_registry__plugin_path(reg, 1), tmp_path("20-good_a.so"));
	/* Ids are handed out in load order. */
	assert_int_equal(retisc_registry__section_by_key(reg, "good-b")->owner, 32);
	assert_int_equal(retisc_registry__section_by_key(reg, "good-a")->owner, 33);
	/* good-b registers its collector before its section. */
	assert_int_equal(retisc_registry__collector_by_name(reg, "good-b")->owner, 32);
	assert_int_equal(retisc_registry__collector_by_name(reg, "good-a")->owner, 33);
	assert_str_eq(retisc_registry__plugin_version(reg, 0), "");
	assert_log_has("good-a: section owner 33\n");

	assert_log_line(tmp_path("05-no_entry.so"), "no entry point");
	assert_log_line(tmp_path("15-bad_abi.so"), "ABI version 2");
	assert_log_line(tmp_path("30-good_a_dup.so"), "already loaded");
	assert_log_line(tmp_path("40-dir.so"), "not a regular file");
	assert_log_has(tmp_path("50-garbage.so"));
	assert_log_lacks("60-bad_size");
	assert_log_lacks("README");

	/* A missing directory: -ENOENT, nothing logged. */
	retisc_strbuf__reset(&logs);
	assert_int_equal(retisc_registry__load_dir(reg, tmp_path("nope")), -ENOENT);
	assert_string_equal(retisc_strbuf__str(&logs), "");
	assert_int_equal(retisc_registry__n_plugins(reg), 2);
	retisc_registry__free(reg);
}

/* -------------------------------------------------------------------------
 * Permissions (root only).
 */

static void test_perms(void **state)
{
	struct retisc_registry *reg;
	const char *path = tmp_path("good_a.so");
	char want[PATH_MAX + 64];

	(void)state;
	if (geteuid() != 0)
		skip();
	copy_file(test_plugin("good_a"), path, 0644);
	unsetenv("RETISC_ALLOW_UNSAFE_PLUGINS");
	reg = new_reg();
	retisc_registry__set_strict_perms(reg, true);

	/* World-writable file. */
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(retisc_registry__load_file(reg, path), -EPERM);
	snprintf(want, sizeof(want), "Refusing plugin %s: writable by a non-root user", path);
	assert_log_has(want);
	assert_log_line(want, "mode 666");
	/* Group-writable file. */
	assert_int_equal(chmod(path, 0620), 0);
	assert_int_equal(retisc_registry__load_file(reg, path), -EPERM);
	assert_log_line(want, "mode 620");
	/* File owned by another user. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_int_equal(retisc_registry__load_file(reg, path), -EPERM);
	assert_log_line(want, "owner uid 65534");
	assert_int_equal(chown(path, 0, 0), 0);

	/* Safe file in a world-writable directory. */
	assert_int_equal(chmod(tmp_dir, 0777), 0);
	retisc_strbuf__reset(&logs);
	assert_int_equal(retisc_registry__load_file(reg, path), -EPERM);
	snprintf(want, sizeof(want),
		 "Refusing plugin %s: its directory %s is writable by a "
		 "non-root user",
		 path, tmp_dir);
	assert_log_has(want);
	assert_log_line(want, "mode 777");
	assert_int_equal(chmod(tmp_dir, 0770), 0);
	assert_int_equal(retisc_registry__load_file(reg, path), -EPERM);
	assert_log_line(want, "mode 770");
	/* Sticky world-writable directories (/tmp) are fine: nobody else can
	 * replace root's file there. */
	assert_int_equal(chmod(tmp_dir, 01777), 0);
	assert_int_equal(retisc_registry__load_file(reg, path), 0);
	retisc_registry__free(reg);

	/* Check turned off. */
	assert_int_equal(chmod(tmp_dir, 0777), 0);
	assert_int_equal(chmod(path, 0666), 0);
	reg = new_reg();
	retisc_registry__set_strict_perms(reg, false);
	assert_int_equal(retisc_registry__load_file(reg, path), 0);
	assert_int_equal(retisc_registry__n_plugins(reg), 1);
	retisc_registry__free(reg);

	/* Through the environment (read when the registry is created). */
	setenv("RETISC_ALLOW_UNSAFE_PLUGINS", "1", 1);
	reg = new_reg();
	unsetenv("RETISC_ALLOW_UNSAFE_PLUGINS");
	assert_int_equal(retisc_registry__load_file(reg, path), 0);
	retisc_registry__free(reg);
	setenv("RETISC_ALLOW_UNSAFE_PLUGINS", "0", 1);
	reg = new_reg();
	unsetenv("RETISC_ALLOW_UNSAFE_PLUGINS");
	assert_int_equal(retisc_registry__load_file(reg, path), -EPERM);
	retisc_registry__free(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_builtin_sections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_processor_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_newer_zero_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_registration_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_collector_abi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sink_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_opts_collector_abi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner_exhaustion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dup_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_abi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_trailing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_init, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dup_section, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_regular, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_elf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_perms, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
