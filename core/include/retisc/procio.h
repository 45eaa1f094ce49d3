/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * retisc processor I/O helpers: buffered output that reports a broken pipe
 * apart from real errors, stop signals (SIGINT/SIGTERM) and the pager of
 * processing.md §0.
 *
 * Header-only for the reason strbuf.h is: processor plugins do not link
 * against the retisc binary, and every processor needs the same behaviour
 * (a closed pipe ends the command silently with exit 0; a signal stops the
 * read loop, what was produced is flushed, exit 0).
 *
 * Errors: 0 or a negative errno. Not thread-safe: processors run on the main
 * thread.
 */
#ifndef __RETISC_PROCIO_H
#define __RETISC_PROCIO_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "strbuf.h"

/* Output is written in chunks of about this size. */
#define RETISC_OUT_CHUNK (64 * 1024)

/* A buffered output file descriptor. Zero-initialise, then __open or __fd. */
struct retisc_out {
	int fd;		/* -1: not open */
	bool own_fd;	/* close fd in __close */
	bool broken;	/* the reader went away (EPIPE): stop quietly */
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
 * Pager (processing.md §0): when stdout is a terminal and NOPAGER is unset,
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
