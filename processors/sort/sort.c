// SPDX-License-Identifier: GPL-2.0-only
/*
 * sort processor (doc/processing.md §2, doc/cli.md §4): `retisc sort` and
 * `retisc process sort`. The algorithm is in sort_engine.c; this file reads
 * the input, checks the refusals of §2.1 and writes series as JSON lines
 * and/or text, with retisc's optional annotations (--deltas, --diff,
 * --mark-lost).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <retisc/plugin.h>
#include <retisc/plugin_util.h>
#include <retisc/procio.h>
#include <retisc/strbuf.h>

#include "sort_engine.h"

#define DEFAULT_MAX_BUFFER 1000
/* doc/processing.md §2.5: about 100 MB of map entries at most. */
#define DEFAULT_MAX_IDS 1000000
/* Tracking GC age (60 s) plus its period (5 s): see sort_engine.h. */
#define DEFAULT_FORGET_SEC 65
#define NSEC_PER_SEC 1000000000ULL
/* retisc_api.reader_kind() and reader_compat() values. */
#define COMPAT_CURRENT 2

/* First-line prefix of the 2nd and later events of a series (§2.6). */
#define SERIES_PREFIX "  \u21b3 "
#define SERIES_INDENT 4
#define BODY_INDENT 2

/* Origins of events: file index in the high bits, line in the low ones. */
#define ORIGIN_LINE_BITS 40

struct sort_ctx {
	const struct retisc_api *api;
	struct retisc_reader *rd;
	struct retisc_sort *sort;
	struct retisc_text *text; /* NULL: no text output */
	bool multiline, deltas, diff, lost;
	bool keep_going;
	const char *out_path;
	struct retisc_out json; /* fd -1 without --out */
	struct retisc_out std;
	struct retisc_strbuf sb;
	char **paths; /* files read so far, indexed by origin */
	size_t n_paths;
	int status;
	bool fatal;	     /* an error that ends the command without draining */
	uint64_t raw_events; /* added unparsed (sort_raw()) */
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: retisc sort [OPTIONS] [INPUT]\n"
		"\n"
		"Group the events of each packet into series.\n"
		"\n"
		"Arguments:\n"
		"  [INPUT]                 events file; default retis.data (or retis.data.0..);\n"
		"                          PATH.. follows a rotated set, - reads stdin\n"
		"\n"
		"Options:\n"
		"      --max-buffer N      events buffered before series are written (default %d,\n"
		"                          0 = unbounded)\n"
		"  -o, --out FILE          write the series to FILE (JSON lines)\n"
		"      --print             also print the series when --out is used\n"
		"      --format FORMAT     single-line|multi-line (default multi-line)\n"
		"      --utc               print times as UTC dates\n"
		"  -e                      print link-layer information\n"
		"retisc additions (text output only):\n"
		"      --deltas            time since the previous event of the packet\n"
		"      --diff              what changed since the previous event of the packet\n"
		"      --mark-lost         mark events and series that lost events\n"
		"      --forget-after SEC  forget ids unused for SEC seconds of event time\n"
		"                          (default %d, 0 = never)\n"
		"      --max-ids N         ids remembered at most, least recently used\n"
		"                          forgotten first (default %d, 0 = no limit)\n"
		"      --keep-going        report malformed events and go on (exit 1 at the end)\n"
		"  -h, --help              print help\n",
		DEFAULT_MAX_BUFFER, DEFAULT_FORGET_SEC, DEFAULT_MAX_IDS);
}

/* Index of the file being read, for the origin of its events. */
static uint64_t origin_of(struct sort_ctx *c, const char *path, unsigned long line)
{
	char **p;

	if (!c->n_paths || strcmp(c->paths[c->n_paths - 1], path)) {
		p = realloc(c->paths, (c->n_paths + 1) * sizeof(*p));
		if (p) {
			c->paths = p;
			p[c->n_paths] = strdup(path);
			if (p[c->n_paths])
				c->n_paths++;
		}
	}
	return (uint64_t)(c->n_paths ? c->n_paths - 1 : 0) << ORIGIN_LINE_BITS |
	       ((uint64_t)line & ((1ULL << ORIGIN_LINE_BITS) - 1));
}

