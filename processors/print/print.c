// SPDX-License-Identifier: GPL-2.0-only
/*
 * print processor (doc/processing.md §1): renders every event of an events file
 * (startup events included) or every series of a sorted file as text.
 *
 * Parsing and rendering a line take a few microseconds, reading it and
 * writing its text a fraction of that: with more than one CPU, the lines
 * are handed in batches to worker threads, each with its own renderer, and
 * their text and errors are written in input order (doc/processing.md §1.1).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <retisc/plugin.h>
#include <retisc/plugin_util.h>
#include <retisc/procio.h>

static void usage(FILE *f)
{
	fprintf(f, "Usage: retisc print [--format single-line|multi-line] [--utc] [-e] "
		   "[--keep-going] [INPUT]\n");
}

struct print_ctx {
	const struct retisc_api *api;
	struct retisc_text *text;
	bool series; /* the input is a series file */
	struct retisc_out out;
};

/* retisc_proc_line_fn: render one event or series into the output. */
static int print_line(void *priv, struct retisc_json *v, char *err, size_t errsz)
{
	struct print_ctx *p = priv;
	const struct retisc_api *api = p->api;
	int ret;

	ret = p->series ? api->text_series_framed(p->text, v, &p->out.buf)
			: api->text_event_framed(p->text, v, &p->out.buf);
	api->json_free(v);
	if (ret == -EINVAL) {
		snprintf(err, errsz, "cannot render event");
		return ret;
	}
	if (!ret && p->out.buf.len >= RETISC_OUT_CHUNK)
		ret = retisc_out__flush(&p->out);
	return ret;
}

/* -------------------------------------------------------------------------
 * Parallel rendering.
 */
#define WORKERS 2
#define BATCHES (2 * WORKERS + 2)
#define BATCH_LINES 512
#define BATCH_BYTES (512u << 10)

/* A line of a batch: its bytes in the batch's text, or a value the reader
 * parsed already (line 1, older formats). */
struct item {
	size_t off, len;
	unsigned long line;
	struct retisc_json *v;
};

/* What went wrong with a line, to be reported when the batch is written:
 * a parse or check error of the reader (read) or a render error. */
struct fault {
	size_t out_pos; /* the text of the lines before it ends here */
	int err;
	bool read;
	unsigned long line;
	char msg[1024];
};

enum batch_state { BATCH_FREE, BATCH_QUEUED, BATCH_RUNNING, BATCH_DONE };

struct batch {
	enum batch_state state;
	char *path; /* the file of these lines */
	struct retisc_strbuf text;
	struct item *items;
	size_t n;
	struct retisc_strbuf out;
	struct fault *faults;
	size_t nfaults, faults_cap;
};

struct pool {
	struct print_ctx *p;
	struct retisc_reader *rd;
	bool multiline, link_layer;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct batch b[BATCHES];
	/* Batches in flight from head, oldest first: count of them, the
	 * newest being filled while it is not queued; the first queued ones
	 * (queued in all) go to the workers, who took next of them. */
	size_t head, count, queued, next;
	bool stop;
	pthread_t threads[WORKERS];
	size_t nthreads;
};

static int add_fault(struct batch *b, const struct item *it, int err, bool read, const char *msg)
{
	struct fault *f;

	if (b->nfaults == b->faults_cap) {
		size_t cap = b->faults_cap ? 2 * b->faults_cap : 4;

		f = realloc(b->faults, cap * sizeof(*f));
		if (!f)
			return -ENOMEM;
		b->faults = f;
		b->faults_cap = cap;
	}
	f = &b->faults[b->nfaults++];
	f->out_pos = b->out.len;
	f->err = err;
	f->read = read;
	f->line = it->line;
	snprintf(f->msg, sizeof(f->msg), "%s", msg);
	return 0;
}

/* Parse (unless the reader did) and render the lines of b into b->out. A
 * fault that stops print ends the batch: nothing after it is written. */
