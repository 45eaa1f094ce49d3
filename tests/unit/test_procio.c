// SPDX-License-Identifier: GPL-2.0-only
/*
 * The processor skeleton of core/include/retisc/procio.h: the option table
 * parser (retisc_proc__parse()) and the read loop (retisc_proc__each()) with
 * the error and --keep-going rules of doc/processing.md §0. The processors'
 * own tests (test_sort.c, test_stats.c, test_pcap.c) cover them through
 * real commands; this pins the contracts that the header documents.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proctest.h"

#include <retisc/procio.h>

static void usage(FILE *f)
{
	fprintf(f, "Usage: retisc test\n");
}

/* Everything a table can store, reset for each parse. */
struct vals {
	bool flag, e, multiline, keep_going;
	const char *str, *once, *input;
	uint64_t num;
};

static int parse(struct vals *v, int argc, const char **args)
{
	const struct retisc_proc_opt opts[] = {
		RETISC_PROC_FLAG("flag", 0, &v->flag),
		RETISC_PROC_FLAG(NULL, 'e', &v->e),
		RETISC_PROC_STRING("str", 's', &v->str, "<S>"),
		RETISC_PROC_STRING_ONCE("once", 0, &v->once, "<O>"),
		RETISC_PROC_U64("num", 0, &v->num, "<N>", 1000),
		RETISC_PROC_FORMAT(&v->multiline),
		{},
	};
	char *argv[16];

	memset(v, 0, sizeof(*v));
	v->multiline = true;
	argv[0] = "test";
	for (int i = 0; i < argc; i++)
		argv[i + 1] = (char *)args[i];
	argv[argc + 1] = NULL;
	return retisc_proc__parse(argc + 1, argv, opts, usage, &v->keep_going, &v->input);
}

#define PARSE(v, ...)                                                                              \
	parse(v, sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *),                     \
	      (const char *[]){__VA_ARGS__})

static void test_parse_values(void **state)
{
	struct vals v;

	(void)state;
	assert_int_equal(PARSE(&v, "--flag", "-e", "-s", "a", "--str", "b", "--once", "c", "--num",
			       "1000", "--format", "single-line", "--keep-going", "IN"),
			 -1);
	assert_true(v.flag && v.e && v.keep_going);
	assert_false(v.multiline);
	assert_str_eq(v.str, "b"); /* the last one wins */
	assert_str_eq(v.once, "c");
	assert_int_equal(v.num, 1000);
	assert_str_eq(v.input, "IN");

	/* No operand: the default input; unique prefixes of long names. */
	assert_int_equal(PARSE(&v, "--fl", "--nu", "7"), -1);
	assert_true(v.flag);
	assert_int_equal(v.num, 7);
	assert_null(v.input);
	assert_true(v.multiline);
}

static void test_parse_exit_status(void **state)
{
	struct vals v;

	(void)state;
	assert_int_equal(PARSE(&v, "--help"), 0);
	assert_int_equal(PARSE(&v, "-h", "--bogus"), 0);
	assert_int_equal(PARSE(&v, "--bogus", "-h"), 2);
	assert_int_equal(PARSE(&v, "-k"), 2); /* --keep-going has no short form */
	assert_int_equal(PARSE(&v, "--str"), 2);
	assert_int_equal(PARSE(&v, "a", "b"), 2);
	assert_int_equal(PARSE(&v, "--once", "a", "--once", "b"), 2);
	assert_int_equal(PARSE(&v, "--format", "wide"), 2);
	for (size_t i = 0; i < 4; i++) {
		static const char *const bad[] = {"x", "-1", " 1", "1x"};

		assert_int_equal(PARSE(&v, "--num", bad[i]), 2);
		assert_int_equal(v.num, 0);
	}
	/* Above max: refused too (without a message). */
	assert_int_equal(PARSE(&v, "--num", "1001"), 2);
	/* The first bad option decides: what precedes it is stored. */
	assert_int_equal(PARSE(&v, "--flag", "--num", "x", "--help"), 2);
	assert_true(v.flag);
}

/* multi-line leaves the flag alone (doc'd in procio.h). */
static void test_parse_format(void **state)
{
	struct vals v;

	(void)state;
	assert_int_equal(PARSE(&v, "--format", "multi-line"), -1);
	assert_true(v.multiline);
	assert_int_equal(PARSE(&v, "--format", "single-line", "--format", "multi-line"), -1);
	assert_false(v.multiline);
}