static const char *origin_path(const struct sort_ctx *c, uint64_t origin)
{
	size_t i = (size_t)(origin >> ORIGIN_LINE_BITS);

	return i < c->n_paths ? c->paths[i] : "?";
}

static unsigned long origin_line(uint64_t origin)
{
	return (unsigned long)(origin & ((1ULL << ORIGIN_LINE_BITS) - 1));
}

static int sb_insert(struct retisc_strbuf *sb, size_t pos, const char *s, size_t n)
{
	if (retisc_strbuf__reserve(sb, n))
		return -ENOMEM;
	memmove(sb->buf + pos + n, sb->buf + pos, sb->len - pos + 1);
	memcpy(sb->buf + pos, s, n);
	sb->len += n;
	return 0;
}

static int put_delta(struct retisc_strbuf *sb, int64_t ns)
{
	uint64_t a = ns < 0 ? -(uint64_t)ns : (uint64_t)ns;

	return retisc_strbuf__printf(sb, " (%c%" PRIu64 ".%03" PRIu64 "us)", ns < 0 ? '-' : '+',
				     a / 1000, a % 1000);
}

/*
 * The §2.6 layout, event by event, with the annotations: markers and delta
 * at the end of an event's first line, the change list as one more body
 * line (or at the end of the line in single-line mode).
 */
static int render_annotated(struct sort_ctx *c, const struct retisc_json *series,
			    const struct retisc_sort_note *notes, size_t n,
			    struct retisc_strbuf *out)
{
	const struct retisc_api *api = c->api;
	struct retisc_strbuf sfx = RETISC_STRBUF_INIT;
	uint64_t lost = 0;
	int err = 0;

	for (size_t i = 0; i < n; i++)
		lost += notes[i].lost;
	for (size_t i = 0; i < n && !err; i++) {
		unsigned int base = i ? SERIES_INDENT : 0;
		size_t start = out->len;
		const char *nl;

		err = api->text_event(c->text, api->json_arr_get(series, i), base,
				      i ? SERIES_PREFIX : NULL, out);
		if (err)
			break;
		retisc_strbuf__reset(&sfx);
		if (c->lost && notes[i].lost)
			err = retisc_strbuf__printf(&sfx, " [%" PRIu64 " lost]", notes[i].lost);
		if (!err && c->lost && !i && lost)
			err = retisc_strbuf__printf(&sfx, " [series: %" PRIu64 " lost]", lost);
		if (!err && c->deltas && notes[i].has_delta)
			err = put_delta(&sfx, notes[i].delta_ns);
		if (!err && sfx.len) {
			nl = memchr(out->buf + start, '\n', out->len - start);
			err = sb_insert(out, nl ? (size_t)(nl - out->buf) : out->len, sfx.buf,
					sfx.len);
		}
		if (!err && c->diff && notes[i].diff) {
			if (c->multiline)
				err = retisc_strbuf__printf(out, "\n%*schanged: %s",
							    base + BODY_INDENT, "", notes[i].diff);
			else
				err = retisc_strbuf__printf(out, " changed: %s", notes[i].diff);
		}
		if (!err)
			err = retisc_strbuf__putc(out, '\n');
	}
	if (!err && n)
		err = retisc_strbuf__putc(out, '\n');
	retisc_strbuf__release(&sfx);
	return err;
}

/* A write error: quiet for a closed pipe, reported otherwise. */
static int write_failed(struct sort_ctx *c, const struct retisc_out *o, int err)
{
	if (err != -EPIPE) {
		c->api->log(RETISC_LOG_ERROR, "Cannot write to %s: %s", o->name, strerror(-err));
		c->status = 1;
	}
	c->fatal = true;
	return err;
}

