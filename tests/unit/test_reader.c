// SPDX-License-Identifier: GPL-2.0-only
/*
 * Event file reader (core/events/reader.c): doc/files.md §3 detection and version, §4
 * fix-ups, §6 input forms and split-file following, §7 series files, and
 * the reader rules of doc/events.md §3.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#include "log.h"
#include "reader.h"

static char fixture_dir[PATH_MAX];
static char tmp_dir[PATH_MAX];
static char err[1024];

static const char *fixture(const char *name)
{
	return ring_path("%s/%s", fixture_dir, name);
}

static const char *tmp_path(const char *name)
{
	return ring_path("%s/%s", tmp_dir, name);
}

/* Write content to name in the test's temporary directory. */
static const char *tmp_file(const char *name, const char *content)
{
	const char *p = tmp_path(name);

	write_text_file(p, content);
	return p;
}

static char log_lines[4096];

static void log_capture_fixed(enum retisc_log_level level, const char *line, void *priv)
{
	(void)level;
	(void)priv;
	strncat(log_lines, line, sizeof(log_lines) - strlen(log_lines) - 2);
	strcat(log_lines, "\n");
}

static int group_setup(void **state)
{
	(void)state;
	if (find_fixture_dir(fixture_dir))
		return -1;
	if (make_tmp_dir(tmp_dir, "reader"))
		return -1;
	retisc_log__set_sink(log_capture_fixed, NULL);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	retisc_log__set_sink(NULL, NULL);
	return rm_tree(tmp_dir);
}

static int test_setup(void **state)
{
	(void)state;
	log_lines[0] = '\0';
	err[0] = '\0';
	return 0;
}

/* Open input, which must succeed. */
static struct retisc_reader *open_ok(const char *input)
{
	struct retisc_reader *r = retisc_reader__open(input, err, sizeof(err));

	if (!r)
		fail_msg("open %s: %s", input ? input : "(default)", err);
	return r;
}

/* Open input, which must fail with want_errno and exactly want_err. */
static void open_fails(const char *input, int want_errno, const char *want_err)
{
	struct retisc_reader *r;

	errno = 0;
	r = retisc_reader__open(input, err, sizeof(err));
	assert_null(r);
	assert_int_equal(errno, want_errno);
	assert_str_eq(err, want_err);
}

/* Next item, which must be returned without error. */
static struct retisc_json *next_ok(struct retisc_reader *r)
{
	struct retisc_json *v = NULL;
	int ret = retisc_reader__next(r, &v, err, sizeof(err));

	if (ret != 1)
		fail_msg("next: %d %s", ret, err);
	assert_non_null(v);
	return v;
}

/* Next item must fail with -want and "<path>:<line>: <want_what>". */
static void next_fails(struct retisc_reader *r, int want, const char *want_what)
{
	struct retisc_json *v = (struct retisc_json *)1;
	char want_err[1200];

	assert_int_equal(retisc_reader__next(r, &v, err, sizeof(err)), -want);
	assert_null(v);
	snprintf(want_err, sizeof(want_err), "%s:%lu: %s", retisc_reader__path(r),
		 retisc_reader__line(r), want_what);
	assert_str_eq(err, want_err);
}

static void next_end(struct retisc_reader *r)
{
	struct retisc_json *v = (struct retisc_json *)1;

	assert_int_equal(retisc_reader__next(r, &v, err, sizeof(err)), 0);
	assert_null(v);
}

/* Read exactly n items. */
static void read_n(struct retisc_reader *r, unsigned int n)
{
	while (n--)
		retisc_json__free(next_ok(r));
}

/* Read everything, failing on any error; returns the number of items. */
static unsigned int drain(struct retisc_reader *r)
{
	unsigned int n = 0;

	for (;;) {
		struct retisc_json *v = NULL;
		int ret = retisc_reader__next(r, &v, err, sizeof(err));

		if (!ret)
			return n;
		if (ret < 0)
			fail_msg("next: %s", err);
		retisc_json__free(v);
		n++;
	}
}

/* Member at a '/'-separated path, NULL when absent. */
static struct retisc_json *at(const struct retisc_json *v, const char *path)
{
	char buf[256], *save = NULL, *key;
	struct retisc_json *cur = (struct retisc_json *)v;

	snprintf(buf, sizeof(buf), "%s", path);
	for (key = strtok_r(buf, "/", &save); key && cur; key = strtok_r(NULL, "/", &save))
		cur = retisc_json__obj_get(cur, key);
	return cur;
}

static const char *str_at(const struct retisc_json *v, const char *path)
{
	const char *s = retisc_json__get_str(at(v, path), NULL);

	if (!s)
		fail_msg("no string at %s", path);
	return s;
}

static uint64_t u64_at(const struct retisc_json *v, const char *path)
{
	uint64_t u;

	if (!retisc_json__get_u64(at(v, path), &u))
		fail_msg("no u64 at %s", path);
	return u;
}

/* Objects, for use inside series lines ... */
#define STARTUP_O(v) "{\"common\":{\"timestamp\":1},\"startup\":{\"retis_version\":\"" v "\"}}"
#define EVENT_O(ts)                                                                                \
	"{\"common\":{\"timestamp\":" #ts                                                          \
	"},\"kernel\":{\"symbol\":\"x\",\"probe_type\":\"kprobe\"}}"
/* ... and lines. */
#define STARTUP_V(v) STARTUP_O(v) "\n"
#define EVENT(ts) EVENT_O(ts) "\n"

/* ---------------------------------------------------------------------------
 * Current-format events and series files
 */

static void test_events_v2(void **state)
{
	const char *path = fixture("retisc-1.7.json");
	struct retisc_reader *r;
	struct retisc_json *v;

	(void)state;
	r = open_ok(path);
	assert_int_equal(retisc_reader__kind(r), RETISC_FILE_EVENTS);
	assert_int_equal(retisc_reader__compat(r), RETISC_COMPAT_V2);
	assert_str_eq(retisc_reader__version(r), "v1.7.0");
	assert_str_eq(retisc_reader__path(r), path);

	/* Line 1 comes back as the first event. */
	v = next_ok(r);
	assert_int_equal(retisc_reader__line(r), 1);
	assert_str_eq(str_at(v, "startup/cmdline"), "retisc collect -o");
	retisc_json__free(v);

	v = next_ok(r);
	assert_int_equal(retisc_reader__line(r), 2);
	/* Kernel addresses above 2^63 are kept exactly. */
	assert_true(u64_at(v, "skb-tracking/orig_head") == 18446619372617628672ULL);
	assert_true(u64_at(v, "skb-tracking/skb") == 18446619372874141952ULL);
	assert_int_equal(u64_at(v, "ct/ct_status"), 8);
	assert_non_null(at(v, "netns/inum"));
	retisc_json__free(v);

	assert_int_equal(drain(r), 3);
	assert_int_equal(retisc_reader__line(r), 5);
	next_end(r);
	next_end(r);
	retisc_reader__free(r);
}

