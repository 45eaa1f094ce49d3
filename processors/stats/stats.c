// SPDX-License-Identifier: GPL-2.0-only
/*
 * stats processor (doc/processing.md §3): counts events per probe, per file of a
 * rotated set (one block per startup event) or for a whole series file.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <retisc/plugin.h>
#include <retisc/plugin_util.h>
#include <retisc/procio.h>
#include <retisc/strbuf.h>

#define NSEC_PER_SEC 1000000000LL

struct probe_count {
	char *name;
	uint64_t n;
};

/* One file of a set, or the whole series file. */
struct block {
	char *version, *cmdline;
	char *own; /* retisc_version, NULL in Retis files */
	bool split;
	uint64_t split_id;
	bool has_offset;
	int64_t off_sec, off_nsec;
	uint64_t series, events;
	uint64_t first, last;
	struct probe_count *probes;
	size_t n_probes;
};

struct stats {
	const struct retisc_api *api;
	int kind; /* enum retisc_reader_kind of the input */
	struct block *blocks;
	size_t n_blocks;
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: retisc stats [OPTIONS] [INPUT]\n"
		   "\n"
		   "Statistics of an events or series file.\n"
		   "\n"
		   "Options:\n"
		   "      --keep-going   report malformed events and go on (exit 1 at the end)\n"
		   "  -h, --help         print help\n");
}

static void block_free(struct block *b)
{
	free(b->version);
	free(b->own);
	free(b->cmdline);
	for (size_t i = 0; i < b->n_probes; i++)
		free(b->probes[i].name);
	free(b->probes);
}

static char *dup_or(const char *s, const char *fallback)
{
	return strdup(s ? s : fallback);
}

/* A new block from a startup event. */
static int block_new(struct stats *st, const struct retisc_json *ev)
{
	const struct retisc_api *api = st->api;
	const struct retisc_json *su = api->json_obj_get(ev, "startup");
	const struct retisc_json *off = api->json_obj_get(su, "clock_monotonic_offset");
	const struct retisc_json *split = api->json_obj_get(su, "split_file");
	struct block *b;

	b = realloc(st->blocks, (st->n_blocks + 1) * sizeof(*b));
	if (!b)
		return -ENOMEM;
	st->blocks = b;
	b = &st->blocks[st->n_blocks++];
	memset(b, 0, sizeof(*b));
	b->version = dup_or(api->json_get_str(api->json_obj_get(su, "retis_version"), NULL), "");
	b->cmdline = dup_or(api->json_get_str(api->json_obj_get(su, "cmdline"), NULL), "");
	if (!b->version || !b->cmdline)
		return -ENOMEM;
	if (api->json_get_str(api->json_obj_get(su, "retisc_version"), NULL)) {
		b->own = strdup(api->json_get_str(api->json_obj_get(su, "retisc_version"), NULL));
		if (!b->own)
			return -ENOMEM;
	}
	b->split = api->json_type(split) == RETISC_JSON_OBJECT &&
		   api->json_get_u64(api->json_obj_get(split, "id"), &b->split_id);
	b->has_offset = api->json_get_i64(api->json_obj_get(off, "sec"), &b->off_sec) &&
			api->json_get_i64(api->json_obj_get(off, "nsec"), &b->off_nsec);
	return 0;
}