static int emit(void *ctx, const struct retisc_json *series, const struct retisc_sort_note *notes,
		size_t n)
{
	struct sort_ctx *c = ctx;
	const struct retisc_api *api = c->api;
	int err;

	if (c->json.fd >= 0) {
		retisc_strbuf__reset(&c->sb);
		err = api->json_dump(series, &c->sb) ?: retisc_strbuf__putc(&c->sb, '\n');
		if (!err)
			err = retisc_out__write(&c->json, c->sb.buf, c->sb.len);
		if (err)
			return write_failed(c, &c->json, err);
	}
	if (!c->text)
		return 0;
	retisc_strbuf__reset(&c->sb);
	if (c->deltas || c->diff || c->lost)
		err = render_annotated(c, series, notes, n, &c->sb);
	else
		err = api->text_series_framed(c->text, series, &c->sb);
	if (err == -EINVAL) {
		/* Reported with where the series' first event was read. */
		api->log(RETISC_LOG_ERROR, "%s:%lu: cannot render event: missing or invalid key",
			 origin_path(c, notes[0].origin), origin_line(notes[0].origin));
		c->status = 1;
		if (c->keep_going)
			return 0;
		c->fatal = true;
		return -ECANCELED;
	}
	if (!err)
		err = retisc_out__write(&c->std, c->sb.buf, c->sb.len);
	if (err)
		return write_failed(c, &c->std, err);
	return 0;
}

/* emit_json: the series file alone (no text), straight from the lines. */
static int emit_json(void *ctx, const char *buf, size_t len)
{
	struct sort_ctx *c = ctx;
	int err = retisc_out__write(&c->json, buf, len);

	return err ? write_failed(c, &c->json, err) : 0;
}

/* §2.1: --out pointing at the input itself. */
static bool same_file(const char *a, const char *b)
{
	char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
	bool same = ra && rb && !strcmp(ra, rb);

	free(ra);
	free(rb);
	return same;
}

static void log_counts(const struct sort_ctx *c, const struct retisc_sort *s)
{
	struct retisc_sort_counts k;

	retisc_sort__counts(s, &k);
	c->api->log(RETISC_LOG_DEBUG,
		    "sort: %" PRIu64 " event(s), %" PRIu64 " series; peak state: %zu event(s) "
		    "buffered, %zu id(s), %zu queue id(s), %zu upcall(s), %zu flow(s); "
		    "%" PRIu64 " entries forgotten",
		    k.events, k.emitted, k.peak_buffered, k.peak_ids, k.peak_queues, k.peak_upcalls,
		    k.peak_flows, k.forgotten);
	if (k.peak_ids)
		c->api->log(RETISC_LOG_DEBUG,
			    "sort: peak id state %zu bytes, %.1f bytes per id; %" PRIu64
			    " of %" PRIu64 " event(s) copied through unparsed",
			    k.peak_state_bytes, (double)k.peak_state_bytes / (double)k.peak_ids,
			    c->raw_events, k.events);
}

/* What follows an add: 0, -EINVAL (bad event, err says why), or an error
 * that stops the command, reported here unless emit() did. */
static int sort_added(struct sort_ctx *c, int ret)
{
	/* emit() failed and reported why (a closed pipe silently): stop. */
	if (c->fatal)
		return ret == -EPIPE ? -EPIPE : -ECANCELED;
	if (ret && ret != -EINVAL) {
		c->api->log(RETISC_LOG_ERROR, "%s", strerror(-ret));
		c->fatal = true;
	}
	return ret;
}

/* Hand one event, line `line` of path, to the sorter, which may emit. */
static int sort_event_at(struct sort_ctx *c, struct retisc_json *ev, const char *path,
			 unsigned long line, char *err, size_t errsz)
{
	return sort_added(c, retisc_sort__add(c->sort, ev, origin_of(c, path, line), err, errsz));
}

/* The same for a line that the scanner accepted (f). */
static int sort_raw_at(struct sort_ctx *c, const char *text, size_t len,
		       const struct retisc_sort_scan *f, const char *path, unsigned long line,
		       char *err, size_t errsz)
{
	c->raw_events++;
	return sort_added(c, retisc_sort__add_raw(c->sort, text, len, f, origin_of(c, path, line),
						  err, errsz));
}

