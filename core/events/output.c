// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	uint64_t size;	  /* bytes of complete lines on disk in the current file */
	uint32_t index;
	uint64_t lines;
	uint64_t flushed_at; /* CLOCK_MONOTONIC ns of the last flush */
	int err;	     /* sticky write error */
	/*
	 * The write(2) of full buffers runs on a thread of its own: the page
	 * cache copy was a third of the bus thread's time per event. The
	 * caller fills buf while the thread writes out; only whole buffers
	 * change hands, so lines keep their order. Under lock: busy, quit,
	 * out_err; the thread owns out, size and fd while busy.
	 */
	pthread_t thread;
	bool threaded;	/* thread started */
	bool no_thread; /* could not start one: write in place */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct retisc_strbuf out;
	bool busy, quit;
	int out_err;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * The flush timer's clock, read once per line: the coarse clock (a few
 * ms of resolution, no TSC read) is enough for a 150 ms period and costs
 * a third of the precise one.
 */
static uint64_t coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
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
	err = err ?: retisc_json__obj_set_u64(common, "timestamp",
					       info->timestamp ?: mono_ns());
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

/*
 * A failed write may have put part of a line on disk (a short write, then
 * ENOSPC): the file is cut back to its last complete line, and the
 * pending bytes keep from there (doc/files.md §8: whole lines only).
 */
static void cut_partial(struct retisc_writer *w, struct retisc_strbuf *sb, size_t done)
{
	size_t keep = done;

	while (keep && sb->buf[keep - 1] != '\n')
		keep--;
	if (done > keep && (ftruncate(w->fd, (off_t)(w->size + keep)) ||
			    lseek(w->fd, (off_t)(w->size + keep), SEEK_SET) < 0))
		pr_warn("%s: cannot cut a partial line off after a failed write: %s", w->path,
			strerror(errno));
	w->size += keep;
	memmove(sb->buf, sb->buf + keep, sb->len - keep);
	retisc_strbuf__truncate(sb, sb->len - keep);
}

/*
 * The file (or its directory) removed while collecting: writes would go
 * on into an unlinked inode, lost at exit. Checked at each flush and at
 * the end (doc/files.md §8); -ENOENT with the path logged.
 */
static int check_linked(struct retisc_writer *w)
{
	struct stat sb;

	if (fstat(w->fd, &sb) || sb.st_nlink)
		return 0;
	pr_err("%s was removed while collecting (or its directory was): the events written "
	       "to it are lost",
	       w->path);
	return -ENOENT;
}

/* Write sb out and empty it. 0 or -errno; what was not written stays in sb. */
static int write_sb(struct retisc_writer *w, struct retisc_strbuf *sb)
{
	size_t done = 0;

	while (done < sb->len) {
		ssize_t n = write(w->fd, sb->buf + done, sb->len - done);

		if (n < 0) {
			int err = -errno;

			if (err == -EINTR)
				continue;
			/* Keep whatever did not make it for a later retry. */
			cut_partial(w, sb, done);
			return err;
		}
		done += (size_t)n;
	}
	w->size += sb->len;
	retisc_strbuf__reset(sb);
	return check_linked(w);
}

/* Write the pending bytes here, on the caller's thread (the thread idle). */
static int flush_buf(struct retisc_writer *w)
{
	int err = write_sb(w, &w->buf);

	if (err)
		return w->err = err;
	w->flushed_at = coarse_ns();
	return 0;
}

static void *writer_main(void *arg)
{
	struct retisc_writer *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		int err;

		while (!w->busy && !w->quit)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->busy)
			break;
		pthread_mutex_unlock(&w->lock);
		err = write_sb(w, &w->out);
		pthread_mutex_lock(&w->lock);
		w->out_err = w->out_err ?: err;
		w->busy = false;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Wait for the thread to finish what it writes; its error becomes sticky. */
static int writer_wait(struct retisc_writer *w)
{
	if (!w->threaded)
		return w->err;
	pthread_mutex_lock(&w->lock);
	while (w->busy)
		pthread_cond_wait(&w->cond, &w->lock);
	w->err = w->err ?: w->out_err;
	pthread_mutex_unlock(&w->lock);
	return w->err;
}

static void writer_stop(struct retisc_writer *w)
{
	if (!w->threaded)
		return;
	pthread_mutex_lock(&w->lock);
	w->quit = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	w->threaded = false;
	w->err = w->err ?: w->out_err;
}

