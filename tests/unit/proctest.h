/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers of the processor tests (test_sort.c, test_stats.c, test_pcap.c,
 * test_schema.c): the built plugins loaded into one registry, a processor
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
static char pt_ring[8][PATH_MAX];
static unsigned int pt_next;

/* What a processor run left: exit status, stdout bytes, log lines. */
struct pt_run {
	int status;
	char *out;
	size_t out_len;
	struct retisc_strbuf log;
};

static inline char *pt_path(const char *dir, const char *name)
{
	char *p = pt_ring[pt_next++ % 8];

	if (snprintf(p, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		fail_msg("path too long: %s/%s", dir, name);
	return p;
}

static inline const char *fixture(const char *name)
{
	return pt_path(pt_fixture_dir, name);
}

static inline const char *tmp_path(const char *name)
{
	return pt_path(pt_tmp_dir, name);
}

static inline const char *tmp_file(const char *name, const char *content)
{
	const char *p = tmp_path(name);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	assert_true(fputs(content, f) >= 0);
	assert_int_equal(fclose(f), 0);
	return p;
}

/* Whole file, NUL-terminated (the caller frees); NULL if it cannot be read. */
static inline char *slurp(const char *path, size_t *len)
{
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;
	char buf[65536];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (!f)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		retisc_strbuf__append(&sb, buf, n);
	fclose(f);
	if (len)
		*len = sb.len;
	return sb.buf ? sb.buf : strdup("");
}

static inline int pt_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline int pt_group_setup(void **state)
{
	char src[PATH_MAX], *slash;
	const char *dir;
	int n;

	(void)state;
	/* The runner starts from the repository root; fall back to the path
	 * of this file for other working directories. */
	if (!realpath("tests/fixtures", pt_fixture_dir)) {
		snprintf(src, sizeof(src), "%s", __FILE__);
		slash = strrchr(src, '/');
		if (slash)
			*slash = '\0';
		strncat(src, "/../fixtures", sizeof(src) - strlen(src) - 1);
		if (!realpath(src, pt_fixture_dir))
			return -1;
	}
	snprintf(pt_tmp_dir, sizeof(pt_tmp_dir), "/tmp/retisc-test-proc-XXXXXX");
	if (!mkdtemp(pt_tmp_dir))
		return -1;
	pt_reg = retisc_registry__new();
	if (!pt_reg)
		return -1;
	dir = pt_path(build_dir(), "plugins");
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
	return nftw(pt_tmp_dir, pt_rm, 16, FTW_DEPTH | FTW_PHYS);
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