/* retisc_proc_line_fn: hand one event to the sorter, which may emit. */
static int sort_line(void *priv, struct retisc_json *ev, char *err, size_t errsz)
{
	struct sort_ctx *c = priv;

	return sort_event_at(c, ev, c->api->reader_path(c->rd), c->api->reader_line(c->rd), err,
			     errsz);
}

/*
 * retisc_proc_loop.raw: a line the scanner accepts goes to the sorter as it
 * is (doc/processing.md §2.7); any other is parsed and goes to sort_line().
 */
static int sort_raw(void *priv, const char *line, size_t len, char *err, size_t errsz)
{
	struct sort_ctx *c = priv;
	struct retisc_sort_scan f;

	if (!retisc_sort_scan__line(line, len, &f))
		return 1;
	return sort_raw_at(c, line, len, &f, c->api->reader_path(c->rd), c->api->reader_line(c->rd),
			   err, errsz);
}

/* -------------------------------------------------------------------------
 * Scanning ahead (doc/processing.md §2.7): with more than one CPU, a thread
 * scans batches of lines while this one sorts the lines of the batches
 * before; results, errors and messages are those of sort_raw() line after
 * line, in input order.
 */
#define SCAN_BATCHES 4
#define SCAN_BATCH_LINES 1024
#define SCAN_BATCH_BYTES (1u << 20)
/* How many lines ahead the id map's bucket, then its entry, are fetched. */
#define PREFETCH_BUCKET 8
#define PREFETCH_ENTRY 4

struct scan_item {
	size_t off, len;
	unsigned long line;
	struct retisc_json *v; /* parsed by the reader already (line 1) */
	bool ok;	       /* the scanner accepted it: f */
	struct retisc_sort_scan f;
};

struct scan_batch {
	bool done;
	char *path; /* the file of these lines */
	struct retisc_strbuf text;
	struct scan_item *items;
	size_t n;
};

struct scan_ahead {
	struct sort_ctx *c;
	bool keep_going;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* In flight from head: count batches, the newest being filled
	 * while it is not queued; the scanner took next of the queued. */
	struct scan_batch b[SCAN_BATCHES];
	size_t head, count, queued, next;
	bool stop;
	bool done; /* stop reading: an error, or the output went away */
};

static void *scan_thread(void *arg)
{
	struct scan_ahead *sa = arg;
	struct scan_batch *b;

	pthread_mutex_lock(&sa->lock);
	for (;;) {
		while (sa->next == sa->queued && !sa->stop)
			pthread_cond_wait(&sa->cond, &sa->lock);
		if (sa->next == sa->queued)
			break;
		b = &sa->b[(sa->head + sa->next++) % SCAN_BATCHES];
		pthread_mutex_unlock(&sa->lock);
		for (size_t i = 0; i < b->n; i++) {
			struct scan_item *it = &b->items[i];

			it->ok = !it->v &&
				 retisc_sort_scan__line(b->text.buf + it->off, it->len, &it->f);
		}
		pthread_mutex_lock(&sa->lock);
		b->done = true;
		pthread_cond_broadcast(&sa->cond);
	}
	pthread_mutex_unlock(&sa->lock);
	return NULL;
}

/* One line of a scanned batch, as retisc_proc__each() and sort_raw() would
 * have handled it; false when the command stops reading. */
static bool scan_item_sort(struct scan_ahead *sa, struct scan_batch *b, struct scan_item *it)
{
	struct sort_ctx *c = sa->c;
	const struct retisc_api *api = c->api;
	const char *text = b->text.buf + it->off;
	struct retisc_json *v = it->v;
	char err[1024] = "";
	int ret;

	it->v = NULL;
	if (it->ok) {
		ret = sort_raw_at(c, text, it->len, &it->f, b->path, it->line, err, sizeof(err));
	} else {
		if (!v) {
			ret = api->reader_parse_line(c->rd, b->path, it->line, text, it->len, &v,
						     err, sizeof(err));
			if (ret < 0) {
				/* A reader error (skip_read_errors). */
				api->log(RETISC_LOG_ERROR, "%s", err);
				c->status = 1;
				return sa->keep_going && ret != -ENOMEM;
			}
			err[0] = '\0';
		}
		ret = sort_event_at(c, v, b->path, it->line, err, sizeof(err));
	}
	if (ret == -EINVAL) {
		if (err[0])
			api->log(RETISC_LOG_ERROR, "%s:%lu: %s", b->path, it->line, err);
		c->status = 1;
		return sa->keep_going;
	}
	if (ret) {
		if (ret != -EPIPE)
			c->status = 1;
		return false;
	}
	return true;
}