/*
 * Hand the pending bytes to the thread (after the previous batch is
 * written). The thread starts with the first batch, on the caller's
 * thread: it inherits the bus thread's priority (doc/architecture.md
 * §4.2). Without a thread the bytes are written here.
 */
static int flush_pending(struct retisc_writer *w)
{
	struct retisc_strbuf t;
	int err;

	if (!w->threaded && !w->no_thread) {
		w->threaded = !pthread_create(&w->thread, NULL, writer_main, w);
		w->no_thread = !w->threaded;
	}
	if (!w->threaded)
		return flush_buf(w);
	err = writer_wait(w);
	if (err)
		return err;
	if (!w->buf.len)
		return 0;
	t = w->out;
	w->out = w->buf;
	w->buf = t;
	retisc_strbuf__reset(&w->buf);
	pthread_mutex_lock(&w->lock);
	w->busy = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	w->flushed_at = coarse_ns();
	return 0;
}

int retisc_writer__flush(struct retisc_writer *w)
{
	if (w->err)
		return w->err;
	if (w->threaded)
		return flush_pending(w);
	return w->buf.len ? flush_buf(w) : 0;
}

static int open_file(struct retisc_writer *w)
{
	struct retisc_strbuf sl = {0};
	struct retisc_json *st;
	int err;

	w->fd = open(w->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0)
		return -errno;
	w->size = 0;
	st = retisc_startup__new(&w->info, w->limit ? (int)w->index : -1, w->limit);
	if (!st)
		return -errno;
	/* Not in w->line: a rotation happens while w->line holds the event
	 * that caused it (retisc_writer__write()). */
	err = retisc_json__dump(st, &sl);
	retisc_json__free(st);
	err = err ?: retisc_strbuf__putc(&sl, '\n') ?: retisc_strbuf__append(&w->buf, sl.buf, sl.len);
	w->written = sl.len;
	retisc_strbuf__release(&sl);
	if (err)
		return err;
	err = err ?: flush_buf(w);
	/* A file of a rotated set without its startup line would make the
	 * set unreadable (doc/files.md §5): it goes, the set ends before it. */
	if (err && w->index && !w->size) {
		pr_err("%s: cannot write the startup line of file %u of the set (%s): the set "
		       "ends with %s.%u",
		       w->path, w->index, strerror(-err), w->path, w->index - 1);
		close(w->fd);
		w->fd = -1;
		unlink(w->path);
	}
	return err;
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
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	err = open_file(w);
	if (err)
		goto fail;
	return w;
fail:
	if (w->fd >= 0)
		close(w->fd);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
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
	int err = writer_wait(w) ?: flush_buf(w);

	if (err)
		return err;
	close(w->fd);
	w->fd = -1;
	if (asprintf(&to, "%s.%u", w->path, w->index) < 0)
		return -ENOMEM;
	err = rename(w->path, to) ? -errno : 0;
	if (err)
		pr_err("Cannot rename %s to %s: %s", w->path, to, strerror(-err));
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
	if (w->buf.len >= WRITER_BUF || coarse_ns() - w->flushed_at >= WRITER_FLUSH_NS)
		return flush_pending(w);
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

const char *retisc_writer__name(const struct retisc_writer *w, char *buf, size_t sz)
{
	if (!w->limit)
		return w->path;
	snprintf(buf, sz, "%s (file %u of the rotated set, kept as %s.%u)", w->path, w->index,
		 w->path, w->index);
	return buf;
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
	writer_stop(w);
	if (w->fd >= 0) {
		if (!w->err)
			err = w->buf.len ? flush_buf(w) : check_linked(w);
		else
			err = w->err;
		if (close(w->fd) && !err)
			err = -errno;
		if (w->limit && err != -ENOENT) {
			char *to;

			if (asprintf(&to, "%s.%u", w->path, w->index) >= 0) {
				if (rename(w->path, to)) {
					pr_err("Cannot rename %s to %s: %s", w->path, to,
					       strerror(errno));
					err = err ?: -errno;
				}
				free(to);
				w->index++;
			}
		}
	}
	if (w->limit && w->index)
		pr_info("Wrote %u event file(s)", w->index);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	retisc_strbuf__release(&w->buf);
	retisc_strbuf__release(&w->out);
	retisc_strbuf__release(&w->line);
	free(w->path);
	free(w->cmdline);
	free(w);
	return err;
}
