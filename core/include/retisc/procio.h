/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * retisc processor I/O helpers: the command line (an option table with the
 * common options and the INPUT operand), the read loop, buffered output
 * that reports a broken pipe apart from real errors, stop signals
 * (SIGINT/SIGTERM) and the pager of doc/processing.md §0.
 *
 * A processor's run() reads as: retisc_proc__parse() its option table,
 * retisc_proc__open() the input, install the stop signals, retisc_proc__each()
 * with a callback per event, write its result (retisc_out), tear down.
 *
 * Header-only for the reason strbuf.h is: processor plugins do not link
 * against the retisc binary, and every processor needs the same behaviour
 * (a closed pipe ends the command silently with exit 0; a signal stops the
 * read loop, what was produced is flushed, exit 0; errors name the file and
 * the line).
 *
 * Errors: 0 or a negative errno, unless a function says it returns an exit
 * status (0 success, 1 runtime error, 2 usage error, as a processor's run()).
 * Messages go through the core's logger (api->log), usage errors to stderr.
 * Not thread-safe: call these from the processor's main thread (a
 * retisc_out given to retisc_out__async() writes from a thread of its own,
 * behind the same calls).
 */
#ifndef __RETISC_PROCIO_H
#define __RETISC_PROCIO_H

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plugin.h"
#include "strbuf.h"

/* -------------------------------------------------------------------------
 * Command line (doc/cli.md): options and operands that processors share.
 */

/* getopt_long() entries of --keep-going and --help, for the end of a
 * processor's option table (before its {} terminator). */
#define RETISC_PROC_COMMON_LONGOPTS                                                                \
	{"keep-going", no_argument, NULL, 'k'},                                                    \
	{                                                                                          \
		"help", no_argument, NULL, 'h'                                                     \
	}

/*
 * For the default branch of a processor's getopt_long() switch: 'h' (-h,
 * --help) prints usage to stdout and returns 0; 'k' (--keep-going) sets
 * *keep_going and returns -1 (go on parsing); anything else (an unknown
 * option or a missing value, which getopt reported) prints the usage hint
 * of processor name to stderr and returns 2. A return >= 0 is the exit
 * status to return from run().
 */
static inline int retisc_proc__common_opt(int opt, const char *name, void (*usage)(FILE *f),
					  bool *keep_going)
{
	switch (opt) {
	case 'h':
		usage(stdout);
		return 0;
	case 'k':
		*keep_going = true;
		return -1;
	default:
		fprintf(stderr,
			"\nUsage: retisc %s [OPTIONS] [INPUT]\n\nFor more information, try "
			"'--help'.\n",
			name);
		return 2;
	}
}

/*
 * After getopt_long(): at most max operands may be left. One too many is
 * reported on stderr ("error: unexpected argument 'X'") and gives exit
 * status 2; otherwise 0.
 */
static inline int retisc_proc__check_operands(int argc, char **argv, int max)
{
	if (argc - optind > max) {
		fprintf(stderr, "error: unexpected argument '%s'\n", argv[optind + max]);
		return 2;
	}
	return 0;
}

/*
 * The option table of retisc_proc__parse(). Each processor option says what
 * it takes and where its value goes; the parser builds the getopt_long()
 * tables from it (processor options in table order, then --keep-going and
 * --help, so that getopt's messages, prefix matching included, are the
 * ones of a hand-written table in that order).
 */
enum retisc_proc_opt_type {
	/* No value: *(bool *)dest = true. */
	RETISC_PROC_OPT_FLAG,
	/* *(const char **)dest = the value (borrowed from argv); the last
	 * one given wins. */
	RETISC_PROC_OPT_STRING,
	/* The same, but given twice is a usage error ("the argument '--out
	 * <OUT>' cannot be used multiple times"): a profile's arguments follow
	 * the user's (doc/cli.md §5.4), and neither should win silently. */
	RETISC_PROC_OPT_STRING_ONCE,
	/* Decimal digits only: *(uint64_t *)dest. A malformed value is
	 * reported ("invalid value 'x' for '--max-buffer <N>'"); one above max
	 * ends the parse with exit status 2 and no message (what sort's
	 * --forget-after has always done). */
	RETISC_PROC_OPT_U64,
	/* --format single-line|multi-line: single-line clears *(bool *)dest
	 * (the multi-line flag, which the caller sets by default); multi-line
	 * leaves it as it is. Anything else is reported. */
	RETISC_PROC_OPT_FORMAT,
};