static void test_series(void **state)
{
	struct retisc_reader *r;
	struct retisc_json *v;

	(void)state;
	r = open_ok(fixture("retisc-sorted.json"));
	assert_int_equal(retisc_reader__kind(r), RETISC_FILE_SERIES);
	assert_int_equal(retisc_reader__compat(r), RETISC_COMPAT_V2);
	assert_str_eq(retisc_reader__version(r), "v1.7.0");

	v = next_ok(r);
	assert_true(retisc_json__is_array(v));
	assert_int_equal(retisc_json__arr_len(v), 1);
	assert_str_eq(str_at(retisc_json__arr_get(v, 0), "startup/retis_version"), "v1.7.0");
	retisc_json__free(v);

	v = next_ok(r);
	assert_int_equal(retisc_json__arr_len(v), 2);
	assert_int_equal(u64_at(retisc_json__arr_get(v, 1), "tracking/idx"), 1);
	assert_true(u64_at(retisc_json__arr_get(v, 1), "tracking/skb/orig_head") ==
		    18446616576100907520ULL);
	retisc_json__free(v);

	v = next_ok(r);
	assert_int_equal(retisc_json__arr_len(v), 1);
	assert_true(u64_at(retisc_json__arr_get(v, 0), "ovs-detrace/flow") ==
		    18446616576100907008ULL);
	retisc_json__free(v);
	next_end(r);
	retisc_reader__free(r);

	/* A series file is never followed, even with "..". */
	r = open_ok(tmp_file("sorted.0", "[" STARTUP_O("v1.7.0") "]\n"));
	retisc_reader__free(r);
	tmp_file("sorted.1", "[" STARTUP_O("v1.7.0") "]\n");
	r = open_ok(tmp_path("sorted.0.."));
	assert_int_equal(drain(r), 1);
	retisc_reader__free(r);
	assert_str_eq(log_lines, "");
}

/* ---------------------------------------------------------------------------
 * doc/files.md §3 errors
 */

static void test_open_errors(void **state)
{
	static const struct {
		const char *content;
		int err;
		const char *what;
	} cases[] = {
		{"", EINVAL, "File is empty"},
		{"[]\n", EINVAL, "Invalid or missing events"},
		{"[1,2]\n", EINVAL, "Invalid or missing events"},
		{"[" STARTUP_O("v1.7.0") ",3]\n", EINVAL, "Invalid or missing events"},
		{"42\n", EINVAL, "File contains invalid json data"},
		{"\"v1.7.0\"\n", EINVAL, "File contains invalid json data"},
		{"null\n", EINVAL, "File contains invalid json data"},
		{"{\"common\":{\"timestamp\":1}}\n", EINVAL,
		 "Cannot find version in startup event"},
		{"{\"startup\":\"v1.7.0\"}\n", EINVAL, "Cannot find version in startup event"},
		{"{\"startup\":{\"retis_version\":170}}\n", EINVAL,
		 "Cannot find version in startup event"},
		{"[{\"common\":{\"timestamp\":1}}]\n", EINVAL,
		 "Cannot find version in startup event"},
		{STARTUP_V("v"), EINVAL, "Invalid Retis version string (v)"},
		{STARTUP_V("-1"), EINVAL, "Invalid Retis version string (-1)"},
		{STARTUP_V(""), EINVAL, "Invalid Retis version string ()"},
		{STARTUP_V("v+build"), EINVAL, "Invalid Retis version string (v+build)"},
		{STARTUP_V("1.5."), EINVAL,
		 "unexpected end of input while parsing patch version number"},
		{STARTUP_V("1.5.x"), EINVAL,
		 "unexpected character 'x' while parsing patch version number"},
		{STARTUP_V("1.5"), EINVAL,
		 "unexpected end of input while parsing minor version number"},
		{STARTUP_V("unspec"), EINVAL,
		 "unexpected character 'u' while parsing major version number"},
		{STARTUP_V("v1.4.9"), ENOTSUP, "Unsupported Retis version (1.4.9)"},
		{STARTUP_V("v0.99.0"), ENOTSUP, "Unsupported Retis version (0.99.0)"},
		/* The version is checked in series files too. */
		{"[" STARTUP_O("1.2.3") "]\n", ENOTSUP, "Unsupported Retis version (1.2.3)"},
	};
	char want[1200];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path = tmp_file("bad.json", cases[i].content);

		snprintf(want, sizeof(want), "%s: %s", path, cases[i].what);
		open_fails(path, cases[i].err, want);
	}
}

