// SPDX-License-Identifier: GPL-2.0-only
/*
 * Input of explain and report (doc/processing.md §7.1): a series file is
 * read series by series; an events file goes through sort's engine
 * (processors/sort/sort_engine.c, linked in) so that a raw `collect` file
 * works as it is. Either way only the sort buffer and the analysis'
 * aggregates are held, never the whole file.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <retisc/procio.h>

#include "explain.h"
#include "input.h"
#include "sort_engine.h"

#define NSEC_PER_SEC 1000000000ULL
/* Tracking GC age plus its period, as sort (doc/processing.md §2.5). */
#define FORGET_SEC 65
#define MAX_IDS 1000000
/* Lines between two looks at the clock for the progress line. */
#define PROGRESS_EVERY 1024

struct input_ctx {
	const struct retisc_api *api;
	struct retisc_xp *x;
	struct retisc_sort *sort;
	const char *name;
	bool progress;
	uint64_t lines;
	struct timespec shown;
	int err; /* the analysis' error that stopped the sort */
};

static int on_series(void *ctx, const struct retisc_json *series,
		     const struct retisc_sort_note *notes, size_t n)
{
	struct input_ctx *c = ctx;
	int err;

	(void)notes;
	(void)n;
	err = retisc_xp__series(c->x, series);
	if (err)
		c->err = err;
	return err;
}

/* A progress line on a terminal only, redrawn at most 4 times a second. */
static void progress(struct input_ctx *c, bool last)
{
	const struct retisc_xp_totals *t;
	struct timespec now;

	if (!c->progress)
		return;
	if (last) {
		fprintf(stderr, "\r\033[K");
		return;
	}
	if (c->lines % PROGRESS_EVERY)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((now.tv_sec - c->shown.tv_sec) * 1000000000LL + (now.tv_nsec - c->shown.tv_nsec) <
	    250000000LL)
		return;
	c->shown = now;
	t = retisc_xp__totals(c->x);
	fprintf(stderr, "\r\033[K%s: %" PRIu64 " line(s) read, %" PRIu64 " series explained",
		c->name, c->lines, t->series);
}

static int line_fn(void *priv, struct retisc_json *v, char *err, size_t errsz)
{
	struct input_ctx *c = priv;
	const struct retisc_api *api = c->api;
	int ret;

	c->lines++;
	progress(c, false);
	if (!c->sort) {
		ret = retisc_xp__series(c->x, v);
		api->json_free(v);
	} else {
		retisc_xp__saw_event(c->x, v);
		ret = retisc_sort__add(c->sort, v, c->lines, err, errsz);
		if (c->err)
			ret = c->err;
	}
	if (ret && ret != -EINVAL && ret != -EPIPE)
		api->log(RETISC_LOG_ERROR, "%s", strerror(-ret));
	return ret;
}

/* procio.h's stop flag is static, one per file: the read loop of this file
 * polls this file's flag, so the handler that sets it is installed here. */
void retisc_xp__signals_install(struct retisc_proc_signals *s)
{
	retisc_proc__signals_install(s);
}

void retisc_xp__signals_restore(struct retisc_proc_signals *s)
{
	retisc_proc__signals_restore(s);
}

int retisc_xp__read(const struct retisc_api *api, struct retisc_reader *rd, struct retisc_xp *x,
		    const struct retisc_xp_read_opts *o)
{
	struct input_ctx c = {.api = api, .x = x, .name = o->name};
	struct retisc_proc_loop loop = {
		.line = line_fn,
		.priv = &c,
		.keep_going = o->keep_going,
		.skip_read_errors = true,
	};
	struct retisc_sort_opts so = {
		.max_buffer = o->max_buffer,
		.forget_ns = FORGET_SEC * NSEC_PER_SEC,
		.max_ids = MAX_IDS,
	};
	int status = 0, ret;

	c.progress = isatty(STDERR_FILENO) && !o->quiet;
	if (api->reader_kind(rd) == RETISC_READER_EVENTS) {
		c.sort = retisc_sort__new(api, &so, on_series, &c);
		if (!c.sort) {
			api->log(RETISC_LOG_ERROR, "%s", strerror(errno));
			return 1;
		}
	}
	ret = retisc_proc__each(api, rd, &loop, &status);
	/* What was read is explained, also after an error or a signal. */
	if (c.sort && (!ret || ret == -EINVAL || !c.err)) {
		ret = retisc_sort__finish(c.sort);
		if (ret && ret != -EPIPE) {
			if (!c.err)
				api->log(RETISC_LOG_ERROR, "%s", strerror(-ret));
			status = 1;
		}
	}
	if (ret != -EPIPE) {
		ret = retisc_xp__finish(x);
		if (ret && ret != -EPIPE) {
			api->log(RETISC_LOG_ERROR, "%s", strerror(-ret));
			status = 1;
		}
	}
	progress(&c, true);
	retisc_sort__free(c.sort);
	return status;
}