static void batch_run(struct pool *pl, struct retisc_text *text, struct batch *b)
{
	const struct retisc_api *api = pl->p->api;
	bool has_arena = RETISC_API_HAS(api, json_arena_end);
	char err[1024];
	int ret;

	retisc_strbuf__reset(&b->out);
	b->nfaults = 0;
	for (size_t i = 0; i < b->n; i++) {
		struct item *it = &b->items[i];
		struct retisc_json *v = it->v;
		bool arena = false;

		it->v = NULL;
		if (!v) {
			/*
			 * The tree of a line lives from its parse to the end
			 * of its rendering: carved from the thread's arena
			 * and dropped at once, instead of a few dozen
			 * allocations and frees.
			 */
			arena = has_arena && !api->json_arena_begin();
			ret = api->reader_parse_line(pl->rd, b->path, it->line,
						     b->text.buf + it->off, it->len, &v, err,
						     sizeof(err));
			if (ret < 0) {
				if (arena)
					api->json_arena_end();
				if (add_fault(b, it, ret, true, err))
					return;
				continue;
			}
		}
		ret = pl->p->series ? api->text_series_framed(text, v, &b->out)
				    : api->text_event_framed(text, v, &b->out);
		api->json_free(v);
		if (arena)
			api->json_arena_end();
		if (ret && add_fault(b, it, ret, false, "cannot render event"))
			return;
	}
}

static void *worker(void *arg)
{
	struct pool *pl = arg;
	const struct retisc_api *api = pl->p->api;
	struct retisc_text *text = api->text_new(api, pl->multiline, pl->link_layer, false);
	struct batch *b;

	pthread_mutex_lock(&pl->lock);
	for (;;) {
		while (pl->next == pl->queued && !pl->stop)
			pthread_cond_wait(&pl->cond, &pl->lock);
		if (pl->next == pl->queued)
			break;
		b = &pl->b[(pl->head + pl->next++) % BATCHES];
		b->state = BATCH_RUNNING;
		pthread_mutex_unlock(&pl->lock);
		if (text) {
			batch_run(pl, text, b);
		} else {
			b->nfaults = 0;
			retisc_strbuf__reset(&b->out);
			add_fault(b, &b->items[0], -ENOMEM, false, "out of memory");
		}
		pthread_mutex_lock(&pl->lock);
		b->state = BATCH_DONE;
		pthread_cond_broadcast(&pl->cond);
	}
	pthread_mutex_unlock(&pl->lock);
	if (text)
		api->text_free(text);
	return NULL;
}

struct run {
	struct pool *pl;
	bool keep_going;
	int status;
	int ret;   /* what stopped print, 0 if nothing */
	bool done; /* nothing more is written */
};

/* Write the oldest batch (waiting for it) and its faults, in line order. */
static void batch_write(struct run *r)
{
	struct pool *pl = r->pl;
	const struct retisc_api *api = pl->p->api;
	struct batch *b = &pl->b[pl->head];
	size_t pos = 0;
	int ret = 0;

	pthread_mutex_lock(&pl->lock);
	while (b->state != BATCH_DONE)
		pthread_cond_wait(&pl->cond, &pl->lock);
	pthread_mutex_unlock(&pl->lock);

	for (size_t i = 0; i <= b->nfaults && !r->done; i++) {
		const struct fault *f = i < b->nfaults ? &b->faults[i] : NULL;
		size_t end = f ? f->out_pos : b->out.len;

		ret = retisc_out__write(&pl->p->out, b->out.buf + pos, end - pos);
		pos = end;
		if (ret) {
			if (ret != -EPIPE)
				r->status = 1;
			r->ret = ret;
			r->done = true;
			break;
		}
		if (!f)
			break;
		/* As retisc_proc__each() reports them. */
		r->status = 1;
		if (f->read)
			api->log(RETISC_LOG_ERROR, "%s", f->msg);
		else if (f->err == -EINVAL)
			api->log(RETISC_LOG_ERROR, "%s:%lu: %s", b->path, f->line, f->msg);
		if (!r->keep_going || f->err != -EINVAL) {
			r->ret = f->err;
			r->done = true;
		}
	}
	pthread_mutex_lock(&pl->lock);
	for (size_t i = 0; i < b->n; i++)
		api->json_free(b->items[i].v);
	b->n = 0;
	retisc_strbuf__reset(&b->text);
	b->state = BATCH_FREE;
	pl->head = (pl->head + 1) % BATCHES;
	pl->count--;
	pl->queued--;
	pl->next--;
	pthread_mutex_unlock(&pl->lock);
}