struct retisc_proc_opt {
	const char *name; /* long name without "--"; NULL: short only */
	char short_name;  /* 0: long only; never 'h' or 'k' */
	enum retisc_proc_opt_type type;
	void *dest; /* NULL ends the table */
	/* How messages write the value: "<N>" in "'--max-buffer <N>'". */
	const char *value_name;
	uint64_t max; /* RETISC_PROC_OPT_U64: largest value accepted */
};

/* Most processor options one table may have (without the common ones). */
#define RETISC_PROC_OPTS_MAX 16

/*
 * Table entries. The conditional expression makes the compiler check that
 * dest points to what the entry's type writes.
 */
#define RETISC_PROC_FLAG(lname, sname, ptr)                                                        \
	{                                                                                          \
		.name = (lname), .short_name = (sname), .type = RETISC_PROC_OPT_FLAG,              \
		.dest = 1 ? (ptr) : (bool *)0                                                      \
	}
#define RETISC_PROC_STRING(lname, sname, ptr, vname)                                               \
	{                                                                                          \
		.name = (lname), .short_name = (sname), .type = RETISC_PROC_OPT_STRING,            \
		.dest = 1 ? (ptr) : (const char **)0, .value_name = (vname)                        \
	}
#define RETISC_PROC_STRING_ONCE(lname, sname, ptr, vname)                                          \
	{                                                                                          \
		.name = (lname), .short_name = (sname), .type = RETISC_PROC_OPT_STRING_ONCE,       \
		.dest = 1 ? (ptr) : (const char **)0, .value_name = (vname)                        \
	}
#define RETISC_PROC_U64(lname, sname, ptr, vname, maximum)                                         \
	{                                                                                          \
		.name = (lname), .short_name = (sname), .type = RETISC_PROC_OPT_U64,               \
		.dest = 1 ? (ptr) : (uint64_t *)0, .value_name = (vname), .max = (maximum)         \
	}
#define RETISC_PROC_FORMAT(ptr)                                                                    \
	{                                                                                          \
		.name = "format", .type = RETISC_PROC_OPT_FORMAT, .dest = 1 ? (ptr) : (bool *)0    \
	}

/* getopt_long() value of the long-only option at index i of a table. */
#define RETISC_PROC_OPT_LONG_VAL(i) (256 + (i))

/* Store the value of option o. -1 to go on, or exit status 2 (reported on
 * stderr, but for a RETISC_PROC_OPT_U64 value above max). */
static inline int retisc_proc__opt_value(const struct retisc_proc_opt *o, const char *arg)
{
	uint64_t v;
	char *end;

	switch (o->type) {
	case RETISC_PROC_OPT_FLAG:
		*(bool *)o->dest = true;
		return -1;
	case RETISC_PROC_OPT_STRING_ONCE:
		if (*(const char **)o->dest) {
			fprintf(stderr,
				"error: the argument '--%s %s' cannot be used multiple times "
				"(a profile may give it too)\n",
				o->name, o->value_name);
			return 2;
		}
		/* fall through */
	case RETISC_PROC_OPT_STRING:
		*(const char **)o->dest = arg;
		return -1;
	case RETISC_PROC_OPT_U64:
		/* strtoull() would take a sign or blanks: digits only. */
		errno = 0;
		if (*arg < '0' || *arg > '9')
			break;
		v = strtoull(arg, &end, 10);
		if (errno || *end)
			break;
		if (v > o->max)
			return 2;
		*(uint64_t *)o->dest = v;
		return -1;
	case RETISC_PROC_OPT_FORMAT:
		if (!strcmp(arg, "single-line")) {
			*(bool *)o->dest = false;
		} else if (strcmp(arg, "multi-line")) {
			fprintf(stderr, "error: invalid value '%s' for '--%s'\n", arg, o->name);
			return 2;
		}
		return -1;
	}
	fprintf(stderr, "error: invalid value '%s' for '--%s %s'\n", arg, o->name, o->value_name);
	return 2;
}

/*
 * Parse a processor's command line (argv[0]: the processor's name, for
 * messages): the options of table opts (ended by an entry whose dest is
 * NULL), --keep-going (sets *keep_going), -h/--help (usage to stdout) and at
 * most one operand, the INPUT of doc/processing.md §0 (*input: it, borrowed
 * from argv, or NULL). Options are handled in command-line order, so the
 * first bad one decides the outcome.
 *
 * Returns -1 to go on, or the exit status for run() to return: 0 after
 * --help, 2 after a usage error (reported on stderr, by getopt or here).
 * Values already stored stay stored either way.
 */