static int count_probe(struct block *b, const char *type, const char *symbol)
{
	struct probe_count *p;
	size_t tl = strlen(type);

	for (size_t i = 0; i < b->n_probes; i++) {
		const char *n = b->probes[i].name;

		if (!strncmp(n, type, tl) && n[tl] == '/' && !strcmp(n + tl + 1, symbol)) {
			b->probes[i].n++;
			return 0;
		}
	}
	p = realloc(b->probes, (b->n_probes + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	b->probes = p;
	p = &p[b->n_probes];
	if (asprintf(&p->name, "%s/%s", type, symbol) < 0)
		return -ENOMEM;
	p->n = 1;
	b->n_probes++;
	return 0;
}

/* Add one event to block b (startup events are not counted). */
static int count_event(struct stats *st, struct block *b, const struct retisc_json *ev)
{
	const struct retisc_api *api = st->api;
	const struct retisc_json *probe = api->json_obj_get(ev, "kernel");
	const char *type, *symbol;
	uint64_t ts;

	if (api->json_type(api->json_obj_get(ev, "startup")) == RETISC_JSON_OBJECT)
		return 0;
	if (api->json_type(probe) != RETISC_JSON_OBJECT)
		probe = api->json_obj_get(ev, "userspace");
	type = api->json_get_str(api->json_obj_get(probe, "probe_type"), NULL);
	symbol = api->json_get_str(api->json_obj_get(probe, "symbol"), NULL);
	/*
	 * retisc's nft events from trace messages have no probe (no kernel
	 * section; doc/collectors.md §7.7): counted under their source,
	 * recognised by their trace id (doc/processing.md §3).
	 */
	if ((!type || !symbol) && api->json_obj_get(api->json_obj_get(ev, "nft"), "trace_id")) {
		type = "netlink";
		symbol = "nf_tables:trace";
	}
	if (!api->json_get_u64(api->json_obj_get(api->json_obj_get(ev, "common"), "timestamp"),
			       &ts)) {
		api->log(RETISC_LOG_WARN,
			 "Error gathering stats from event: Invalid event: no common section");
		return 0;
	}
	if (!type || !symbol) {
		api->log(RETISC_LOG_WARN, "Error gathering stats from event: Invalid event: no "
					  "kernel or userspace section");
		return 0;
	}
	if (!b->events++)
		b->first = ts;
	if (ts > b->last)
		b->last = ts;
	return count_probe(b, type, symbol);
}

static int add_line(struct stats *st, const struct retisc_json *v, char *err, size_t errsz)
{
	const struct retisc_api *api = st->api;
	struct block *b;
	size_t n;
	int ret;

	if (st->kind == RETISC_READER_EVENTS) {
		if (api->json_type(api->json_obj_get(v, "startup")) == RETISC_JSON_OBJECT)
			return block_new(st, v);
		if (!st->n_blocks) {
			snprintf(err, errsz, "missing startup event");
			return -EINVAL;
		}
		return count_event(st, &st->blocks[st->n_blocks - 1], v);
	}

	/* Series file: line 1 is [startup] (doc/files.md §7). */
	n = api->json_arr_len(v);
	if (!st->n_blocks) {
		const struct retisc_json *last = n ? api->json_arr_get(v, n - 1) : NULL;

		if (api->json_type(api->json_obj_get(last, "startup")) != RETISC_JSON_OBJECT) {
			snprintf(err, errsz, "missing startup event");
			return -EINVAL;
		}
		return block_new(st, last);
	}
	b = &st->blocks[0];
	b->series++;
	for (size_t i = 0; i < n; i++) {
		ret = count_event(st, b, api->json_arr_get(v, i));
		if (ret)
			return ret;
	}
	return 0;
}

/* doc/events.md §4.1: timestamp + offset as a UTC date with microseconds. */
static int put_time(struct retisc_strbuf *sb, const struct block *b, uint64_t ts)
{
	int64_t sec, nsec;
	char date[64];
	struct tm tm;
	time_t t;

	if (!b->has_offset)
		goto decimal;
	sec = (int64_t)(ts / NSEC_PER_SEC) + b->off_sec + b->off_nsec / NSEC_PER_SEC;
	nsec = (int64_t)(ts % NSEC_PER_SEC) + b->off_nsec % NSEC_PER_SEC;
	if (nsec < 0) {
		nsec += NSEC_PER_SEC;
		sec--;
	} else if (nsec >= NSEC_PER_SEC) {
		nsec -= NSEC_PER_SEC;
		sec++;
	}
	t = (time_t)sec;
	if (!gmtime_r(&t, &tm) || !strftime(date, sizeof(date), "%F %T", &tm))
		goto decimal;
	return retisc_strbuf__printf(sb, "%s.%06" PRId64, date, nsec / 1000);
decimal:
	return retisc_strbuf__printf(sb, "%" PRIu64, ts);
}

static int probe_cmp(const void *a, const void *b)
{
	const struct probe_count *x = a, *y = b;

	/* Count descending; ties by name so that runs compare equal. */
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int render(const struct stats *st, struct retisc_strbuf *sb)
{
	int err = 0;

	for (size_t i = 0; i < st->n_blocks && !err; i++) {
		struct block *b = &st->blocks[i];

		/* A Retis file reads as Retis prints it; a retisc file says so. */
		if ((!b->split || !b->split_id) && b->own)
			err = retisc_strbuf__printf(sb,
						    "retisc version: %s (Retis %s event format)\n"
						    "Retis cmdline: %s\n",
						    b->own, b->version, b->cmdline);
		else if (!b->split || !b->split_id)
			err = retisc_strbuf__printf(sb, "Retis version: %s\nRetis cmdline: %s\n",
						    b->version, b->cmdline);
		if (!err && b->split)
			err = retisc_strbuf__printf(sb, "\nSplit index: %" PRIu64 "\n",
						    b->split_id);
		if (!err && b->series)
			err = retisc_strbuf__printf(sb, "Number of series: %" PRIu64 "\n",
						    b->series);
		if (!err)
			err = retisc_strbuf__printf(sb, "Number of events: %" PRIu64 "\n",
						    b->events);
		if (err || !b->events)
			continue;
		err = retisc_strbuf__puts(sb, "First event at: ") ?: put_time(sb, b, b->first) ?:
		      retisc_strbuf__puts(sb, "\nLast event at: ") ?: put_time(sb, b, b->last) ?:
		      retisc_strbuf__puts(sb, "\nProbes:\n");
		qsort(b->probes, b->n_probes, sizeof(*b->probes), probe_cmp);
		for (size_t j = 0; j < b->n_probes && !err; j++)
			err = retisc_strbuf__printf(sb, "  %s: %" PRIu64 "\n", b->probes[j].name,
						    b->probes[j].n);
	}
	return err;
}

/* retisc_proc_line_fn: count one event, or one series. */
static int stats_line(void *priv, struct retisc_json *v, char *err, size_t errsz)
{
	struct stats *st = priv;
	int ret = add_line(st, v, err, errsz);

	st->api->json_free(v);
	/* Out of memory: the loop stops and leaves the message to us. */
	if (ret && ret != -EINVAL)
		st->api->log(RETISC_LOG_ERROR, "%s", strerror(-ret));
	return ret;
}

static int stats_run(void *priv, const struct retisc_api *api, int argc, char **argv)
{
	static const struct retisc_proc_opt opts[] = {{}};
	struct stats st = {.api = api};
	struct retisc_proc_loop loop = {
		.line = stats_line,
		.priv = &st,
		.skip_read_errors = true,
	};
	struct retisc_proc_signals sig;
	struct retisc_pager pager;
	struct retisc_reader *rd;
	struct retisc_out out;
	const char *input;
	int ret, status = 0;

	(void)priv;
	ret = retisc_proc__parse(argc, argv, opts, usage, &loop.keep_going, &input);
	if (ret >= 0)
		return ret;
	rd = retisc_proc__open(api, input);
	if (!rd)
		return 1;
	st.kind = api->reader_kind(rd);

	retisc_proc__signals_install(&sig);
	/* Errors were logged as they came; what was read is reported, also
	 * after an error or a signal. */
	retisc_proc__each(api, rd, &loop, &status);

	retisc_pager__start(&pager);
	retisc_out__fd(&out, STDOUT_FILENO, "stdout");
	/* The report is small: render it straight into the output buffer. */
	ret = render(&st, &out.buf);
	if (retisc_out__finish(api, &out, ret, false))
		status = 1;
	retisc_pager__finish(&pager);
	retisc_proc__signals_restore(&sig);

	for (size_t i = 0; i < st.n_blocks; i++)
		block_free(&st.blocks[i]);
	free(st.blocks);
	api->reader_free(rd);
	return status;
}

RETISC_PLUGIN_DEFINE_PROCESSOR("stats", "0.1.0", "statistics of an events or series file",
			       stats_run)