static void test_parse_too_many(void **state)
{
	struct retisc_proc_opt opts[RETISC_PROC_OPTS_MAX + 2];
	char *argv[] = {"test", NULL};
	bool flags[RETISC_PROC_OPTS_MAX + 1], kg = false;
	const char *input;

	(void)state;
	memset(opts, 0, sizeof(opts));
	for (int i = 0; i <= RETISC_PROC_OPTS_MAX; i++)
		opts[i] = (struct retisc_proc_opt)RETISC_PROC_FLAG("f", 0, &flags[i]);
	assert_int_equal(retisc_proc__parse(1, argv, opts, usage, &kg, &input), 2);
	opts[RETISC_PROC_OPTS_MAX].dest = NULL;
	assert_int_equal(retisc_proc__parse(1, argv, opts, usage, &kg, &input), -1);
}

/* -------------------------------------------------------------------------
 * The read loop over the core's reader.
 */
#define STARTUP "{\"common\":{\"timestamp\":1},\"startup\":{\"retis_version\":\"v1.7.0\"}}\n"
#define EV(ts) "{\"common\":{\"timestamp\":" #ts "}}\n"

struct cb {
	const struct retisc_api *api;
	int n;		 /* values seen */
	int fail_at;	 /* the value that fails (1-based), 0: none */
	int fail_with;	 /* its errno */
	const char *why; /* what it says for -EINVAL */
};

static int cb_line(void *priv, struct retisc_json *v, char *err, size_t errsz)
{
	struct cb *c = priv;

	c->api->json_free(v);
	assert_int_equal(err[0], '\0');
	if (++c->n != c->fail_at)
		return 0;
	if (c->why)
		snprintf(err, errsz, "%s", c->why);
	return -c->fail_with;
}

/* Loop over content; returns retisc_proc__each()'s result. */
static int each(const char *content, struct cb *c, bool keep_going, int *status,
		struct retisc_strbuf *log)
{
	const struct retisc_api *api = retisc_registry__api(pt_reg);
	struct retisc_proc_loop loop = {.line = cb_line, .priv = c, .keep_going = keep_going};
	struct retisc_reader *rd;
	int ret;

	c->api = api;
	c->n = 0;
	*status = 0;
	retisc_strbuf__reset(log);
	rd = retisc_proc__open(api, tmp_file("in.json", content));
	assert_non_null(rd);
	retisc_log__set_sink(log_capture, log);
	ret = retisc_proc__each(api, rd, &loop, status);
	retisc_log__set_sink(NULL, NULL);
	api->reader_free(rd);
	return ret;
}