static inline int retisc_proc__parse(int argc, char **argv, const struct retisc_proc_opt *opts,
				     void (*usage)(FILE *f), bool *keep_going, const char **input)
{
	static const struct option common[] = {
		RETISC_PROC_COMMON_LONGOPTS,
		{},
	};
	struct option longopts[RETISC_PROC_OPTS_MAX + sizeof(common) / sizeof(common[0])];
	char shortopts[2 * RETISC_PROC_OPTS_MAX + 2];
	size_t n, nl = 0, ns = 0;
	int opt, ret;

	for (n = 0; opts[n].dest; n++) {
		const struct retisc_proc_opt *o = &opts[n];
		int has_arg = o->type == RETISC_PROC_OPT_FLAG ? no_argument : required_argument;

		if (n == RETISC_PROC_OPTS_MAX) {
			fprintf(stderr, "error: %s has more than %d options\n", argv[0],
				RETISC_PROC_OPTS_MAX);
			return 2;
		}
		if (o->name)
			longopts[nl++] = (struct option){
				.name = o->name,
				.has_arg = has_arg,
				.val = o->short_name ? o->short_name
						     : RETISC_PROC_OPT_LONG_VAL((int)n),
			};
		if (o->short_name) {
			shortopts[ns++] = o->short_name;
			if (has_arg == required_argument)
				shortopts[ns++] = ':';
		}
	}
	memcpy(&longopts[nl], common, sizeof(common));
	shortopts[ns++] = 'h';
	shortopts[ns] = '\0';

	/* Processors may run several times in one process (the unit tests):
	 * 0 also resets getopt's internal state. */
	optind = 0;
	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const struct retisc_proc_opt *o = NULL;

		if (opt >= RETISC_PROC_OPT_LONG_VAL(0))
			o = &opts[opt - RETISC_PROC_OPT_LONG_VAL(0)];
		for (size_t i = 0; !o && opt != '?' && i < n; i++)
			if (opts[i].short_name == opt)
				o = &opts[i];
		ret = o ? retisc_proc__opt_value(o, optarg)
			: retisc_proc__common_opt(opt, argv[0], usage, keep_going);
		if (ret >= 0)
			return ret;
	}
	if (retisc_proc__check_operands(argc, argv, 1))
		return 2;
	*input = optind < argc ? argv[optind] : NULL;
	return -1;
}

/* Output is written in chunks of about this size. */
#define RETISC_OUT_CHUNK (64 * 1024)

struct retisc_out_async;

/* A buffered output file descriptor. Zero-initialise, then __open or __fd. */
struct retisc_out {
	int fd;		  /* -1: not open */
	bool own_fd;	  /* close fd in __close */
	bool broken;	  /* the reader went away (EPIPE): stop quietly */
	const char *name; /* for messages, borrowed */
	struct retisc_strbuf buf;
	struct retisc_out_async *async; /* retisc_out__async() */
};

/* Write to an already open fd (e.g. STDOUT_FILENO); the fd is not closed. */
static inline void retisc_out__fd(struct retisc_out *o, int fd, const char *name)
{
	memset(o, 0, sizeof(*o));
	o->fd = fd;
	o->name = name;
}

/* Create or truncate path (0644). 0 or a negative errno. */
static inline int retisc_out__open(struct retisc_out *o, const char *path)
{
	memset(o, 0, sizeof(*o));
	o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (o->fd < 0)
		return -errno;
	o->own_fd = true;
	o->name = path;
	return 0;
}