static void test_open_not_json(void **state)
{
	const char *path;
	const char *prefix;

	(void)state;
	path = tmp_file("bad.json", "{\"common\":\n" EVENT(2));
	prefix = "Failed to parse event file: ";
	assert_null(retisc_reader__open(path, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
	assert_int_equal(strncmp(err + strlen(path), ": ", 2), 0);
	assert_int_equal(strncmp(err + strlen(path) + 2, prefix, strlen(prefix)), 0);
	/* The parser's own reason follows. */
	assert_true(strlen(err) > strlen(path) + 2 + strlen(prefix));

	/* A blank first line is not JSON either. */
	path = tmp_file("bad.json", "\n" STARTUP_V("v1.7.0"));
	assert_null(retisc_reader__open(path, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, ": Failed to parse event file: "));
}

static void test_open_missing(void **state)
{
	char want[PATH_MAX + 64];
	const char *path;

	(void)state;
	path = tmp_path("nope.data");
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	open_fails(path, ENOENT, want);

	/* "PATH.." names PATH in the error, without the suffix. */
	open_fails(tmp_path("nope.data.."), ENOENT, want);

	/* A directory cannot be read. */
	snprintf(want, sizeof(want), "%s: Is a directory", tmp_dir);
	open_fails(tmp_dir, EISDIR, want);
}

static void test_compat_level(void **state)
{
	static const struct {
		const char *version;
		int ret;
		enum retisc_compat level;
		const char *msg;
	} cases[] = {
		{"v1.5.0", 0, RETISC_COMPAT_V0, NULL},
		{"1.5.3", 0, RETISC_COMPAT_V0, NULL},
		{"v1.6.0", 0, RETISC_COMPAT_V1, NULL},
		{"v1.6.2-14-gdeadbeef", 0, RETISC_COMPAT_V1, NULL},
		{"v1.7.0", 0, RETISC_COMPAT_V2, NULL},
		{"v1.7.0+something", 0, RETISC_COMPAT_V2, NULL},
		{"1.7.0-rc1+x-y", 0, RETISC_COMPAT_V2, NULL},
		{"v1.10.0", 0, RETISC_COMPAT_V2, NULL},
		{"v2.0.0", 0, RETISC_COMPAT_V2, NULL},
		{"1.7.0", 0, RETISC_COMPAT_V2, NULL},
		{"v1.4.99", -ENOTSUP, 0, "Unsupported Retis version (1.4.99)"},
		{"0.0.0", -ENOTSUP, 0, "Unsupported Retis version (0.0.0)"},
		{"v", -EINVAL, 0, "Invalid Retis version string (v)"},
		{"-1", -EINVAL, 0, "Invalid Retis version string (-1)"},
		{"+1.5.0", -EINVAL, 0, "Invalid Retis version string (+1.5.0)"},
		{"vv1.5.0", -EINVAL, 0,
		 "unexpected character 'v' while parsing major version number"},
		{"1.5.", -EINVAL, 0, "unexpected end of input while parsing patch version number"},
		{"1.5.x", -EINVAL, 0,
		 "unexpected character 'x' while parsing patch version number"},
		{"1.5", -EINVAL, 0, "unexpected end of input while parsing minor version number"},
		{"1", -EINVAL, 0, "unexpected end of input while parsing major version number"},
		{"1,5.0", -EINVAL, 0, "unexpected character ',' after major version number"},
		{"1.5.0.1", -EINVAL, 0, "unexpected character '.' after patch version number"},
		{" 1.5.0", -EINVAL, 0,
		 "unexpected character ' ' while parsing major version number"},
		{"1. 5.0", -EINVAL, 0,
		 "unexpected character ' ' while parsing minor version number"},
		{"01.5.0", -EINVAL, 0, "invalid leading zero in major version number"},
		{"1.05.0", -EINVAL, 0, "invalid leading zero in minor version number"},
		{"18446744073709551616.0.0", -EINVAL, 0,
		 "value of major version number exceeds u64::MAX"},
		{"1.\t", -EINVAL, 0,
		 "unexpected character '\\t' while parsing minor version number"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum retisc_compat level = 99;
		int ret;

		err[0] = '\0';
		ret = retisc_compat__level(cases[i].version, &level, err, sizeof(err));
		if (ret != cases[i].ret)
			fail_msg("%s: %d (%s)", cases[i].version, ret, err);
		if (!ret)
			assert_int_equal(level, cases[i].level);
		else
			assert_str_eq(err, cases[i].msg);
	}
}

/* ---------------------------------------------------------------------------
 * Line errors
 */

static void test_line_errors(void **state)
{
	struct retisc_reader *r;
	struct retisc_json *v;
	const char *path;
	char want[512];

	/* clang-format off */
	static const char content[] =
		STARTUP_V("v1.7.0")
		EVENT(2)
		"\n"					/* 3: blank */
		"{\"common\":{\"timestamp\":4},}\n"	/* 4: bad JSON */
		"{\"kernel\":{}}\n"			/* 5 */
		"{\"common\":7}\n"			/* 6 */
		"[" EVENT_O(7) "]\n"			/* 7 */
		"\"event\"\n"				/* 8 */
		" \t\r\n"				/* 9: blank */
		EVENT(10);
	/* clang-format on */
	(void)state;
	path = tmp_file("lines.json", content);
	r = open_ok(path);
	retisc_json__free(next_ok(r));
	retisc_json__free(next_ok(r));
	next_fails(r, EINVAL, "blank line");
	assert_int_equal(retisc_reader__line(r), 3);

	/* A malformed line is reported with its number and the parser's
	 * reason; the reader goes on. */
	assert_int_equal(retisc_reader__next(r, &v, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:4: ", path);
	assert_int_equal(strncmp(err, want, strlen(want)), 0);
	assert_true(strlen(err) > strlen(want));

	next_fails(r, EINVAL, "missing common");
	assert_int_equal(retisc_reader__line(r), 5);
	next_fails(r, EINVAL, "common is not a JSON object");
	next_fails(r, EINVAL, "Cannot read series from unsorted file");
	assert_int_equal(retisc_reader__line(r), 7);
	next_fails(r, EINVAL, "event is not a JSON object");
	next_fails(r, EINVAL, "blank line");
	assert_int_equal(retisc_reader__line(r), 9);

	v = next_ok(r);
	assert_int_equal(retisc_reader__line(r), 10);
	assert_int_equal(u64_at(v, "common/timestamp"), 10);
	retisc_json__free(v);
	next_end(r);
	retisc_reader__free(r);
}

/*
 * next_line() + parse_line() (doc/processing.md §2.7, §1.1) give line
 * after line what next() gives, errors and line numbers included; line 1
 * comes parsed, the others raw.
 */
static void test_next_line(void **state)
{
	/* clang-format off */
	static const char content[] =
		STARTUP_V("v1.7.0")
		EVENT(2)
		"\n"
		"{\"common\":{\"timestamp\":4},}\n"
		"{\"kernel\":{}}\n"
		"{\"common\":7}\n"
		"[" EVENT_O(7) "]\n"
		"\"event\"\n"
		" \t\r\n"
		"{ \"common\" : {\"timestamp\":10} }\n"
		EVENT(11);
	/* clang-format on */
	struct retisc_strbuf a = RETISC_STRBUF_INIT, b = RETISC_STRBUF_INIT;
	struct retisc_reader *r1, *r2;
	struct retisc_json *v1, *v2;
	char err1[512], err2[512];
	const char *path, *line;
	unsigned long n = 0;
	size_t len;
	int ret1, ret2;

	(void)state;
	path = tmp_file("next-line.json", content);
	r1 = open_ok(path);
	r2 = open_ok(path);
	do {
		err1[0] = err2[0] = '\0';
		ret1 = retisc_reader__next(r1, &v1, err1, sizeof(err1));
		ret2 = retisc_reader__next_line(r2, &line, &len, &v2, err2, sizeof(err2));
		n++;
		if (ret2 > 0) {
			/* Line 1 parsed by open(), the others raw. */
			assert_int_equal(v2 != NULL, n == 1);
			assert_int_equal(line == NULL, n == 1);
		}
		if (ret2 > 0 && !v2)
			ret2 = retisc_reader__parse_line(r2, retisc_reader__path(r2),
							 retisc_reader__line(r2), line, len, &v2,
							 err2, sizeof(err2));
		assert_int_equal(ret1, ret2);
		assert_int_equal(retisc_reader__line(r1), retisc_reader__line(r2));
		assert_string_equal(err1, err2);
		if (ret1 > 0) {
			retisc_strbuf__reset(&a);
			retisc_strbuf__reset(&b);
			assert_int_equal(retisc_json__dump(v1, &a), 0);
			assert_int_equal(retisc_json__dump(v2, &b), 0);
			assert_string_equal(a.buf, b.buf);
			retisc_json__free(v1);
			retisc_json__free(v2);
		}
	} while (ret1);
	assert_int_equal(n, 12);
	retisc_strbuf__release(&a);
	retisc_strbuf__release(&b);
	retisc_reader__free(r1);
	retisc_reader__free(r2);
}

/*
 * A line longer than 64 MiB (doc/files.md §6) is reported with its number
 * and skipped without being held whole; the lines around it are read, the
 * last one without its newline.
 */
static void test_line_too_long(void **state)
{
	static const char head[] = STARTUP_V("v1.7.0") EVENT(2);
	static const char tail[] = "\n" EVENT(4);
	const size_t big = (64u << 20) + 4096;
	struct retisc_json *v;
	const char *path;
	char *chunk;
	FILE *f;

	(void)state;
	path = tmp_path("long.json");
	f = fopen(path, "w");
	assert_non_null(f);
	chunk = malloc(1 << 20);
	assert_non_null(chunk);
	memset(chunk, 'x', 1 << 20);
	fputs(head, f);
	fputs("{\"common\":{\"timestamp\":3},\"pad\":\"", f);
	for (size_t n = 0; n < big; n += 1 << 20)
		fwrite(chunk, 1, 1 << 20, f);
	fputs("\"}", f);
	/* The last event without its newline. */
	fwrite(tail, 1, strlen(tail) - 1, f);
	fclose(f);
	free(chunk);

	struct retisc_reader *r = open_ok(path);

	retisc_json__free(next_ok(r));
	retisc_json__free(next_ok(r));
	next_fails(r, EINVAL, "line longer than 67108864 bytes");
	assert_int_equal(retisc_reader__line(r), 3);
	v = next_ok(r);
	assert_int_equal(u64_at(v, "common/timestamp"), 4);
	retisc_json__free(v);
	next_end(r);
	retisc_reader__free(r);
	unlink(path);
}

static void test_series_line_errors(void **state)
{
	struct retisc_reader *r;

	/* clang-format off */
	static const char content[] =
		"[" STARTUP_O("v1.7.0") "]\n"
		EVENT(2)
		"[" EVENT_O(3) "," EVENT_O(4) "]\n"
		"[" EVENT_O(5) ",{\"kernel\":{}}]\n"	/* 4 */
		"[" EVENT_O(6) ",[]]\n"
		"7\n"
		"\n"
		"[]\n"
		"[" EVENT_O(9) "]\n";
	/* clang-format on */
	(void)state;
	r = open_ok(tmp_file("s.json", content));
	retisc_json__free(next_ok(r));
	next_fails(r, EINVAL, "Cannot read event from sorted file");
	retisc_json__free(next_ok(r));
	next_fails(r, EINVAL, "series element 1: missing common");
	next_fails(r, EINVAL, "series element 1: event is not a JSON object");
	next_fails(r, EINVAL, "series is not a JSON array");
	next_fails(r, EINVAL, "blank line");
	/* An empty series holds no event to check. */
	retisc_json__free(next_ok(r));
	retisc_json__free(next_ok(r));
	assert_int_equal(retisc_reader__line(r), 9);
	next_end(r);
	retisc_reader__free(r);
}

/* Reading events from a series file and vice versa. */
static void test_next_kind(void **state)
{
	struct retisc_reader *r;
	struct retisc_json *v = NULL;
	char want[PATH_MAX + 64];
	const char *path;

	(void)state;
	path = fixture("retisc-sorted.json");
	r = open_ok(path);
	assert_int_equal(retisc_reader__next_kind(r, RETISC_FILE_EVENTS, &v, err, sizeof(err)),
			 -EINVAL);
	assert_null(v);
	snprintf(want, sizeof(want), "%s:1: Cannot read event from sorted file", path);
	assert_str_eq(err, want);
	/* The series kind is what the file holds. */
	assert_int_equal(retisc_reader__next_kind(r, RETISC_FILE_SERIES, &v, err, sizeof(err)), 1);
	assert_int_equal(retisc_json__arr_len(v), 2);
	retisc_json__free(v);
	retisc_reader__free(r);

	path = fixture("retisc-1.7.json");
	r = open_ok(path);
	assert_int_equal(retisc_reader__next_kind(r, RETISC_FILE_SERIES, &v, err, sizeof(err)),
			 -EINVAL);
	snprintf(want, sizeof(want), "%s:1: Cannot read series from unsorted file", path);
	assert_str_eq(err, want);
	assert_int_equal(retisc_reader__next_kind(r, RETISC_FILE_EVENTS, &v, err, sizeof(err)), 1);
	assert_int_equal(retisc_reader__line(r), 2);
	retisc_json__free(v);
	retisc_reader__free(r);
}

/* doc/events.md §3: any key order, unknown keys kept, empty skb accepted. */
static void test_reader_rules(void **state)
{
	struct retisc_reader *r;
	struct retisc_json *v, *ev;
	uint64_t u;
	int64_t i;

	(void)state;
	r = open_ok(tmp_file("rules.json",
			     "{\"startup\":{\"machine\":{},\"retis_version\":\"v1.7.0\",\"x\":1},"
			     "\"common\":{\"timestamp\":1}}\n"
			     "{\"zz\":{\"b\":[1,-2,18446744073709551615]},\"skb\":{},"
			     "\"common\":{\"extra\":true,\"timestamp\":2},\"aa\":null}\n"));
	v = next_ok(r);
	assert_int_equal(u64_at(v, "startup/x"), 1);
	assert_string_equal(retisc_json__obj_key(v, 0), "startup");
	retisc_json__free(v);

	ev = next_ok(r);
	assert_int_equal(retisc_json__obj_len(ev), 4);
	assert_string_equal(retisc_json__obj_key(ev, 0), "zz");
	assert_string_equal(retisc_json__obj_key(ev, 1), "skb");
	assert_string_equal(retisc_json__obj_key(ev, 2), "common");
	assert_string_equal(retisc_json__obj_key(ev, 3), "aa");
	assert_int_equal(retisc_json__arr_len(at(ev, "zz/b")), 3);
	assert_true(retisc_json__get_u64(retisc_json__arr_get(at(ev, "zz/b"), 2), &u));
	assert_true(u == UINT64_MAX);
	assert_true(retisc_json__get_i64(retisc_json__arr_get(at(ev, "zz/b"), 1), &i));
	assert_true(i == -2);
	assert_int_equal(retisc_json__obj_len(at(ev, "skb")), 0);
	assert_true(retisc_json__type(at(ev, "aa")) == RETISC_JSON_NULL);
	assert_non_null(at(ev, "aa"));
	assert_string_equal(retisc_json__obj_key(at(ev, "common"), 0), "extra");
	retisc_json__free(ev);
	next_end(r);
	retisc_reader__free(r);
}

/* The last line may lack its '\n'; CRLF lines parse. */
static void test_line_endings(void **state)
{
	struct retisc_reader *r;

	(void)state;
	r = open_ok(tmp_file("crlf.json", "{\"common\":{\"timestamp\":1},\"startup\":"
					  "{\"retis_version\":\"v1.7.0\"}}\r\n"
					  "{\"common\":{\"timestamp\":2}}\r\n"
					  "{\"common\":{\"timestamp\":3}}"));
	assert_int_equal(drain(r), 3);
	assert_int_equal(retisc_reader__line(r), 3);
	retisc_reader__free(r);
}

/* ---------------------------------------------------------------------------
 * Input forms (doc/files.md §6)
 */

/* Startup line of split file `id` of a set. */
static void write_split(const char *name, int id, int n_events)
{
	char buf[4096];
	int len;

	len = snprintf(buf, sizeof(buf),
		       "{\"common\":{\"timestamp\":%d},\"startup\":{\"retis_version\":\"v1.7.0\","
		       "\"split_file\":{\"id\":%d,\"policy\":{\"kind\":\"size\",\"limit\":"
		       "1000000}}}}\n",
		       id * 100, id);
	for (int i = 0; i < n_events; i++)
		len += snprintf(buf + len, sizeof(buf) - len,
				"{\"common\":{\"timestamp\":%d},\"kernel\":{}}\n",
				id * 100 + i + 1);
	tmp_file(name, buf);
}

static void test_follow(void **state)
{
	struct retisc_reader *r;
	struct retisc_json *v;
	char *base, want[PATH_MAX];

	(void)state;
	base = strdup(fixture("split.data"));
	assert_non_null(base);

	/* .0, .1, .2 are read; .3 is missing so the leftover .4 is not. */
	snprintf(want, sizeof(want), "%s.0..", base);
	r = open_ok(want);
	snprintf(want, sizeof(want), "%s.0", base);
	assert_str_eq(retisc_reader__path(r), want);
	read_n(r, 3);
	assert_str_eq(retisc_reader__path(r), want);
	assert_int_equal(retisc_reader__line(r), 3);
	v = next_ok(r); /* startup of .1, as a plain event */
	snprintf(want, sizeof(want), "%s.1", base);
	assert_str_eq(retisc_reader__path(r), want);
	assert_int_equal(retisc_reader__line(r), 1);
	assert_int_equal(u64_at(v, "startup/split_file/id"), 1);
	retisc_json__free(v);
	read_n(r, 1 + 3);
	snprintf(want, sizeof(want), "%s.2", base);
	assert_str_eq(retisc_reader__path(r), want);
	assert_int_equal(retisc_reader__line(r), 3);
	next_end(r);
	assert_str_eq(retisc_reader__path(r), want);
	retisc_reader__free(r);

	/* Following starts where asked. */
	snprintf(want, sizeof(want), "%s.1..", base);
	r = open_ok(want);
	assert_int_equal(drain(r), 5);
	retisc_reader__free(r);
	snprintf(want, sizeof(want), "%s.2..", base);
	r = open_ok(want);
	assert_int_equal(drain(r), 3);
	retisc_reader__free(r);

	/* Without "..": that file only. */
	snprintf(want, sizeof(want), "%s.0", base);
	r = open_ok(want);
	assert_int_equal(drain(r), 3);
	retisc_reader__free(r);
	snprintf(want, sizeof(want), "%s.4", base);
	r = open_ok(want);
	assert_int_equal(drain(r), 2);
	retisc_reader__free(r);

	/* A following file that is not a regular file ends the set. */
	write_split("dirset.0", 0, 1);
	assert_int_equal(mkdir(tmp_path("dirset.1"), 0700), 0);
	write_split("dirset.2", 2, 1);
	r = open_ok(tmp_path("dirset.0.."));
	assert_int_equal(drain(r), 2);
	retisc_reader__free(r);

	/* Later files are not validated: their lines are read as events. */
	write_split("loose.0", 0, 0);
	tmp_file("loose.1", "{\"common\":{\"timestamp\":9}}\n");
	r = open_ok(tmp_path("loose.0.."));
	assert_int_equal(drain(r), 2);
	retisc_reader__free(r);

	assert_str_eq(log_lines, "");
	free(base);
}

static void test_extension_mismatch(void **state)
{
	const char *warn = "File extension does not match the rotation policy";
	struct retisc_reader *r;

	(void)state;
	write_split("set.data.5", 3, 1);
	write_split("set.data.4", 4, 1);
	r = open_ok(tmp_path("set.data.5.."));
	assert_non_null(strstr(log_lines, warn));
	assert_int_equal(drain(r), 2);
	retisc_reader__free(r);

	/* The extension is compared as the decimal text of the id. */
	log_lines[0] = '\0';
	write_split("pad.data.01", 1, 0);
	write_split("pad.data.2", 2, 0);
	r = open_ok(tmp_path("pad.data.01.."));
	assert_non_null(strstr(log_lines, warn));
	assert_int_equal(drain(r), 1);
	retisc_reader__free(r);

	/* No extension at all. */
	log_lines[0] = '\0';
	write_split("noext", 0, 0);
	r = open_ok(tmp_path("noext.."));
	assert_non_null(strstr(log_lines, warn));
	retisc_reader__free(r);

	/* Only following checks the extension. */
	log_lines[0] = '\0';
	r = open_ok(tmp_path("set.data.5"));
	retisc_reader__free(r);
	assert_str_eq(log_lines, "");

	/* No split_file: read alone, silently. */
	tmp_file("plain.0", STARTUP_V("v1.7.0"));
	tmp_file("plain.1", STARTUP_V("v1.7.0"));
	r = open_ok(tmp_path("plain.0.."));
	assert_int_equal(drain(r), 1);
	retisc_reader__free(r);
	assert_str_eq(log_lines, "");
}

static void test_default_input(void **state)
{
	char cwd[PATH_MAX], sub[PATH_MAX];
	struct retisc_reader *r;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	if (snprintf(sub, sizeof(sub), "%s/default", tmp_dir) >= (int)sizeof(sub))
		fail_msg("path too long");
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(chdir(sub), 0);

	open_fails(NULL, ENOENT, "retis.data.0: No such file or directory");

	/* No retis.data: retis.data.0 and the files following it. */
	write_split("default/retis.data.0", 0, 2);
	write_split("default/retis.data.1", 1, 1);
	r = open_ok(NULL);
	assert_str_eq(retisc_reader__path(r), "retis.data.0");
	assert_int_equal(drain(r), 5);
	assert_str_eq(retisc_reader__path(r), "retis.data.1");
	retisc_reader__free(r);

	/* retis.data must be a regular file to be chosen. */
	assert_int_equal(mkdir("retis.data", 0700), 0);
	r = open_ok(NULL);
	assert_str_eq(retisc_reader__path(r), "retis.data.0");
	retisc_reader__free(r);
	assert_int_equal(rmdir("retis.data"), 0);

	/* A regular retis.data wins; without split_file it is read alone. */
	tmp_file("default/retis.data", STARTUP_V("v1.7.0") EVENT(2));
	r = open_ok(NULL);
	assert_str_eq(retisc_reader__path(r), "retis.data");
	assert_int_equal(drain(r), 2);
	retisc_reader__free(r);
	assert_str_eq(log_lines, "");

	/* retis.data is followed too: its extension never matches an id. */
	write_split("default/retis.data", 0, 1);
	r = open_ok(NULL);
	assert_non_null(strstr(log_lines, "File extension does not match the rotation policy"));
	assert_int_equal(drain(r), 2);
	retisc_reader__free(r);

	assert_int_equal(chdir(cwd), 0);
}

static void test_stdin(void **state)
{
	struct retisc_reader *r;
	int saved, fd;

	(void)state;
	saved = dup(STDIN_FILENO);
	assert_true(saved >= 0);
	/* A split file on stdin is not followed and not checked. */
	fd = open(fixture("split.data.0"), O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	close(fd);

	r = open_ok("-");
	assert_str_eq(retisc_reader__path(r), "<stdin>");
	assert_int_equal(retisc_reader__kind(r), RETISC_FILE_EVENTS);
	assert_int_equal(drain(r), 3);
	next_end(r);
	retisc_reader__free(r);
	assert_str_eq(log_lines, "");

	/* Empty stdin. */
	fd = open("/dev/null", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	close(fd);
	clearerr(stdin);
	open_fails("-", EINVAL, "<stdin>: File is empty");

	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
	clearerr(stdin);
}

/* ---------------------------------------------------------------------------
 * Fix-ups (doc/files.md §4)
 */

static void test_fixup_v0(void **state)
{
	struct retisc_reader *r;
	struct retisc_json *v;

	(void)state;
	r = open_ok(fixture("retis-1.5.json"));
	assert_int_equal(retisc_reader__compat(r), RETISC_COMPAT_V0);
	assert_str_eq(retisc_reader__version(r), "v1.5.0");

	/* Startup: the V2 list adds what 1.5 did not write. */
	v = next_ok(r);
	assert_str_eq(str_at(v, "startup/machine/kernel_release"), "unknown");
	assert_str_eq(str_at(v, "startup/machine/kernel_version"), "unknown");
	assert_str_eq(str_at(v, "startup/machine/hardware_name"), "unknown");
	assert_str_eq(str_at(v, "startup/cmdline"), "unknown");
	assert_int_equal(u64_at(v, "startup/clock_monotonic_offset/sec"), 1742309146);
	retisc_json__free(v);

	/* skb/packet/packet -> packet/data, skb/ns/netns -> netns/inum,
	 * skb/dev -> dev, ct/ct_status added. */
	v = next_ok(r);
	assert_null(at(v, "skb/packet"));
	assert_null(at(v, "skb/ns"));
	assert_null(at(v, "skb/dev"));
	assert_int_equal(u64_at(v, "packet/len"), 98);
	assert_int_equal(u64_at(v, "packet/capture_len"), 98);
	assert_int_equal(strncmp(str_at(v, "packet/data"), "+ly9jswB", 8), 0);
	assert_null(at(v, "packet/raw"));
	assert_null(at(v, "packet/packet"));
	assert_int_equal(u64_at(v, "netns/inum"), 4026532741);
	assert_int_equal(u64_at(v, "netns/cookie"), 3);
	assert_null(at(v, "netns/netns"));
	assert_str_eq(str_at(v, "dev/name"), "veth-ns01");
	assert_int_equal(u64_at(v, "ct/ct_status"), 0);
	/* Old flat keys stay in skb as unknown keys; sub-objects untouched. */
	assert_int_equal(u64_at(v, "skb/etype"), 2048);
	assert_str_eq(str_at(v, "skb/saddr"), "192.168.125.10");
	assert_int_equal(u64_at(v, "skb/meta/len"), 98);
	assert_true(u64_at(v, "skb-tracking/orig_head") == 18446619372617628672ULL);
	retisc_json__free(v);

	/* ct/tcp_state -> ct/proto_state (and in parent); the parent gets
	 * no ct_status (rendering such an event fails, doc/files.md §4). */
	v = next_ok(r);
	assert_str_eq(str_at(v, "ct/proto_state"), "ESTABLISHED");
	assert_null(at(v, "ct/tcp_state"));
	assert_str_eq(str_at(v, "ct/parent/proto_state"), "ESTABLISHED");
	assert_null(at(v, "ct/parent/tcp_state"));
	assert_int_equal(u64_at(v, "ct/ct_status"), 0);
	assert_null(at(v, "ct/parent/ct_status"));
	assert_str_eq(str_at(v, "dev/name"), "eth0");
	assert_int_equal(u64_at(v, "skb/tcp_flags"), 24);
	assert_int_equal(retisc_json__obj_len(at(v, "skb")), 1);
	assert_null(at(v, "packet"));
	assert_null(at(v, "netns"));
	retisc_json__free(v);

	/* skb held only the packet: it is left empty. */
	v = next_ok(r);
	assert_int_equal(retisc_json__obj_len(at(v, "skb")), 0);
	assert_int_equal(u64_at(v, "packet/len"), 98);
	retisc_json__free(v);
	next_end(r);
	retisc_reader__free(r);
}

static void test_fixup_v1(void **state)
{
	struct retisc_reader *r;
	struct retisc_json *v;

	(void)state;
	r = open_ok(fixture("retis-1.6.json"));
	assert_int_equal(retisc_reader__compat(r), RETISC_COMPAT_V1);
	assert_str_eq(retisc_reader__version(r), "v1.6.2");

	v = next_ok(r);
	assert_str_eq(str_at(v, "startup/machine/kernel_release"), "unknown");
	assert_str_eq(str_at(v, "startup/machine/kernel_version"), "unknown");
	assert_str_eq(str_at(v, "startup/machine/hardware_name"), "unknown");
	assert_str_eq(str_at(v, "startup/cmdline"), "unknown");
	retisc_json__free(v);

	v = next_ok(r);
	assert_str_eq(str_at(v, "ct/proto_state"), "SYN_SENT");
	assert_null(at(v, "ct/tcp_state"));
	assert_str_eq(str_at(v, "ct/parent/proto_state"), "ESTABLISHED");
	assert_null(at(v, "ct/parent/tcp_state"));
	/* The V1 list is not applied to 1.6 files. */
	assert_int_equal(u64_at(v, "ct/ct_status"), 392);
	assert_int_equal(u64_at(v, "ct/parent/ct_status"), 394);
	assert_int_equal(strncmp(str_at(v, "packet/data"), "+ly9jswB", 8), 0);
	assert_str_eq(str_at(v, "dev/name"), "eth0");
	assert_int_equal(u64_at(v, "skb/tcp_flags"), 2);
	assert_true(u64_at(v, "skb-tracking/skb") == 18446619372874141952ULL);
	retisc_json__free(v);

	assert_int_equal(drain(r), 1);
	retisc_reader__free(r);
}

static void test_fixup_series(void **state)
{
	struct retisc_reader *r;
	struct retisc_json *v;

	/* clang-format off */
	static const char s15[] =
		"[" STARTUP_O("v1.5.0") "]\n"
		"[" EVENT_O(2) ",{\"kernel\":{}}]\n"
		"[" EVENT_O(3) ",{\"common\":{},\"ct\":{\"ct_status\":1}}]\n";
	/* clang-format on */

	(void)state;
	r = open_ok(fixture("retis-1.6-sorted.json"));
	assert_int_equal(retisc_reader__kind(r), RETISC_FILE_SERIES);
	assert_int_equal(retisc_reader__compat(r), RETISC_COMPAT_V1);

	v = next_ok(r);
	assert_str_eq(str_at(retisc_json__arr_get(v, 0), "startup/cmdline"), "unknown");
	retisc_json__free(v);

	/* Every element is fixed up. */
	v = next_ok(r);
	assert_int_equal(retisc_json__arr_len(v), 2);
	for (size_t i = 0; i < 2; i++) {
		struct retisc_json *ev = retisc_json__arr_get(v, i);

		assert_str_eq(str_at(ev, "ct/proto_state"), "SYN_SENT");
		assert_null(at(ev, "ct/tcp_state"));
		assert_int_equal(u64_at(ev, "tracking/idx"), i);
	}
	retisc_json__free(v);
	next_end(r);
	retisc_reader__free(r);

	/* Errors name the element; fix-up errors are not wrapped. */
	r = open_ok(tmp_file("s15.json", s15));
	retisc_json__free(next_ok(r));
	next_fails(r, EINVAL,
		   "Event was fixed up but parsing still failed: series element 1: missing common");
	next_fails(r, EEXIST, "series element 1: Destination field ct/ct_status already exists");
	next_end(r);
	retisc_reader__free(r);
}

static void test_fixup_errors(void **state)
{
	struct retisc_reader *r;
	struct retisc_json *v;

	/* clang-format off */
	static const char e15[] =
		STARTUP_V("v1.5.0")
		"{\"common\":{},\"ct\":{\"state\":\"new\",\"ct_status\":8}}\n"
		"{\"common\":{},\"packet\":{},\"skb\":{\"packet\":{}}}\n"
		"{\"kernel\":{},\"skb\":{\"dev\":{}}}\n"
		"[1]\n"
		"{\"common\":{},\"ct\":{\"tcp_state\":\"CLOSE\"}}\n";
	/* clang-format on */
	(void)state;
	r = open_ok(tmp_file("e15.json", e15));
	retisc_json__free(next_ok(r));
	next_fails(r, EEXIST, "Destination field ct/ct_status already exists");
	next_fails(r, EEXIST, "Destination field packet already exists");
	next_fails(r, EINVAL, "Event was fixed up but parsing still failed: missing common");
	next_fails(r, EINVAL, "Cannot read series from unsorted file");
	/* The reader goes on after fix-up errors. */
	v = next_ok(r);
	assert_str_eq(str_at(v, "ct/proto_state"), "CLOSE");
	assert_int_equal(u64_at(v, "ct/ct_status"), 0);
	retisc_json__free(v);
	next_end(r);
	retisc_reader__free(r);

	/* A 1.6 startup that already has machine. */
	r = open_ok(tmp_file("e16.json", "{\"common\":{\"timestamp\":1},\"startup\":"
					 "{\"retis_version\":\"v1.6.0\",\"machine\":{}}}\n"));
	next_fails(r, EEXIST, "Destination field startup/machine already exists");
	next_end(r);
	retisc_reader__free(r);

	/* Current files are not fixed up: the same content is fine. */
	r = open_ok(tmp_file("e17.json", "{\"common\":{\"timestamp\":1},\"startup\":"
					 "{\"retis_version\":\"v1.7.0\",\"machine\":{}}}\n"
					 "{\"common\":{},\"ct\":{\"tcp_state\":\"CLOSE\"},"
					 "\"skb\":{\"packet\":{}}}\n"));
	retisc_json__free(next_ok(r));
	v = next_ok(r);
	assert_str_eq(str_at(v, "ct/tcp_state"), "CLOSE");
	assert_null(at(v, "ct/proto_state"));
	assert_null(at(v, "ct/ct_status"));
	assert_non_null(at(v, "skb/packet"));
	retisc_json__free(v);
	retisc_reader__free(r);
}

static struct retisc_json *parse(const char *s)
{
	struct retisc_json *v = retisc_json__parse(s, strlen(s), err, sizeof(err));

	if (!v)
		fail_msg("parse %s: %s", s, err);
	return v;
}

/* retisc_compat__fixup() on its own. */
static void test_fixup_direct(void **state)
{
	struct retisc_json *v;

	(void)state;
	/* Add on an existing key fails. */
	v = parse("{\"common\":{},\"ct\":{\"ct_status\":8}}");
	assert_int_equal(retisc_compat__fixup(v, RETISC_COMPAT_V0, err, sizeof(err)), -EEXIST);
	assert_str_eq(err, "Destination field ct/ct_status already exists");
	retisc_json__free(v);

	/* Move onto an existing key fails too. */
	v = parse("{\"ct\":{\"tcp_state\":\"A\",\"proto_state\":\"B\"}}");
	assert_int_equal(retisc_compat__fixup(v, RETISC_COMPAT_V1, err, sizeof(err)), -EEXIST);
	assert_str_eq(err, "Destination field ct/proto_state already exists");
	retisc_json__free(v);

	v = parse("{\"skb\":{\"ns\":{\"netns\":1}},\"netns\":{}}");
	assert_int_equal(retisc_compat__fixup(v, RETISC_COMPAT_V0, err, sizeof(err)), -EEXIST);
	assert_str_eq(err, "Destination field netns already exists");
	retisc_json__free(v);

	/* Missing parents: nothing to do. Non-object parents count as
	 * missing. */
	v = parse("{\"common\":{},\"startup\":5,\"skb\":{\"ns\":7},\"ct\":[]}");
	assert_int_equal(retisc_compat__fixup(v, RETISC_COMPAT_V0, err, sizeof(err)), 0);
	assert_int_equal(u64_at(v, "startup"), 5);
	assert_int_equal(u64_at(v, "netns"), 7);
	assert_int_equal(retisc_json__obj_len(at(v, "skb")), 0);
	assert_true(retisc_json__is_array(at(v, "ct")));
	retisc_json__free(v);

	/* Non-objects are left alone. */
	v = parse("[1,2]");
	assert_int_equal(retisc_compat__fixup(v, RETISC_COMPAT_V0, err, sizeof(err)), 0);
	retisc_json__free(v);

	/* V2: nothing is touched. */
	v = parse("{\"ct\":{\"tcp_state\":\"A\"},\"startup\":{}}");
	assert_int_equal(retisc_compat__fixup(v, RETISC_COMPAT_V2, err, sizeof(err)), 0);
	assert_str_eq(str_at(v, "ct/tcp_state"), "A");
	assert_null(at(v, "startup/machine"));
	retisc_json__free(v);

	/* Steps run in order: the 1.5 packet goes through skb/packet/raw and
	 * packet/raw to land in packet/data; netns keeps its cookie. */
	v = parse("{\"skb\":{\"packet\":{\"packet\":\"AA==\"},\"ns\":{\"cookie\":1,\"netns\":2}}}");
	assert_int_equal(retisc_compat__fixup(v, RETISC_COMPAT_V0, err, sizeof(err)), 0);
	assert_str_eq(str_at(v, "packet/data"), "AA==");
	assert_int_equal(retisc_json__obj_len(at(v, "packet")), 1);
	assert_int_equal(u64_at(v, "netns/inum"), 2);
	assert_int_equal(u64_at(v, "netns/cookie"), 1);
	retisc_json__free(v);
}

static void test_free_null(void **state)
{
	(void)state;
	retisc_reader__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_events_v2, test_setup),
		cmocka_unit_test_setup(test_series, test_setup),
		cmocka_unit_test_setup(test_next_kind, test_setup),
		cmocka_unit_test_setup(test_open_errors, test_setup),
		cmocka_unit_test_setup(test_open_not_json, test_setup),
		cmocka_unit_test_setup(test_open_missing, test_setup),
		cmocka_unit_test_setup(test_compat_level, test_setup),
		cmocka_unit_test_setup(test_line_errors, test_setup),
		cmocka_unit_test_setup(test_next_line, test_setup),
		cmocka_unit_test_setup(test_series_line_errors, test_setup),
		cmocka_unit_test_setup(test_line_too_long, test_setup),
		cmocka_unit_test_setup(test_reader_rules, test_setup),
		cmocka_unit_test_setup(test_line_endings, test_setup),
		cmocka_unit_test_setup(test_follow, test_setup),
		cmocka_unit_test_setup(test_extension_mismatch, test_setup),
		cmocka_unit_test_setup(test_default_input, test_setup),
		cmocka_unit_test_setup(test_stdin, test_setup),
		cmocka_unit_test_setup(test_fixup_v0, test_setup),
		cmocka_unit_test_setup(test_fixup_v1, test_setup),
		cmocka_unit_test_setup(test_fixup_series, test_setup),
		cmocka_unit_test_setup(test_fixup_errors, test_setup),
		cmocka_unit_test_setup(test_fixup_direct, test_setup),
		cmocka_unit_test_setup(test_free_null, test_setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