/* The batch being filled: the newest, not yet queued (state FREE). */
static struct batch *batch_open(struct run *r, const char *path)
{
	struct pool *pl = r->pl;
	struct batch *b;

	if (pl->count > pl->queued) {
		b = &pl->b[(pl->head + pl->count - 1) % BATCHES];
		if (b->n < BATCH_LINES && b->text.len < BATCH_BYTES && !strcmp(b->path, path))
			return b;
		/* Full or another file: queue it. */
		pthread_mutex_lock(&pl->lock);
		b->state = BATCH_QUEUED;
		pl->queued++;
		pthread_cond_broadcast(&pl->cond);
		pthread_mutex_unlock(&pl->lock);
	}
	while (pl->count == BATCHES && !r->done)
		batch_write(r);
	if (r->done)
		return NULL;
	b = &pl->b[(pl->head + pl->count) % BATCHES];
	if (!b->path || strcmp(b->path, path)) {
		free(b->path);
		b->path = strdup(path);
		if (!b->path)
			return NULL;
	}
	if (!b->items) {
		b->items = calloc(BATCH_LINES, sizeof(*b->items));
		if (!b->items)
			return NULL;
	}
	pthread_mutex_lock(&pl->lock);
	pl->count++;
	pthread_mutex_unlock(&pl->lock);
	return b;
}

/* Queue the batch being filled, then write everything in flight. */
static void pool_drain(struct run *r)
{
	struct pool *pl = r->pl;

	pthread_mutex_lock(&pl->lock);
	if (pl->count > pl->queued) {
		pl->b[(pl->head + pl->count - 1) % BATCHES].state = BATCH_QUEUED;
		pl->queued++;
	}
	pthread_cond_broadcast(&pl->cond);
	pthread_mutex_unlock(&pl->lock);
	while (pl->count)
		batch_write(r);
}

/*
 * The read loop of retisc_proc__each() with the rendering on the workers:
 * same results, same messages in the same order, same status.
 */
static int print_parallel(struct pool *pl, bool keep_going, int *status)
{
	const struct retisc_api *api = pl->p->api;
	struct run r = {.pl = pl, .keep_going = keep_going};
	struct retisc_json *v;
	const char *line, *path;
	struct batch *b;
	struct item *it;
	char err[1024];
	size_t len;
	int ret;

	while (!r.done && !retisc_proc__stopped()) {
		ret = api->reader_next_line(pl->rd, &line, &len, &v, err, sizeof(err));
		if (!ret)
			break;
		if (ret < 0) {
			/* Reported after the lines before it. */
			pool_drain(&r);
			if (r.done || retisc_proc__stopped())
				break;
			api->log(RETISC_LOG_ERROR, "%s", err);
			r.status = 1;
			if (!keep_going || ret != -EINVAL) {
				r.ret = ret;
				break;
			}
			continue;
		}
		path = api->reader_path(pl->rd);
		b = batch_open(&r, path);
		if (!b) {
			api->json_free(v);
			if (!r.done) {
				api->log(RETISC_LOG_ERROR, "%s", strerror(ENOMEM));
				r.status = 1;
				r.ret = -ENOMEM;
			}
			break;
		}
		it = &b->items[b->n];
		it->line = api->reader_line(pl->rd);
		it->v = v;
		it->off = b->text.len;
		it->len = len;
		if (!v && retisc_strbuf__append(&b->text, line, len)) {
			api->log(RETISC_LOG_ERROR, "%s", strerror(ENOMEM));
			r.status = 1;
			r.ret = -ENOMEM;
			break;
		}
		b->n++;
	}
	/* What was read is written, also after an error or a signal. */
	pool_drain(&r);
	if (r.status)
		*status = 1;
	return r.ret;
}

