/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers of the processor tests (test_sort.c, test_stats.c, test_pcap.c,
 * test_schema.c, test_procio.c): the built plugins loaded into one registry, a processor
 * run with its argv and its stdout and log lines captured, fixture and
 * temporary file paths.
 */
#ifndef __RETISC_PROCTEST_H
#define __RETISC_PROCTEST_H

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#include "log.h"
#include "registry.h"

static struct retisc_registry *pt_reg;
static char pt_fixture_dir[PATH_MAX];
static char pt_tmp_dir[PATH_MAX];

/* What a processor run left: exit status, stdout bytes, log lines. */
struct pt_run {
	int status;
	char *out;
	size_t out_len;
	struct retisc_strbuf log;
};

static inline const char *fixture(const char *name)
{
	return ring_path("%s/%s", pt_fixture_dir, name);
}

static inline const char *tmp_path(const char *name)
{
	return ring_path("%s/%s", pt_tmp_dir, name);
}

static inline const char *tmp_file(const char *name, const char *content)
{
	const char *p = tmp_path(name);

	write_text_file(p, content);
	return p;
}

static inline int pt_group_setup(void **state)
{
	const char *dir;
	int n;

	(void)state;
	if (find_fixture_dir(pt_fixture_dir))
		return -1;
	if (make_tmp_dir(pt_tmp_dir, "proc"))
		return -1;
	pt_reg = retisc_registry__new();
	if (!pt_reg)
		return -1;
	dir = ring_path("%s/plugins", build_dir());
	n = retisc_registry__load_dir(pt_reg, dir);
	if (n <= 0) {
		fprintf(stderr, "no plugin loaded from %s\n", dir);
		return -1;
	}
	return 0;
}

static inline int pt_group_teardown(void **state)
{
	(void)state;
	retisc_registry__free(pt_reg);
	pt_reg = NULL;
	return rm_tree(pt_tmp_dir);
}

/*
 * Run processor name with the NULL-terminated argument list that follows
 * (argv[0] = name). stdout goes to a file, read back into r->out; log
 * lines go to r->log (at level, restored afterwards).
 */
static inline void pt_run_level(struct pt_run *r, enum retisc_log_level level, const char *name,
				...)
{
	const struct retisc_processor *p;
	enum retisc_log_level saved_level = retisc_log__level();
	const char *out_path = tmp_path("stdout");
	char *argv[64];
	int argc = 0, fd, saved;
	va_list ap;
	const char *a;

	memset(r, 0, sizeof(*r));
	p = retisc_registry__processor_by_name(pt_reg, name);
	if (!p)
		fail_msg("no processor %s", name);
	argv[argc++] = strdup(name);
	va_start(ap, name);
	while ((a = va_arg(ap, const char *)) && argc < 63)
		argv[argc++] = strdup(a);
	va_end(ap);
	argv[argc] = NULL;

	fflush(stdout);
	fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	saved = dup(STDOUT_FILENO);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	retisc_log__set_level(level);
	retisc_log__set_sink(log_capture, &r->log);
	r->status = p->run(p->priv, retisc_registry__api(pt_reg), argc, argv);
	retisc_log__set_sink(NULL, NULL);
	retisc_log__set_level(saved_level);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);

	r->out = slurp(out_path, &r->out_len);
	assert_non_null(r->out);
	for (int i = 0; i < argc; i++)
		free(argv[i]);
}

#define pt_run(r, ...) pt_run_level(r, RETISC_LOG_INFO, __VA_ARGS__, NULL)
#define pt_run_debug(r, ...) pt_run_level(r, RETISC_LOG_DEBUG, __VA_ARGS__, NULL)

static inline const char *pt_log(const struct pt_run *r)
{
	return retisc_strbuf__str(&r->log);
}

static inline void pt_free(struct pt_run *r)
{
	free(r->out);
	retisc_strbuf__release(&r->log);
}

/* Run a processor (pt_run()'s arguments): it must exit with want_status
 * and write exactly want_out to stdout. */
#define pt_expect_out(want_status, want_out, ...)                                                  \
	do {                                                                                       \
		struct pt_run r_;                                                                  \
                                                                                                   \
		pt_run(&r_, __VA_ARGS__);                                                          \
		assert_int_equal(r_.status, (want_status));                                        \
		assert_str_eq(r_.out, (want_out));                                                 \
		pt_free(&r_);                                                                      \
	} while (0)

/* Run a processor (pt_run()'s arguments): it must exit with want_status
 * and log a line containing needle. */
#define pt_expect_log(want_status, needle, ...)                                                    \
	do {                                                                                       \
		struct pt_run r_;                                                                  \
                                                                                                   \
		pt_run(&r_, __VA_ARGS__);                                                          \
		assert_int_equal(r_.status, (want_status));                                        \
		assert_contains(pt_log(&r_), (needle));                                            \
		pt_free(&r_);                                                                      \
	} while (0)

/* Assert that haystack contains needle, printing both when it does not. */
#define assert_contains(haystack, needle)                                                          \
	do {                                                                                       \
		const char *h_ = (haystack), *n_ = (needle);                                       \
		if (!strstr(h_, n_))                                                               \
			fail_msg("'%s' not found in:\n%s", n_, h_);                                \
	} while (0)

#define assert_not_contains(haystack, needle)                                                      \
	do {                                                                                       \
		const char *h_ = (haystack), *n_ = (needle);                                       \
		if (strstr(h_, n_))                                                                \
			fail_msg("'%s' unexpectedly found in:\n%s", n_, h_);                       \
	} while (0)

#endif /* __RETISC_PROCTEST_H */
