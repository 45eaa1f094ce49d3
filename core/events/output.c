// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "output.h"
#include "version.h"

#define WRITER_BUF (256 * 1024)
/*
 * Under load, pending lines reach the file at least this often (doc/files.md
 * §8): a crash (SIGKILL, OOM) loses at most this window, not a whole buffer.
 */
#define WRITER_FLUSH_NS (150 * 1000000ull)

struct retisc_writer {
	char *path;
	int fd;
	struct retisc_strbuf buf; /* pending bytes, whole lines only */
	struct retisc_strbuf line;
	struct retisc_startup_info info;
	char *cmdline;
	uint64_t limit;
	uint64_t written; /* bytes in the current file */
	uint32_t index;
	uint64_t lines;
	uint64_t flushed_at; /* CLOCK_MONOTONIC ns of the last flush */
	int err;	     /* sticky write error */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void retisc_clock_offset(int64_t *sec, int64_t *nsec)
{
	struct timespec rt, mono;
	int64_t s, ns;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	s = (int64_t)rt.tv_sec - (int64_t)mono.tv_sec;
	ns = (int64_t)rt.tv_nsec - (int64_t)mono.tv_nsec;
	if (ns < 0) {
		ns += 1000000000;
		s--;
	}
	*sec = s;
	*nsec = ns;
}

struct retisc_json *retisc_startup__new(const struct retisc_startup_info *info, int split_id,
					uint64_t limit)
{
	struct retisc_json *ev = retisc_json__new_object(), *common, *st, *off, *mach;
	struct utsname u;
	int err = 0;

	common = retisc_json__new_object();
	st = retisc_json__new_object();
	off = retisc_json__new_object();
	mach = retisc_json__new_object();
	if (!ev || !common || !st || !off || !mach) {
		err = -ENOMEM;
		goto fail;
	}
	uname(&u);
	err = err ?: retisc_json__obj_set_u64(common, "timestamp", mono_ns());
	err = err ?: retisc_json__obj_set_str(st, "retis_version", RETISC_EVENT_FORMAT);
	/* retisc's own: a file is not mistaken for one Retis collected. */
	err = err ?: retisc_json__obj_set_str(st, "retisc_version", RETISC_VERSION);
	err = err ?: retisc_json__obj_set_str(st, "cmdline", info->cmdline);
	err = err ?: retisc_json__obj_set_i64(off, "sec", info->offset_sec);
	err = err ?: retisc_json__obj_set_i64(off, "nsec", info->offset_nsec);
	err = err ?: retisc_json__obj_set_str(mach, "kernel_release", u.release);
	err = err ?: retisc_json__obj_set_str(mach, "kernel_version", u.version);
	err = err ?: retisc_json__obj_set_str(mach, "hardware_name", u.machine);
	err = err ?: retisc_json__obj_set(st, "clock_monotonic_offset", off);
	off = NULL;
	err = err ?: retisc_json__obj_set(st, "machine", mach);
	mach = NULL;
	if (!err && split_id >= 0) {
		struct retisc_json *sf = retisc_json__new_object(),
				   *pol = retisc_json__new_object();

		err = (!sf || !pol) ? -ENOMEM : 0;
		err = err ?: retisc_json__obj_set_u64(sf, "id", (uint64_t)split_id);
		err = err ?: retisc_json__obj_set_str(pol, "kind", "size");
		err = err ?: retisc_json__obj_set_u64(pol, "limit", limit);
		if (!err) {
			err = retisc_json__obj_set(sf, "policy", pol);
			pol = NULL;
		}
		retisc_json__free(pol);
		if (!err) {
			err = retisc_json__obj_set(st, "split_file", sf);
			sf = NULL;
		}
		retisc_json__free(sf);
	}
	err = err ?: retisc_json__obj_set(ev, "common", common);
	common = NULL;
	err = err ?: retisc_json__obj_set(ev, "startup", st);
	st = NULL;
	if (!err)
		return ev;
fail:
	retisc_json__free(ev);
	retisc_json__free(common);
	retisc_json__free(st);
	retisc_json__free(off);
	retisc_json__free(mach);
	errno = -err;
	return NULL;
}

static int flush_buf(struct retisc_writer *w)
{
	size_t done = 0;

	while (done < w->buf.len) {
		ssize_t n = write(w->fd, w->buf.buf + done, w->buf.len - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			w->err = -errno;
			/* Keep whatever did not make it for a later retry. */
			memmove(w->buf.buf, w->buf.buf + done, w->buf.len - done);
			retisc_strbuf__truncate(&w->buf, w->buf.len - done);
			return w->err;
		}
		done += (size_t)n;
	}
	retisc_strbuf__reset(&w->buf);
	w->flushed_at = mono_ns();
	return 0;
}

int retisc_writer__flush(struct retisc_writer *w)
{
	if (w->err)
		return w->err;
	return w->buf.len ? flush_buf(w) : 0;
}

static int open_file(struct retisc_writer *w)
{
	struct retisc_json *st;
	int err;

	w->fd = open(w->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0)
		return -errno;
	st = retisc_startup__new(&w->info, w->limit ? (int)w->index : -1, w->limit);
	if (!st)
		return -errno;
	retisc_strbuf__reset(&w->line);
	err = retisc_json__dump(st, &w->line);
	retisc_json__free(st);
	if (err)
		return err;
	err = retisc_strbuf__putc(&w->line, '\n')
		      ?: retisc_strbuf__append(&w->buf, w->line.buf, w->line.len);
	w->written = w->line.len;
	return err ?: flush_buf(w);
}

struct retisc_writer *retisc_writer__open(const char *path, const struct retisc_startup_info *info,
					  uint64_t rotate_limit)
{
	struct retisc_writer *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return NULL;
	w->fd = -1;
	w->limit = rotate_limit;
	w->path = strdup(path);
	w->cmdline = strdup(info->cmdline);
	if (!w->path || !w->cmdline) {
		err = -ENOMEM;
		goto fail;
	}
	w->info = *info;
	w->info.cmdline = w->cmdline;
	err = open_file(w);
	if (err)
		goto fail;
	return w;
fail:
	if (w->fd >= 0)
		close(w->fd);
	retisc_strbuf__release(&w->buf);
	retisc_strbuf__release(&w->line);
	free(w->path);
	free(w->cmdline);
	free(w);
	errno = -err;
	return NULL;
}

static int rotate(struct retisc_writer *w)
{
	char *to;
	int err = flush_buf(w);

	if (err)
		return err;
	close(w->fd);
	w->fd = -1;
	if (asprintf(&to, "%s.%u", w->path, w->index) < 0)
		return -ENOMEM;
	err = rename(w->path, to) ? -errno : 0;
	free(to);
	w->index++;
	return err ?: open_file(w);
}

int retisc_writer__write_line(struct retisc_writer *w, const char *line, size_t len)
{
	int err;

	if (w->err)
		return w->err;
	if (w->limit && w->written + len + 1 > w->limit) {
		err = rotate(w);
		if (err)
			return w->err = err;
	}
	err = retisc_strbuf__append(&w->buf, line, len) ?: retisc_strbuf__putc(&w->buf, '\n');
	if (err)
		return err;
	w->written += len + 1;
	w->lines++;
	if (w->buf.len >= WRITER_BUF || mono_ns() - w->flushed_at >= WRITER_FLUSH_NS)
		return flush_buf(w);
	return 0;
}

int retisc_writer__write(struct retisc_writer *w, const struct retisc_json *event)
{
	int err;

	retisc_strbuf__reset(&w->line);
	err = retisc_json__dump(event, &w->line);
	if (err)
		return err;
	return retisc_writer__write_line(w, w->line.buf, w->line.len);
}

uint64_t retisc_writer__lines(const struct retisc_writer *w)
{
	return w->lines;
}

int retisc_writer__close(struct retisc_writer *w)
{
	int err = 0;

	if (!w)
		return 0;
	if (w->fd >= 0) {
		if (!w->err)
			err = flush_buf(w);
		else
			err = w->err;
		if (close(w->fd) && !err)
			err = -errno;
		if (w->limit) {
			char *to;

			if (asprintf(&to, "%s.%u", w->path, w->index) >= 0) {
				if (rename(w->path, to) && !err)
					err = -errno;
				free(to);
				w->index++;
				pr_info("Wrote %u event file(s)", w->index);
			}
		}
	}
	retisc_strbuf__release(&w->buf);
	retisc_strbuf__release(&w->line);
	free(w->path);
	free(w->cmdline);
	free(w);
	return err;
}