static int pool_start(struct pool *pl)
{
	pthread_mutex_init(&pl->lock, NULL);
	pthread_cond_init(&pl->cond, NULL);
	for (size_t i = 0; i < WORKERS; i++) {
		if (pthread_create(&pl->threads[i], NULL, worker, pl))
			break;
		pl->nthreads++;
	}
	return pl->nthreads ? 0 : -EAGAIN;
}

static void pool_end(struct pool *pl)
{
	pthread_mutex_lock(&pl->lock);
	pl->stop = true;
	pthread_cond_broadcast(&pl->cond);
	pthread_mutex_unlock(&pl->lock);
	for (size_t i = 0; i < pl->nthreads; i++)
		pthread_join(pl->threads[i], NULL);
	for (size_t i = 0; i < BATCHES; i++) {
		struct batch *b = &pl->b[i];

		for (size_t j = 0; j < b->n; j++)
			pl->p->api->json_free(b->items[j].v);
		free(b->items);
		free(b->path);
		free(b->faults);
		retisc_strbuf__release(&b->text);
		retisc_strbuf__release(&b->out);
	}
	pthread_cond_destroy(&pl->cond);
	pthread_mutex_destroy(&pl->lock);
}

static int print_run(void *priv, const struct retisc_api *api, int argc, char **argv)
{
	bool multiline = true, utc = false, link_layer = false;
	const struct retisc_proc_opt opts[] = {
		RETISC_PROC_FORMAT(&multiline),
		RETISC_PROC_FLAG("utc", 0, &utc),
		RETISC_PROC_FLAG(NULL, 'e', &link_layer),
		{},
	};
	struct print_ctx p = {.api = api};
	struct retisc_proc_loop loop = {.line = print_line, .priv = &p};
	struct pool pl = {.p = &p};
	struct retisc_proc_signals sig;
	struct retisc_pager pager;
	struct retisc_reader *rd;
	const char *input;
	bool parallel;
	int ret, status = 0;

	(void)priv;
	ret = retisc_proc__parse(argc, argv, opts, usage, &loop.keep_going, &input);
	if (ret >= 0)
		return ret;
	rd = retisc_proc__open(api, input);
	if (!rd)
		return 1;
	p.text = api->text_new(api, multiline, link_layer, utc);
	if (!p.text) {
		api->reader_free(rd);
		return 1;
	}
	p.series = api->reader_kind(rd) == RETISC_READER_SERIES;
	/*
	 * --utc renders times with the offset of the last startup event
	 * rendered, state that one renderer carries from line to line: those
	 * runs stay on this thread.
	 */
	pl.rd = rd;
	pl.multiline = multiline;
	pl.link_layer = link_layer;
	parallel = !utc && RETISC_API_HAS(api, reader_parse_line) &&
		   sysconf(_SC_NPROCESSORS_ONLN) > 1 && !pool_start(&pl);

	retisc_proc__signals_install(&sig);
	retisc_pager__start(&pager);
	retisc_out__fd(&p.out, STDOUT_FILENO, "stdout");
	if (parallel)
		ret = print_parallel(&pl, loop.keep_going, &status);
	else
		ret = retisc_proc__each(api, rd, &loop, &status);
	/*
	 * What was rendered before an error or a signal is still written.
	 * Quiet once status is set, so that a reader error is not followed
	 * by a second message; a write error that stopped the loop is
	 * therefore not reported either.
	 */
	if (retisc_out__finish(api, &p.out, ret == -EINVAL ? 0 : ret, status != 0))
		status = 1;
	retisc_pager__finish(&pager);
	retisc_proc__signals_restore(&sig);
	if (parallel)
		pool_end(&pl);
	api->text_free(p.text);
	api->reader_free(rd);
	return status;
}

RETISC_PLUGIN_DEFINE_PROCESSOR("print", "0.1.0", "print an events or sorted file as text",
			       print_run)