/* write(2) all of sb to fd: 0 or a negative errno. */
static inline int retisc_out__write_all(int fd, const struct retisc_strbuf *sb)
{
	size_t done = 0;
	ssize_t n;

	while (done < sb->len) {
		n = write(fd, sb->buf + done, sb->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

/*
 * Writing on a thread of its own (retisc_out__async()): the chunks the
 * producer fills are queued to a writer thread, so that the kernel's copy
 * into the page cache (as long as producing the bytes, for sort's series
 * file) runs on the other CPU. Buffers go round between the producer, the
 * queue and a free list; the queue holds at most RETISC_OUT_ASYNC_QUEUE
 * chunks, then the producer waits.
 */
#define RETISC_OUT_ASYNC_QUEUE 2
/*
 * Chunk size then: the kernel copies 1 MiB writes into the page cache
 * faster per byte than 64 KiB ones (700 MB here: 0.3-0.6 s of system time
 * instead of about 1 s; 4 MiB was no faster and costs more memory).
 */
#define RETISC_OUT_ASYNC_CHUNK (1u << 20)

struct retisc_out_async {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* the queue or the free list changed, or stop */
	int fd;
	struct retisc_strbuf queue[RETISC_OUT_ASYNC_QUEUE];
	size_t head, queued;
	struct retisc_strbuf spare[RETISC_OUT_ASYNC_QUEUE + 1];
	size_t nspare;
	int err; /* the first write error, then nothing more is written */
	bool stop;
};

static inline void *retisc_out__writer(void *arg)
{
	struct retisc_out_async *a = arg;
	struct retisc_strbuf sb;
	int err;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		while (!a->queued && !a->stop)
			pthread_cond_wait(&a->cond, &a->lock);
		if (!a->queued)
			break;
		sb = a->queue[a->head];
		a->head = (a->head + 1) % RETISC_OUT_ASYNC_QUEUE;
		a->queued--;
		err = a->err;
		pthread_mutex_unlock(&a->lock);
		if (!err)
			err = retisc_out__write_all(a->fd, &sb);
		retisc_strbuf__reset(&sb);
		pthread_mutex_lock(&a->lock);
		if (err && !a->err)
			a->err = err;
		if (a->nspare < RETISC_OUT_ASYNC_QUEUE + 1)
			a->spare[a->nspare++] = sb;
		else
			retisc_strbuf__release(&sb);
		pthread_cond_broadcast(&a->cond);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

/*
 * Write o's chunks from a thread of its own from now on. Errors show at a
 * later write or at __close(), as they would have at once. Failing to
 * start the thread is no error: o then writes as before. Returns 0.
 */
static inline int retisc_out__async(struct retisc_out *o)
{
	struct retisc_out_async *a;

	if (o->async || o->fd < 0)
		return 0;
	a = calloc(1, sizeof(*a));
	if (!a)
		return 0;
	a->fd = o->fd;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	if (pthread_create(&a->thread, NULL, retisc_out__writer, a)) {
		pthread_cond_destroy(&a->cond);
		pthread_mutex_destroy(&a->lock);
		free(a);
		return 0;
	}
	o->async = a;
	return 0;
}

/* Queue o's buffer to the writer: 0, or the writer's first error. */
static inline int retisc_out__queue(struct retisc_out *o)
{
	struct retisc_out_async *a = o->async;
	int err;

	pthread_mutex_lock(&a->lock);
	while (a->queued == RETISC_OUT_ASYNC_QUEUE && !a->err)
		pthread_cond_wait(&a->cond, &a->lock);
	err = a->err;
	if (!err) {
		a->queue[(a->head + a->queued) % RETISC_OUT_ASYNC_QUEUE] = o->buf;
		a->queued++;
		if (a->nspare)
			o->buf = a->spare[--a->nspare];
		else
			o->buf = (struct retisc_strbuf)RETISC_STRBUF_INIT;
		pthread_cond_broadcast(&a->cond);
	}
	pthread_mutex_unlock(&a->lock);
	if (err)
		retisc_strbuf__reset(&o->buf);
	return err;
}

/* Wait for the writer to finish what is queued, and end it: its error. */
static inline int retisc_out__async_end(struct retisc_out *o)
{
	struct retisc_out_async *a = o->async;
	int err;

	if (!a)
		return 0;
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->thread, NULL);
	err = a->err;
	for (size_t i = 0; i < a->nspare; i++)
		retisc_strbuf__release(&a->spare[i]);
	pthread_cond_destroy(&a->cond);
	pthread_mutex_destroy(&a->lock);
	free(a);
	o->async = NULL;
	return err;
}

/*
 * Write out the buffer. 0, -EPIPE (o->broken is then set: the caller ends
 * silently) or another negative errno (a real write error).
 */
static inline int retisc_out__flush(struct retisc_out *o)
{
	int err;

	if (o->broken)
		return -EPIPE;
	if (!o->buf.len)
		return 0;
	err = o->async ? retisc_out__queue(o) : retisc_out__write_all(o->fd, &o->buf);
	retisc_strbuf__reset(&o->buf);
	if (err == -EPIPE)
		o->broken = true;
	return err;
}

/* Buffer n bytes, writing out full chunks. Errors as __flush, or -ENOMEM. */
static inline int retisc_out__write(struct retisc_out *o, const char *data, size_t n)
{
	if (o->broken)
		return -EPIPE;
	if (retisc_strbuf__append(&o->buf, data, n))
		return -ENOMEM;
	return o->buf.len >= (o->async ? RETISC_OUT_ASYNC_CHUNK : RETISC_OUT_CHUNK)
		       ? retisc_out__flush(o)
		       : 0;
}

/* Flush (unless broken), close an owned fd, free the buffer. Returns the
 * flush or close error, 0 otherwise. */
static inline int retisc_out__close(struct retisc_out *o)
{
	int err = 0;

	if (o->fd >= 0 && !o->broken)
		err = retisc_out__flush(o);
	if (o->async) {
		bool reported = o->broken;
		int aerr = retisc_out__async_end(o);

		/* A broken pipe that a write already returned is not new. */
		if (aerr == -EPIPE)
			o->broken = true;
		if (!err && !reported)
			err = aerr;
	}
	if (o->own_fd && o->fd >= 0 && close(o->fd) && !err)
		err = -errno;
	o->fd = -1;
	o->own_fd = false;
	retisc_strbuf__release(&o->buf);
	return err;
}

/*
 * Close o (what is buffered is still written) after producing into it with
 * result err (0 or a negative errno). The first of err and the close error
 * is logged as "Cannot write to <name>: <why>", unless it is -EPIPE (the
 * reader went away: silent, doc/processing.md §0) or quiet is set (an error was
 * reported already). Returns the exit status: 1 when it logged, else 0.
 */
static inline int retisc_out__finish(const struct retisc_api *api, struct retisc_out *o, int err,
				     bool quiet)
{
	int ret = retisc_out__close(o);

	if (!err)
		err = ret;
	if (!err || err == -EPIPE || quiet)
		return 0;
	api->log(RETISC_LOG_ERROR, "Cannot write to %s: %s", o->name, strerror(-err));
	return 1;
}

/* -------------------------------------------------------------------------
 * Stop signals. SIGINT/SIGTERM set a flag that the read loop polls; they are
 * installed without SA_RESTART so that a read blocked on a pipe returns. A
 * broken pipe is reported by write() (SIGPIPE ignored).
 */
static volatile sig_atomic_t retisc_proc_stop_flag;

static inline void retisc_proc__on_stop(int sig)
{
	(void)sig;
	retisc_proc_stop_flag = 1;
}

struct retisc_proc_signals {
	struct sigaction old_int, old_term, old_pipe;
};

static inline void retisc_proc__signals_install(struct retisc_proc_signals *s)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	retisc_proc_stop_flag = 0;
	sa.sa_handler = retisc_proc__on_stop;
	sigaction(SIGINT, &sa, &s->old_int);
	sigaction(SIGTERM, &sa, &s->old_term);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, &s->old_pipe);
}

/* Put back what was installed before (processors may run several times in
 * one process, e.g. in the unit tests). */
static inline void retisc_proc__signals_restore(struct retisc_proc_signals *s)
{
	sigaction(SIGINT, &s->old_int, NULL);
	sigaction(SIGTERM, &s->old_term, NULL);
	sigaction(SIGPIPE, &s->old_pipe, NULL);
}

static inline bool retisc_proc__stopped(void)
{
	return retisc_proc_stop_flag != 0;
}

/* -------------------------------------------------------------------------
 * Reading the input (doc/processing.md §0).
 */

/* Open the INPUT operand (NULL: the default input). NULL after logging
 * the reader's message. */
static inline struct retisc_reader *retisc_proc__open(const struct retisc_api *api,
						      const char *input)
{
	struct retisc_reader *rd;
	char err[1024];

	rd = api->reader_open(input, err, sizeof(err));
	if (!rd)
		api->log(RETISC_LOG_ERROR, "%s", err);
	return rd;
}

/*
 * One step of the read loop. Returns 1 with *out (owned by the caller), 0
 * at the end of the input or once a stop signal arrived (a read that the
 * signal interrupted is no error), or the reader's negative errno after
 * logging its "path:line: what" message (err, errsz bytes, holds it).
 */
static inline int retisc_proc__read(const struct retisc_api *api, struct retisc_reader *rd,
				    struct retisc_json **out, char *err, size_t errsz)
{
	int ret;

	if (retisc_proc__stopped())
		return 0;
	ret = api->reader_next(rd, out, err, errsz);
	if (ret < 0) {
		if (retisc_proc__stopped())
			return 0;
		api->log(RETISC_LOG_ERROR, "%s", err);
	}
	return ret;
}

/* Log what is wrong with the line rd returned last: "path:line: what". */
static inline void retisc_proc__log_line(const struct retisc_api *api,
					 const struct retisc_reader *rd, const char *what)
{
	api->log(RETISC_LOG_ERROR, "%s:%lu: %s", api->reader_path(rd), api->reader_line(rd), what);
}

/*
 * The per-line callback of retisc_proc__each(): v is one event (events
 * file) or one series array (series file), and the callback owns it (frees
 * it or keeps it, also when it fails). Returns:
 *   0          go on with the next line;
 *   -EINVAL    the line is bad: err (errsz bytes, empty on entry) says why,
 *              and the loop logs "path:line: <err>" (nothing when err is left
 *              empty: the callback reported it already); with --keep-going
 *              the loop goes on, else it stops (doc/processing.md §0);
 *   < 0        any other errno stops the loop at once and is handed back to
 *              the caller, unlogged: the callback reports it, or the caller
 *              does. -EPIPE means the output's reader went away.
 */
typedef int (*retisc_proc_line_fn)(void *priv, struct retisc_json *v, char *err, size_t errsz);

/* How retisc_proc__each() runs. */
struct retisc_proc_loop {
	retisc_proc_line_fn line;
	void *priv; /* the callback's */
	/* --keep-going: a bad line is reported, then skipped. */
	bool keep_going;
	/*
	 * With keep_going, skip every reader error but -ENOMEM, not only
	 * -EINVAL. The two differ for a line that the fix-ups of doc/files.md §4
	 * refuse (-EEXIST), which this skips; after a read error the reader
	 * ends the input anyway. stats and sort set it; print and pcap stop.
	 */
	bool skip_read_errors;
	/*
	 * Optional: lines of a current-format file come here first,
	 * unparsed (line, len bytes, no newline; the reader's
	 * reader_next_line()). Returns as line() does, or 1 to have the line
	 * parsed and checked as usual and handed to line(). For a processor
	 * that scans events itself (sort -o, doc/processing.md §2.7).
	 */
	int (*raw)(void *priv, const char *line, size_t len, char *err, size_t errsz);
};

/* A callback's result, as retisc_proc__each() handles it: 1 to go on, else
 * what the loop returns. */
static inline int retisc_proc__result(const struct retisc_api *api, struct retisc_reader *rd,
				      const struct retisc_proc_loop *loop, int ret, const char *err,
				      int *status)
{
	if (ret == -EINVAL) {
		if (err[0])
			retisc_proc__log_line(api, rd, err);
		*status = 1;
		if (!loop->keep_going)
			return ret;
	} else if (ret) {
		if (ret != -EPIPE)
			*status = 1;
		return ret;
	}
	return 1;
}

/* A reader error, as retisc_proc__each() handles it: 1 to go on, else what
 * the loop returns. */
static inline int retisc_proc__read_error(const struct retisc_proc_loop *loop, int ret, int *status)
{
	*status = 1;
	if (!loop->keep_going || ret == -ENOMEM || (ret != -EINVAL && !loop->skip_read_errors))
		return ret;
	return 1;
}

/* The next line for loop->raw: as retisc_proc__read(), with *v or *line. */
static inline int retisc_proc__read_line(const struct retisc_api *api, struct retisc_reader *rd,
					 const char **line, size_t *len, struct retisc_json **v,
					 char *err, size_t errsz)
{
	int ret;

	if (retisc_proc__stopped())
		return 0;
	ret = api->reader_next_line(rd, line, len, v, err, errsz);
	if (ret < 0) {
		if (retisc_proc__stopped())
			return 0;
		api->log(RETISC_LOG_ERROR, "%s", err);
	}
	return ret;
}

/*
 * Read rd to its end through loop->line(), one line at a time (doc/processing.md
 * §0). Reader errors are logged here as "path:line: what" (retisc_proc__read()).
 * A stop signal ends the loop like the end of the input.
 *
 * *status is set to 1 on a bad line, a reader error and a callback error
 * other than -EPIPE (a closed pipe is no failure), and never reset: the
 * caller starts it at 0 and may share it with its callback.
 *
 * Returns 0 at the end of the input or once a signal arrived (also after
 * bad lines that --keep-going skipped), -EINVAL when a bad line stopped
 * the loop, or the errno of the reader or of the callback that stopped it
 * (the reader's was logged, the callback's was not: see retisc_proc_line_fn).
 */
static inline int retisc_proc__each(const struct retisc_api *api, struct retisc_reader *rd,
				    const struct retisc_proc_loop *loop, int *status)
{
	bool raw = loop->raw && RETISC_API_HAS(api, reader_parse_line);
	struct retisc_json *v = NULL;
	const char *line = NULL;
	char err[1024];
	size_t len = 0;
	int ret;

	for (;;) {
		ret = raw ? retisc_proc__read_line(api, rd, &line, &len, &v, err, sizeof(err))
			  : retisc_proc__read(api, rd, &v, err, sizeof(err));
		if (!ret)
			break;
		if (ret < 0) {
			ret = retisc_proc__read_error(loop, ret, status);
			if (ret <= 0)
				return ret;
			continue;
		}
		err[0] = '\0';
		if (raw && !v) {
			ret = loop->raw(loop->priv, line, len, err, sizeof(err));
			if (ret == 1) {
				/* Errors as retisc_proc__read() reports them. */
				ret = api->reader_parse_line(rd, api->reader_path(rd),
							     api->reader_line(rd), line, len, &v,
							     err, sizeof(err));
				if (ret < 0) {
					api->log(RETISC_LOG_ERROR, "%s", err);
					ret = retisc_proc__read_error(loop, ret, status);
					if (ret <= 0)
						return ret;
					continue;
				}
				err[0] = '\0';
				ret = loop->line(loop->priv, v, err, sizeof(err));
			}
		} else {
			ret = loop->line(loop->priv, v, err, sizeof(err));
		}
		v = NULL;
		ret = retisc_proc__result(api, rd, loop, ret, err, status);
		if (ret <= 0)
			return ret;
	}
	return 0;
}

/* -------------------------------------------------------------------------
 * Pager (doc/processing.md §0): when stdout is a terminal and NOPAGER is unset,
 * stdout goes through $PAGER, else `less -FRX` if less is in $PATH. Log
 * lines go to the pager too (stderr is redirected with stdout), so that
 * they are not drawn over the pager's screen.
 */
struct retisc_pager {
	pid_t pid; /* 0: no pager */
	int saved_out, saved_err;
};

static inline bool retisc_pager__less_in_path(void)
{
	const char *path = getenv("PATH");
	char buf[4096];

	while (path && *path) {
		const char *end = strchr(path, ':');
		size_t len = end ? (size_t)(end - path) : strlen(path);

		if (len && len + sizeof("/less") < sizeof(buf)) {
			memcpy(buf, path, len);
			memcpy(buf + len, "/less", sizeof("/less"));
			if (!access(buf, X_OK))
				return true;
		}
		path = end ? end + 1 : NULL;
	}
	return false;
}

/* Start the pager if the rules ask for one. Failing to start one is not an
 * error: output then goes to the terminal directly. */
static inline void retisc_pager__start(struct retisc_pager *p)
{
	const char *cmd = getenv("PAGER");
	int fds[2];
	pid_t pid;

	memset(p, 0, sizeof(*p));
	if (!isatty(STDOUT_FILENO) || getenv("NOPAGER"))
		return;
	if (!cmd || !*cmd) {
		if (!retisc_pager__less_in_path())
			return;
		cmd = "less -FRX";
	}
	if (pipe(fds))
		return;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (!pid) {
		dup2(fds[0], STDIN_FILENO);
		close(fds[0]);
		close(fds[1]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	p->saved_out = dup(STDOUT_FILENO);
	p->saved_err = dup(STDERR_FILENO);
	dup2(fds[1], STDOUT_FILENO);
	dup2(fds[1], STDERR_FILENO);
	close(fds[1]);
	p->pid = pid;
}

/* Close the pager's input and wait until the user quits it. */
static inline void retisc_pager__finish(struct retisc_pager *p)
{
	if (!p->pid)
		return;
	dup2(p->saved_out, STDOUT_FILENO);
	dup2(p->saved_err, STDERR_FILENO);
	close(p->saved_out);
	close(p->saved_err);
	while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
		;
	p->pid = 0;
}

#endif /* __RETISC_PROCIO_H */