/* Sort the lines of the oldest batch once it is scanned, and free it. */
static void scan_batch_sort(struct scan_ahead *sa)
{
	struct scan_batch *b = &sa->b[sa->head];
	size_t i;

	pthread_mutex_lock(&sa->lock);
	while (!b->done)
		pthread_cond_wait(&sa->cond, &sa->lock);
	pthread_mutex_unlock(&sa->lock);
	for (i = 0; i < b->n && !sa->done; i++) {
		/* The id map entries of the lines ahead, into the cache. */
		for (int st = 0; st < 2; st++) {
			size_t k = i + (st ? PREFETCH_ENTRY : PREFETCH_BUCKET);

			if (k < b->n && b->items[k].ok && b->items[k].f.has_id)
				retisc_sort__prefetch(sa->c->sort, b->items[k].f.id_ts,
						      b->items[k].f.id_head, st);
		}
		if (!scan_item_sort(sa, b, &b->items[i]))
			sa->done = true;
	}
	for (; i < b->n; i++)
		sa->c->api->json_free(b->items[i].v);
	b->n = 0;
	b->done = false;
	retisc_strbuf__reset(&b->text);
	pthread_mutex_lock(&sa->lock);
	sa->head = (sa->head + 1) % SCAN_BATCHES;
	sa->count--;
	sa->queued--;
	sa->next--;
	pthread_mutex_unlock(&sa->lock);
}

static void scan_queue_open(struct scan_ahead *sa)
{
	pthread_mutex_lock(&sa->lock);
	if (sa->count > sa->queued) {
		sa->queued++;
		pthread_cond_broadcast(&sa->cond);
	}
	pthread_mutex_unlock(&sa->lock);
}

/* The batch to add a line of path to; NULL when reading must stop. */
static struct scan_batch *scan_batch_open(struct scan_ahead *sa, const char *path)
{
	struct scan_batch *b;

	if (sa->count > sa->queued) {
		b = &sa->b[(sa->head + sa->count - 1) % SCAN_BATCHES];
		if (b->n < SCAN_BATCH_LINES && b->text.len < SCAN_BATCH_BYTES &&
		    !strcmp(b->path, path))
			return b;
		scan_queue_open(sa);
	}
	while (sa->count == SCAN_BATCHES && !sa->done)
		scan_batch_sort(sa);
	if (sa->done)
		return NULL;
	b = &sa->b[(sa->head + sa->count) % SCAN_BATCHES];
	if (!b->path || strcmp(b->path, path)) {
		free(b->path);
		b->path = strdup(path);
	}
	if (!b->items)
		b->items = calloc(SCAN_BATCH_LINES, sizeof(*b->items));
	if (!b->path || !b->items)
		return NULL;
	pthread_mutex_lock(&sa->lock);
	sa->count++;
	pthread_mutex_unlock(&sa->lock);
	return b;
}

/* Sort everything read so far. */
static void scan_drain(struct scan_ahead *sa)
{
	scan_queue_open(sa);
	while (sa->count)
		scan_batch_sort(sa);
}

