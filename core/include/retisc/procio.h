/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * retisc processor I/O helpers: the common options and operands of the
 * command line, the reader loop's steps, buffered output that reports a
 * broken pipe apart from real errors, stop signals (SIGINT/SIGTERM) and the
 * pager of doc/processing.md §0.
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
 * Not thread-safe: processors run on the main thread.
 */
#ifndef __RETISC_PROCIO_H
#define __RETISC_PROCIO_H

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
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

/* Output is written in chunks of about this size. */
#define RETISC_OUT_CHUNK (64 * 1024)

/* A buffered output file descriptor. Zero-initialise, then __open or __fd. */
struct retisc_out {
	int fd;		  /* -1: not open */
	bool own_fd;	  /* close fd in __close */
	bool broken;	  /* the reader went away (EPIPE): stop quietly */
	const char *name; /* for messages, borrowed */
	struct retisc_strbuf buf;
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

/*
 * Write out the buffer. 0, -EPIPE (o->broken is then set: the caller ends
 * silently) or another negative errno (a real write error).
 */
static inline int retisc_out__flush(struct retisc_out *o)
{
	size_t done = 0;
	ssize_t n;

	if (o->broken)
		return -EPIPE;
	while (done < o->buf.len) {
		n = write(o->fd, o->buf.buf + done, o->buf.len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;

			retisc_strbuf__reset(&o->buf);
			if (err == EPIPE)
				o->broken = true;
			return -err;
		}
		done += (size_t)n;
	}
	retisc_strbuf__reset(&o->buf);
	return 0;
}

/* Buffer n bytes, writing out full chunks. Errors as __flush, or -ENOMEM. */
static inline int retisc_out__write(struct retisc_out *o, const char *data, size_t n)
{
	if (o->broken)
		return -EPIPE;
	if (retisc_strbuf__append(&o->buf, data, n))
		return -ENOMEM;
	return o->buf.len >= RETISC_OUT_CHUNK ? retisc_out__flush(o) : 0;
}

/* Flush (unless broken), close an owned fd, free the buffer. Returns the
 * flush or close error, 0 otherwise. */
static inline int retisc_out__close(struct retisc_out *o)
{
	int err = 0;

	if (o->fd >= 0 && !o->broken)
		err = retisc_out__flush(o);
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
