/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared includes and helpers for the cmocka unit tests. */
#ifndef __RETISC_TESTUTIL_H
#define __RETISC_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

/* Compare two strings and print both in full when they differ. */
#define assert_str_eq(got, want) assert_string_equal(got, want)

#include <retisc/strbuf.h>

#include "log.h"

/* retisc_log__set_sink() callback appending each line to a retisc_strbuf. */
static inline void log_capture(enum retisc_log_level level, const char *line, void *priv)
{
	(void)level;
	retisc_strbuf__printf((struct retisc_strbuf *)priv, "%s\n", line);
}

/* Build directory of the binaries under test (RETISC_TEST_BUILD). */
static inline const char *build_dir(void)
{
	const char *b = getenv("RETISC_TEST_BUILD");

	return b && *b ? b : "build";
}

/* -------------------------------------------------------------------------
 * Files and paths.
 */

/*
 * The path printed from fmt, in one of a ring of eight buffers so that a
 * test can hold a few paths at once (the ninth call reuses the first).
 * Fails the test when it does not fit in PATH_MAX.
 */
static inline const char *ring_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline const char *ring_path(const char *fmt, ...)
{
	static char ring[8][PATH_MAX];
	static unsigned int next;
	char *p = ring[next++ % 8];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(p, PATH_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= PATH_MAX)
		fail_msg("path too long: %s...", p);
	return p;
}

/* Create or truncate path with content. */
static inline void write_text_file(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(content, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static inline int rm_tree_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/*
 * The mkstemp()/mkdtemp() template /tmp/retisc-test-<name>- followed by
 * the six placeholder characters those functions replace.
 */
static inline void tmp_template(char *buf, size_t sz, const char *name)
{
	int n = snprintf(buf, sz, "/tmp/retisc-test-%s-", name);

	if (n > 0 && (size_t)n + 6 < sz) {
		memset(buf + n, 'X', 6);
		buf[n + 6] = '\0';
	}
}

/* Create a new temporary directory for name and put its path in dir
 * (PATH_MAX bytes). 0 or -1. */
static inline int make_tmp_dir(char *dir, const char *name)
{
	tmp_template(dir, PATH_MAX, name);
	return mkdtemp(dir) ? 0 : -1;
}

/* A new temporary file for name holding size bytes of data; its path in
 * path (sz bytes). 0 or -1. */
static inline int write_tmp_file(char *path, size_t sz, const char *name, const void *data,
				 size_t size)
{
	int fd, ok;

	tmp_template(path, sz, name);
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	ok = write(fd, data, size) == (ssize_t)size;
	close(fd);
	return ok ? 0 : -1;
}

/* Remove dir and everything below it (links are not followed). 0 or -1. */
static inline int rm_tree(const char *dir)
{
	return nftw(dir, rm_tree_entry, 16, FTW_DEPTH | FTW_PHYS);
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

/* The source tree's tests/fixtures, from the Makefile, so that a test
 * binary started outside the repository root finds it too. */
#ifndef RETISC_TEST_FIXTURE_DIR
#define RETISC_TEST_FIXTURE_DIR "tests/fixtures"
#endif

/*
 * The absolute path of tests/fixtures into dir: $RETISC_TEST_FIXTURES when
 * set, else tests/fixtures from the current directory (the repository root,
 * where tests/run-unit.sh runs the tests), else RETISC_TEST_FIXTURE_DIR. 0,
 * or -1 when none exists.
 */
static inline int find_fixture_dir(char dir[PATH_MAX])
{
	const char *env = getenv("RETISC_TEST_FIXTURES");

	if (env && *env)
		return realpath(env, dir) ? 0 : -1;
	if (realpath("tests/fixtures", dir))
		return 0;
	return realpath(RETISC_TEST_FIXTURE_DIR, dir) ? 0 : -1;
}

/*
 * The content of tests/fixtures/<name>, NUL-terminated; the caller frees
 * it. For expected outputs too long to read well as C literals
 * (tests/fixtures/expected/): the bytes are compared as they are, so the
 * file's last newline, or its absence, is part of the expectation. Fails
 * the test when the file cannot be read.
 */
static inline char *fixture_read(const char *name)
{
	char dir[PATH_MAX];
	const char *path;
	char *s;

	if (find_fixture_dir(dir))
		fail_msg("tests/fixtures not found (set RETISC_TEST_FIXTURES)");
	path = ring_path("%s/%s", dir, name);
	s = slurp(path, NULL);
	if (!s)
		fail_msg("cannot read %s", path);
	return s;
}

#endif