/* retisc_proc__each() for sort -o with the scanner on its own thread. */
static void sort_scan_ahead(struct scan_ahead *sa)
{
	struct sort_ctx *c = sa->c;
	const struct retisc_api *api = c->api;
	struct retisc_json *v;
	struct scan_batch *b;
	struct scan_item *it;
	const char *line;
	char err[1024];
	size_t len;
	int ret;

	while (!sa->done && !retisc_proc__stopped()) {
		ret = api->reader_next_line(c->rd, &line, &len, &v, err, sizeof(err));
		if (!ret)
			break;
		if (ret < 0) {
			/* Reported after the lines before it. */
			scan_drain(sa);
			if (sa->done || retisc_proc__stopped())
				break;
			api->log(RETISC_LOG_ERROR, "%s", err);
			c->status = 1;
			if (!sa->keep_going || ret == -ENOMEM)
				break;
			continue;
		}
		b = scan_batch_open(sa, api->reader_path(c->rd));
		if (!b || (!v && retisc_strbuf__append(&b->text, line, len))) {
			api->json_free(v);
			if (!sa->done) {
				api->log(RETISC_LOG_ERROR, "%s", strerror(ENOMEM));
				c->status = 1;
				c->fatal = true;
			}
			break;
		}
		it = &b->items[b->n++];
		it->off = v ? b->text.len : b->text.len - len;
		it->len = len;
		it->line = api->reader_line(c->rd);
		it->v = v;
	}
	/* What was read is sorted, also after an error or a signal. */
	scan_drain(sa);
}

static int scan_ahead_start(struct scan_ahead *sa)
{
	pthread_mutex_init(&sa->lock, NULL);
	pthread_cond_init(&sa->cond, NULL);
	if (pthread_create(&sa->thread, NULL, scan_thread, sa)) {
		pthread_cond_destroy(&sa->cond);
		pthread_mutex_destroy(&sa->lock);
		return -EAGAIN;
	}
	return 0;
}

static void scan_ahead_end(struct scan_ahead *sa)
{
	pthread_mutex_lock(&sa->lock);
	sa->stop = true;
	pthread_cond_broadcast(&sa->cond);
	pthread_mutex_unlock(&sa->lock);
	pthread_join(sa->thread, NULL);
	for (size_t i = 0; i < SCAN_BATCHES; i++) {
		for (size_t j = 0; j < sa->b[i].n; j++)
			sa->c->api->json_free(sa->b[i].items[j].v);
		free(sa->b[i].items);
		free(sa->b[i].path);
		retisc_strbuf__release(&sa->b[i].text);
	}
	pthread_cond_destroy(&sa->cond);
	pthread_mutex_destroy(&sa->lock);
}

