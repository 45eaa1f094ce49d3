// SPDX-License-Identifier: GPL-2.0-only
/*
 * Root's trust rule for plugins and profiles (core/host/trust.h): what is
 * refused, what a sticky directory allows, and that the file checked is the
 * file opened (a FIFO or a directory is no file, and opening one does not
 * hang). Needs root, as the rule applies to root only.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trust.h"

static char base[64];

static int setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/retisc-trust-%d", (int)getpid());
	if (mkdir(base, 0755))
		return -1;
	return chmod(base, 0755);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd) ? -1 : 0;
}

/* base/<dir>/<file> with the given modes; returns the file's path. */
static const char *make(const char *dir, mode_t dmode, const char *file, mode_t fmode)
{
	static char path[256];
	char d[128];
	int fd;

	snprintf(d, sizeof(d), "%s/%s", base, dir);
	assert_int_equal(mkdir(d, 0755) && errno != EEXIST, 0);
	assert_int_equal(chmod(d, dmode), 0);
	snprintf(path, sizeof(path), "%s/%s", d, file);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(path, fmode), 0);
	return path;
}

static int try_open(const char *path, bool check, bool *bad_dir, char *why)
{
	int fd = retisc_trust__open(path, check, bad_dir, why, 160);

	if (fd >= 0)
		close(fd);
	return fd >= 0 ? 0 : fd;
}

static void test_rule(void **state)
{
	char why[160] = "";
	const char *path;
	bool bad_dir;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(try_open(make("ok", 0755, "p.so", 0644), true, &bad_dir, why), 0);
	/* The file, then its directory, writable by others. */
	assert_int_equal(try_open(make("ok", 0755, "w.so", 0666), true, &bad_dir, why), -EPERM);
	assert_false(bad_dir);
	assert_str_eq(why, "writable by a non-root user (mode 666, owner uid 0)");
	assert_int_equal(try_open(make("open", 0777, "p.so", 0644), true, &bad_dir, why), -EPERM);
	assert_true(bad_dir);
	assert_str_eq(why, "writable by a non-root user (mode 777, owner uid 0)");
	/* Sticky: nobody else can replace root's file there. */
	assert_int_equal(try_open(make("sticky", 01777, "p.so", 0644), true, &bad_dir, why), 0);
	/* Another owner, even read-only. */
	path = make("ok", 0755, "u.so", 0644);
	assert_int_equal(chown(path, 1000, 1000), 0);
	assert_int_equal(try_open(path, true, &bad_dir, why), -EPERM);
	assert_str_eq(why, "writable by a non-root user (mode 644, owner uid 1000)");
	/* The caller's override skips the rule, not the file checks. */
	assert_int_equal(try_open(make("ok", 0755, "w.so", 0666), false, &bad_dir, why), 0);
}

static void test_not_a_file(void **state)
{
	char path[128], why[160] = "";
	bool bad_dir;

	(void)state;
	assert_int_equal(try_open(base, false, &bad_dir, why), -EINVAL);
	assert_str_eq(why, "not a regular file");
	/* A FIFO with no writer: refused at once, not waited for. */
	snprintf(path, sizeof(path), "%s/fifo.so", base);
	assert_int_equal(mkfifo(path, 0644), 0);
	assert_int_equal(try_open(path, false, &bad_dir, why), -EINVAL);
	snprintf(path, sizeof(path), "%s/missing.so", base);
	assert_int_equal(try_open(path, false, &bad_dir, why), -ENOENT);
}

static void test_dirname(void **state)
{
	char d[PATH_MAX];

	(void)state;
	retisc_trust__dirname("/a/b/c.so", d, sizeof(d));
	assert_str_eq(d, "/a/b");
	retisc_trust__dirname("/c.so", d, sizeof(d));
	assert_str_eq(d, "/");
	retisc_trust__dirname("c.so", d, sizeof(d));
	assert_str_eq(d, ".");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_file, setup, teardown),
		cmocka_unit_test(test_dirname),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