static void test_each(void **state)
{
	struct retisc_strbuf log = RETISC_STRBUF_INIT;
	struct cb c = {0};
	int status;

	(void)state;
	/* Clean input: every value, startup included. */
	assert_int_equal(each(STARTUP EV(2) EV(3), &c, false, &status, &log), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(status, 0);
	assert_str_eq(retisc_strbuf__str(&log), "");

	/* A bad line from the callback: logged with its place; stops... */
	c = (struct cb){.fail_at = 2, .fail_with = EINVAL, .why = "no good"};
	assert_int_equal(each(STARTUP EV(2) EV(3), &c, false, &status, &log), -EINVAL);
	assert_int_equal(c.n, 2);
	assert_int_equal(status, 1);
	assert_contains(retisc_strbuf__str(&log), "in.json:2: no good\n");
	/* ...unless --keep-going. */
	assert_int_equal(each(STARTUP EV(2) EV(3), &c, true, &status, &log), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(status, 1);
	/* Nothing in err: the callback reported it, the loop adds nothing. */
	c.why = NULL;
	assert_int_equal(each(STARTUP EV(2) EV(3), &c, true, &status, &log), 0);
	assert_str_eq(retisc_strbuf__str(&log), "");

	/* A bad line from the reader, the same way. */
	c = (struct cb){0};
	assert_int_equal(each(STARTUP "{\n" EV(3), &c, false, &status, &log), -EINVAL);
	assert_int_equal(c.n, 1);
	assert_int_equal(status, 1);
	assert_contains(retisc_strbuf__str(&log), "in.json:2: ");
	assert_int_equal(each(STARTUP "{\n" EV(3), &c, true, &status, &log), 0);
	assert_int_equal(c.n, 2);

	/* Other callback errors stop at once, even with --keep-going, and
	 * are left to the caller to report. */
	c = (struct cb){.fail_at = 1, .fail_with = ENOMEM};
	assert_int_equal(each(STARTUP EV(2), &c, true, &status, &log), -ENOMEM);
	assert_int_equal(c.n, 1);
	assert_int_equal(status, 1);
	assert_str_eq(retisc_strbuf__str(&log), "");
	/* A closed pipe is no failure. */
	c = (struct cb){.fail_at = 2, .fail_with = EPIPE};
	assert_int_equal(each(STARTUP EV(2) EV(3), &c, true, &status, &log), -EPIPE);
	assert_int_equal(c.n, 2);
	assert_int_equal(status, 0);
	retisc_strbuf__release(&log);
}

/* A fix-up refused (-EEXIST, doc/files.md §4): skipped with
 * skip_read_errors and --keep-going, else the loop stops. */
static void test_each_read_errors(void **state)
{
	static const char in[] =
		"{\"common\":{\"timestamp\":1},\"startup\":{\"retis_version\":\"v1.5.0\"}}\n"
		"{\"common\":{\"timestamp\":2},\"ct\":{\"state\":\"new\",\"ct_status\":8}}\n" EV(3);
	const struct retisc_api *api = retisc_registry__api(pt_reg);
	struct retisc_proc_loop loop = {.line = cb_line, .keep_going = true};
	struct retisc_strbuf log = RETISC_STRBUF_INIT;
	struct cb c = {.api = api};
	struct retisc_reader *rd;
	int status = 0;

	(void)state;
	loop.priv = &c;
	for (int skip = 0; skip < 2; skip++) {
		c.n = 0;
		loop.skip_read_errors = skip;
		rd = retisc_proc__open(api, tmp_file("e.json", in));
		assert_non_null(rd);
		retisc_log__set_sink(log_capture, &log);
		assert_int_equal(retisc_proc__each(api, rd, &loop, &status), skip ? 0 : -EEXIST);
		retisc_log__set_sink(NULL, NULL);
		assert_int_equal(c.n, skip ? 2 : 1);
		assert_int_equal(status, 1);
		api->reader_free(rd);
	}
	assert_contains(retisc_strbuf__str(&log), "e.json:2: Destination field ct/ct_status");
	retisc_strbuf__release(&log);
}

/*
 * retisc_out__async(): the bytes reach the file in order, across many
 * chunks and __flush() calls; a reader that went away shows as -EPIPE (and
 * broken) at a later write or at the close, as it would have at once.
 */
static void test_out_async(void **state)
{
	const char *path = tmp_path("async.out");
	struct retisc_out o;
	char line[64], *got;
	size_t len, want_len = 0;
	int fds[2], err = 0;

	(void)state;
	assert_int_equal(retisc_out__open(&o, path), 0);
	retisc_out__async(&o);
	assert_non_null(o.async);
	for (unsigned int i = 0; i < 200000; i++) {
		int n = snprintf(line, sizeof(line), "line %u\n", i);

		assert_int_equal(retisc_out__write(&o, line, (size_t)n), 0);
		want_len += (size_t)n;
		if (i % 50000 == 0)
			assert_int_equal(retisc_out__flush(&o), 0);
	}
	assert_int_equal(retisc_out__close(&o), 0);
	assert_null(o.async);
	got = slurp(path, &len);
	assert_non_null(got);
	assert_int_equal(len, want_len);
	assert_memory_equal(got, "line 0\nline 1\n", 14);
	assert_non_null(strstr(got, "\nline 123456\nline 123457\n"));
	assert_memory_equal(got + len - 12, "line 199999\n", 12);
	free(got);

	/* A pipe nobody reads any more. */
	assert_int_equal(pipe(fds), 0);
	close(fds[0]);
	signal(SIGPIPE, SIG_IGN);
	retisc_out__fd(&o, fds[1], "pipe");
	retisc_out__async(&o);
	for (unsigned int i = 0; i < 100000 && !err; i++)
		err = retisc_out__write(&o, "0123456789abcdef0123456789abcdef", 32);
	if (!err)
		err = retisc_out__close(&o);
	else
		assert_int_equal(retisc_out__close(&o), 0);
	assert_int_equal(err, -EPIPE);
	assert_true(o.broken);
	signal(SIGPIPE, SIG_DFL);
	close(fds[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_values), cmocka_unit_test(test_parse_exit_status),
		cmocka_unit_test(test_parse_format), cmocka_unit_test(test_parse_too_many),
		cmocka_unit_test(test_each),	     cmocka_unit_test(test_each_read_errors),
		cmocka_unit_test(test_out_async),
	};

	return cmocka_run_group_tests(tests, pt_group_setup, pt_group_teardown);
}