static int sort_run(void *priv, const struct retisc_api *api, int argc, char **argv)
{
	struct retisc_sort_opts so = {0};
	struct sort_ctx c = {.api = api, .multiline = true};
	uint64_t max_buffer = DEFAULT_MAX_BUFFER, forget_sec = DEFAULT_FORGET_SEC;
	uint64_t max_ids = DEFAULT_MAX_IDS;
	bool print = false, utc = false, ll = false, signals = false;
	const struct retisc_proc_opt opts[] = {
		RETISC_PROC_U64("max-buffer", 0, &max_buffer, "<N>", SIZE_MAX),
		RETISC_PROC_STRING("out", 'o', &c.out_path, "<OUT>"),
		RETISC_PROC_FLAG("print", 0, &print),
		RETISC_PROC_FORMAT(&c.multiline),
		RETISC_PROC_FLAG("utc", 0, &utc),
		RETISC_PROC_FLAG(NULL, 'e', &ll),
		RETISC_PROC_FLAG("deltas", 0, &c.deltas),
		RETISC_PROC_FLAG("diff", 0, &c.diff),
		RETISC_PROC_FLAG("mark-lost", 0, &c.lost),
		RETISC_PROC_U64("forget-after", 0, &forget_sec, "<SEC>", UINT64_MAX / NSEC_PER_SEC),
		RETISC_PROC_U64("max-ids", 0, &max_ids, "<N>", SIZE_MAX),
		{},
	};
	struct retisc_proc_loop loop = {
		.line = sort_line,
		.priv = &c,
		.skip_read_errors = true,
	};
	struct scan_ahead sa = {.c = &c};
	struct retisc_proc_signals sig;
	struct retisc_pager pager = {0};
	const char *input;
	int ret, status = 0;

	(void)priv;
	retisc_out__fd(&c.json, -1, NULL);
	retisc_out__fd(&c.std, STDOUT_FILENO, "stdout");
	ret = retisc_proc__parse(argc, argv, opts, usage, &loop.keep_going, &input);
	if (ret >= 0)
		return ret;
	c.keep_going = loop.keep_going;
	sa.keep_going = loop.keep_going;
	so.max_buffer = (size_t)max_buffer;
	so.forget_ns = forget_sec * NSEC_PER_SEC;
	so.max_ids = (size_t)max_ids;
	so.deltas = c.deltas;
	so.diff = c.diff;
	so.lost = c.lost;

	c.rd = retisc_proc__open(api, input);
	if (!c.rd)
		return 1;
	if (api->reader_kind(c.rd) == RETISC_READER_SERIES) {
		api->log(RETISC_LOG_INFO, "File already sorted");
		goto out;
	}
	if (c.out_path) {
		if (api->reader_compat(c.rd) != COMPAT_CURRENT) {
			api->log(RETISC_LOG_ERROR,
				 "Storing sorted events is not supported (input event format is "
				 "too old, remove `--out`)");
			status = 1;
			goto out;
		}
		if (same_file(api->reader_path(c.rd), c.out_path)) {
			api->log(RETISC_LOG_ERROR,
				 "Cannot sort a file in-place. Please specify an output file "
				 "that's different to the input one.");
			status = 1;
			goto out;
		}
		if (retisc_out__open(&c.json, c.out_path)) {
			api->log(RETISC_LOG_ERROR, "Could not create or open '%s'", c.out_path);
			status = 1;
			goto out;
		}
		/* The page cache copy of the series file on the other CPU. */
		retisc_out__async(&c.json);
	}
	if (!c.out_path || print) {
		c.text = api->text_new(api, c.multiline, ll, utc);
		if (!c.text) {
			api->log(RETISC_LOG_ERROR, "%s", strerror(errno));
			status = 1;
			goto out;
		}
		retisc_pager__start(&pager);
	}
	/* Only the series file: lines are copied through, not parsed. */
	if (!c.text && RETISC_API_HAS(api, reader_parse_line)) {
		so.emit_json = emit_json;
		so.deltas = so.diff = so.lost = false;
		loop.raw = sort_raw;
	}
	c.sort = retisc_sort__new(api, &so, emit, &c);
	if (!c.sort) {
		api->log(RETISC_LOG_ERROR, "%s", strerror(errno));
		status = 1;
		goto out;
	}

	retisc_proc__signals_install(&sig);
	signals = true;
	/* Errors were logged as they came and c.fatal tells what follows. */
	if (loop.raw && sysconf(_SC_NPROCESSORS_ONLN) > 1 && !scan_ahead_start(&sa)) {
		sort_scan_ahead(&sa);
		scan_ahead_end(&sa);
	} else {
		retisc_proc__each(api, c.rd, &loop, &c.status);
	}
	/* Whatever was read is written, also after an error or a signal. */
	if (!c.fatal) {
		ret = retisc_sort__finish(c.sort);
		/* emit() reports its own failures (c.fatal). */
		if (ret < 0 && !c.fatal) {
			api->log(RETISC_LOG_ERROR, "%s", strerror(-ret));
			c.status = 1;
		}
	}
	log_counts(&c, c.sort);
	status = c.status;
out:
	if (c.json.fd >= 0 && retisc_out__finish(api, &c.json, 0, c.fatal))
		status = 1;
	if (retisc_out__finish(api, &c.std, 0, c.fatal))
		status = 1;
	/* A reader that went away ends the command silently. */
	if (c.json.broken || c.std.broken)
		status = 0;
	retisc_pager__finish(&pager);
	if (signals)
		retisc_proc__signals_restore(&sig);
	retisc_sort__free(c.sort);
	if (c.text)
		api->text_free(c.text);
	api->reader_free(c.rd);
	for (size_t i = 0; i < c.n_paths; i++)
		free(c.paths[i]);
	free(c.paths);
	retisc_strbuf__release(&c.sb);
	return status;
}

RETISC_PLUGIN_DEFINE_PROCESSOR("sort", "0.1.0", "group the events of each packet into series",
			       sort_run)
