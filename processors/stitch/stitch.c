// SPDX-License-Identifier: GPL-2.0-only
/*
 * stitch processor (doc/fleet.md §4): `retisc stitch [OPTIONS] INPUT...`,
 * one INPUT per host (a file, or nats://HOST/STREAM?host=NAME), merged into
 * journeys: one packet's events on every host it crossed, on the first
 * host's clock, each event labelled with its host.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <retisc/plugin.h>
#include <retisc/plugin_util.h>
#include <retisc/procio.h>
#include <retisc/strbuf.h>

#include "stitch_engine.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: retisc stitch [OPTIONS] [NAME=]INPUT [NAME=]INPUT...\n"
		"\n"
		"Merge the events of several hosts into journeys: series of different hosts\n"
		"joined by packet identity, on the first host's clock (offsets estimated from\n"
		"the matched packets). One INPUT per host: an events file, or\n"
		"nats://HOST/STREAM[?host=NAME]. NAME labels the host (default: the host= value,\n"
		"else the INPUT). Without NAME=, a stream is split by the hosts that published\n"
		"to it (host name, machine id, boot id).\n"
		"\n"
		"Options:\n"
		"  -o, --out FILE     write the journeys as JSON to FILE (doc/files.md §9)\n"
		"      --print        also print the text when --out is given\n"
		"      --window MS    how far apart two hosts' sightings of one packet may be\n"
		"                     once clocks are aligned (default 1000)\n"
		"      --cross        only journeys that visit more than one host\n"
		"      --format FMT   single-line|multi-line (default multi-line)\n"
		"      --utc          print times as UTC dates\n"
		"  -e                 print link-layer information\n"
		"      --keep-going   report malformed events and go on (exit 1 at the end)\n"
		"  -h, --help         print help\n");
}

/* The label of an operand: NAME=, else host= of a URL, else the input.
 * Returns whether NAME= gave it. */
static bool operand_split(const char *arg, char *name, size_t sz, const char **input)
{
	const char *eq = strchr(arg, '='), *scheme = strstr(arg, "://"), *h;

	if (eq && (!scheme || eq < scheme) && eq != arg) {
		snprintf(name, sz, "%.*s", (int)(eq - arg), arg);
		*input = eq + 1;
		return true;
	}
	*input = arg;
	h = scheme ? strstr(arg, "host=") : NULL;
	if (h && (h[-1] == '?' || h[-1] == '&') && strcspn(h + 5, "&"))
		snprintf(name, sz, "%.*s", (int)strcspn(h + 5, "&"), h + 5);
	else
		snprintf(name, sz, "%s", arg);
	return false;
}

/* Hosts known by their identity (the `fleet` section that the nats reader
 * adds to each run's startup event with annotate=1, doc/fleet.md §3). */
struct fleet_host {
	char *key; /* host \n machine id \n boot id */
	int host;
};

/* A run: its host, and its startup event's index among the host's. */
struct fleet_run {
	char *run;
	int host;
	size_t startup;
};

struct fleet_hosts {
	struct fleet_host *v;
	size_t n;
	struct fleet_run *runs;
	size_t n_runs;
	int cur_run[STITCH_MAX_HOSTS]; /* per host, the run last used, or -1 */
};

static void fleet_hosts__release(struct fleet_hosts *fh)
{
	for (size_t i = 0; i < fh->n; i++)
		free(fh->v[i].key);
	for (size_t i = 0; i < fh->n_runs; i++)
		free(fh->runs[i].run);
	free(fh->v);
	free(fh->runs);
}

/* A run's startup event (of host) is about to be added. */
static int fleet_run__add(struct stitch *s, struct fleet_hosts *fh, const char *run, int host)
{
	struct fleet_run *v = realloc(fh->runs, (fh->n_runs + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	fh->runs = v;
	v[fh->n_runs].run = strdup(run ? run : "");
	if (!v[fh->n_runs].run)
		return -ENOMEM;
	v[fh->n_runs].host = host;
	v[fh->n_runs].startup = stitch__host_startups(s, host);
	fh->cur_run[host] = (int)fh->n_runs++;
	return 0;
}

/*
 * The host of an event that names its run (annotate=1), after switching
 * the host to that run's clock offset; -ENOENT for a run whose startup
 * event was not seen.
 */
static int fleet_run__host(struct stitch *s, struct fleet_hosts *fh, const char *run)
{
	for (size_t i = fh->n_runs; i-- > 0;) {
		const struct fleet_run *r = &fh->runs[i];

		if (strcmp(r->run, run))
			continue;
		if (fh->cur_run[r->host] != (int)i) {
			int err = stitch__use_run(s, r->host, r->startup);

			if (err)
				return err;
			fh->cur_run[r->host] = (int)i;
		}
		return r->host;
	}
	return -ENOENT;
}

/*
 * The host of a run's identity: two runs of one host (same name, machine
 * id and boot id) are one host. A second identity with a name already
 * taken is labelled NAME/BOOT (its boot id's first 8 characters).
 */
static int fleet_host(const struct retisc_api *api, struct stitch *s, struct fleet_hosts *fh,
		      const struct retisc_json *fleet)
{
	const char *name = api->json_get_str(api->json_obj_get(fleet, "host"), NULL);
	const char *mid = api->json_get_str(api->json_obj_get(fleet, "machine_id"), NULL);
	const char *boot = api->json_get_str(api->json_obj_get(fleet, "boot_id"), NULL);
	struct fleet_host *v;
	char key[600], label[300];
	bool taken = false;
	int host;

	name = name ? name : "unknown";
	snprintf(key, sizeof(key), "%s\n%s\n%s", name, mid ? mid : "", boot ? boot : "");
	for (size_t i = 0; i < fh->n; i++) {
		if (!strcmp(fh->v[i].key, key))
			return fh->v[i].host;
		if (!strcmp(stitch__host_name(s, fh->v[i].host), name))
			taken = true;
	}
	if (taken)
		snprintf(label, sizeof(label), "%s/%.8s", name, boot ? boot : "?");
	else
		snprintf(label, sizeof(label), "%s", name);
	v = realloc(fh->v, (fh->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	fh->v = v;
	host = stitch__add_host(s, label);
	if (host < 0)
		return host;
	v[fh->n].key = strdup(key);
	if (!v[fh->n].key)
		return -ENOMEM;
	v[fh->n++].host = host;
	fh->cur_run[host] = -1;
	return host;
}

/*
 * One operand. NAME= makes it one host; otherwise each run's startup event
 * that names its host (a stream read with annotate=1) switches to that
 * host, and what comes before any such startup event is the operand's.
 */
static int read_host(const struct retisc_api *api, struct stitch *s, struct fleet_hosts *fh,
		     const char *arg, bool keep_going, int *status)
{
	struct retisc_strbuf url = {};
	struct retisc_reader *rd;
	struct retisc_json *ev;
	const char *input;
	char name[256], err[1024];
	int host = -1, ret;
	size_t orphans = 0;
	bool named;

	named = operand_split(arg, name, sizeof(name), &input);
	if (!named && !strncmp(input, "nats://", 7)) {
		/* Ask the reader for the publishers' identity (doc/fleet.md §3). */
		ret = retisc_strbuf__printf(&url, "%s%cannotate=1", input,
					    strchr(input, '?') ? '&' : '?');
		if (ret) {
			retisc_strbuf__release(&url);
			return ret;
		}
		input = url.buf;
	}
	rd = retisc_proc__open(api, input);
	retisc_strbuf__release(&url);
	if (!rd)
		return -EINVAL;
	if (api->reader_kind(rd) != RETISC_READER_EVENTS) {
		api->log(RETISC_LOG_ERROR, "%s: stitch reads events files, not series", input);
		api->reader_free(rd);
		return -EINVAL;
	}
	while ((ret = retisc_proc__read(api, rd, &ev, err, sizeof(err))) > 0) {
		struct retisc_json *fleet = api->json_obj_get(ev, "fleet");
		const char *run = api->json_get_str(api->json_obj_get(fleet, "run"), NULL);

		ret = 0;
		if (named || !fleet) {
			if (host < 0)
				ret = host = stitch__add_host(s, name);
		} else if (api->json_obj_get(ev, "startup")) {
			ret = host = fleet_host(api, s, fh, fleet);
			if (host >= 0)
				ret = fleet_run__add(s, fh, run, host);
		} else {
			/* The run's host; the section was the reader's, for us. */
			ret = host = run ? fleet_run__host(s, fh, run) : -ENOENT;
			api->json_free(api->json_obj_take(ev, "fleet"));
		}
		if (ret == -ENOENT) {
			/* Its host is not known: the reader warned that the
			 * run's startup event is gone. */
			orphans++;
			api->json_free(ev);
			continue;
		}
		if (ret < 0) {
			api->log(RETISC_LOG_ERROR, "%s: %s", arg, strerror(-ret));
			api->json_free(ev);
			break;
		}
		ret = stitch__add_event(s, host, ev);
		if (ret)
			break;
	}
	api->reader_free(rd);
	if (orphans)
		api->log(RETISC_LOG_WARN,
			 "%s: %zu event(s) of runs without a startup event left out (host unknown)",
			 arg, orphans);
	if (ret < 0) {
		*status = 1;
		return keep_going && ret != -ENOMEM ? 0 : ret;
	}
	return 0;
}

static int render(const struct retisc_api *api, struct stitch *s, struct retisc_text *t, bool cross,
		  struct retisc_out *out)
{
	struct retisc_strbuf *sb = &out->buf;
	char prefix[600];
	int err = 0;

	for (size_t j = 0; j < stitch__n_journeys(s) && !err; j++) {
		int prev = -1;

		if (cross && stitch__journey_hosts(s, j) < 2)
			continue;
		for (size_t i = 0; i < stitch__journey_len(s, j) && !err; i++) {
			const struct retisc_json *ev;
			int host;

			ev = stitch__journey_event(s, j, i, &host, NULL);
			/* Every event names its host; a change shows both. */
			if (!i)
				snprintf(prefix, sizeof(prefix), "[%s] ",
					 stitch__host_name(s, host));
			else if (host != prev)
				snprintf(prefix, sizeof(prefix), "  \u21b3 [%s \u2192 %s] ",
					 stitch__host_name(s, prev), stitch__host_name(s, host));
			else
				snprintf(prefix, sizeof(prefix), "  \u21b3 [%s] ",
					 stitch__host_name(s, host));
			err = api->text_event(t, ev, i ? 4 : 0, prefix, sb)
				      ?: retisc_strbuf__putc(sb, '\n');
			prev = host;
		}
		err = err ?: retisc_strbuf__putc(sb, '\n');
		if (!err && sb->len >= RETISC_OUT_CHUNK)
			err = retisc_out__flush(out);
	}
	return err;
}

/* Set key to v in obj, which takes v whatever happens; -ENOMEM when v is
 * NULL (an allocation failed) or on failure. */
static int obj_put(const struct retisc_api *api, struct retisc_json *obj, const char *key,
		   struct retisc_json *v)
{
	return v && !api->json_obj_set(obj, key, v) ? 0 : -ENOMEM;
}

/* A new empty object set as obj's key (obj owns it), or NULL. */
static struct retisc_json *obj_section(const struct retisc_api *api, struct retisc_json *obj,
				       const char *key)
{
	struct retisc_json *v = api->json_new_object();

	return obj_put(api, obj, key, v) ? NULL : v;
}

/*
 * The `tracking` section of a sorted series (doc/events.md §4.5), from
 * the first event of the event's series on its own host (tracking ids are
 * per host), with idx counting the events of the whole journey. It goes
 * where sort puts it: after common and kernel/userspace.
 */
static int put_tracking(const struct retisc_api *api, struct retisc_json *ev,
			const struct retisc_json *head, size_t idx)
{
	static const char *const keys[] = {"orig_head", "timestamp", "skb"};
	const struct retisc_json *skb_trk = api->json_obj_get(head, "skb-tracking");
	struct retisc_json *tr, *skb;
	size_t pos, n;
	int err = 0;

	if (!skb_trk || api->json_obj_get(ev, "tracking"))
		return 0;
	n = api->json_obj_len(ev);
	for (pos = 0; pos < n; pos++) {
		const char *key = api->json_obj_key(ev, pos);

		if (strcmp(key, "common") && strcmp(key, "kernel") && strcmp(key, "userspace"))
			break;
	}
	/* ev owns tr from the insertion on, whatever happens. */
	tr = api->json_new_object();
	if (!tr || api->json_obj_insert(ev, pos, "tracking", tr))
		return -ENOMEM;
	skb = obj_section(api, tr, "skb");
	if (!skb)
		return -ENOMEM;
	for (size_t k = 0; k < 3 && !err; k++) {
		uint64_t v = 0;

		retisc_api__get_u64(api, skb_trk, keys[k], &v);
		err = obj_put(api, skb, keys[k], api->json_new_u64(v));
	}
	return err ?: obj_put(api, tr, "idx", api->json_new_u64(idx));
}

/* A host's clock alignment, on its startup events. */
static int put_host(const struct retisc_api *api, struct stitch *s, int host,
		    struct retisc_json *ev)
{
	const struct stitch_offset *o = stitch__offset(s, host);
	struct retisc_json *st = obj_section(api, ev, "stitch");
	int err;

	if (!st)
		return -ENOMEM;
	err = obj_put(api, st, "host", api->json_new_str(stitch__host_name(s, host))) ?:
	      obj_put(api, st, "clock_offset", api->json_new_i64(o->ns)) ?:
	      obj_put(api, st, "matched", api->json_new_u64(o->matches)) ?:
	      obj_put(api, st, "both_ways", api->json_new_bool(o->two_way));
	/* Aligned through another host: which one. */
	if (!err && o->matches && o->via)
		err = obj_put(api, st, "via", api->json_new_str(stitch__host_name(s, o->via)));
	return err;
}

/*
 * Journeys as JSON lines (doc/files.md §9): line 1 is every host's
 * startup events, then one journey per line, a sorted series whose events
 * carry their host and their time on the reference clock.
 */
static int render_json(const struct retisc_api *api, struct stitch *s, bool cross,
		       struct retisc_out *out)
{
	struct retisc_strbuf *sb = &out->buf;
	bool first = true;
	int err = retisc_strbuf__putc(sb, '[');

	for (size_t h = 0; h < stitch__n_hosts(s) && !err; h++) {
		for (size_t k = 0; k < stitch__host_startups(s, (int)h) && !err; k++) {
			struct retisc_json *ev = api->json_copy(stitch__host_startup(s, (int)h, k));

			err = ev ? put_host(api, s, (int)h, ev) : -ENOMEM;
			if (!err && !first)
				err = retisc_strbuf__putc(sb, ',');
			err = err ?: api->json_dump(ev, sb);
			api->json_free(ev);
			first = false;
		}
	}
	err = err ?: retisc_strbuf__puts(sb, "]\n");
	for (size_t j = 0; j < stitch__n_journeys(s) && !err; j++) {
		if (cross && stitch__journey_hosts(s, j) < 2)
			continue;
		err = retisc_strbuf__putc(sb, '[');
		for (size_t i = 0; i < stitch__journey_len(s, j) && !err; i++) {
			struct retisc_json *ev, *st;
			int64_t wall;
			int host;

			ev = api->json_copy(stitch__journey_event(s, j, i, &host, &wall));
			err = ev ? put_tracking(api, ev, stitch__journey_head(s, j, i), i)
				 : -ENOMEM;
			st = err ? NULL : obj_section(api, ev, "stitch");
			err = err ?: !st ? -ENOMEM : 0;
			err = err ?: obj_put(api, st, "host",
					     api->json_new_str(stitch__host_name(s, host))) ?:
				      obj_put(api, st, "time", api->json_new_i64(wall)) ?:
				      obj_put(api, st, "clock_offset",
					      api->json_new_i64(stitch__offset(s, host)->ns));
			if (!err && i)
				err = retisc_strbuf__putc(sb, ',');
			err = err ?: api->json_dump(ev, sb);
			api->json_free(ev);
		}
		err = err ?: retisc_strbuf__puts(sb, "]\n");
		if (!err && sb->len >= RETISC_OUT_CHUNK)
			err = retisc_out__flush(out);
	}
	return err;
}

static void report_offsets(const struct retisc_api *api, struct stitch *s)
{
	for (size_t h = 1; h < stitch__n_hosts(s); h++) {
		const struct stitch_offset *o = stitch__offset(s, (int)h);

		if (!o->matches) {
			api->log(RETISC_LOG_WARN,
				 "clock of %s: no packet matched with %s, not aligned",
				 stitch__host_name(s, (int)h), stitch__host_name(s, 0));
			continue;
		}
		if (o->via)
			api->log(RETISC_LOG_INFO,
				 "clock of %s: %+.3f ms to align with %s, through %s (%zu matched "
				 "packet(s) with %s, %s)",
				 stitch__host_name(s, (int)h), (double)o->ns / 1e6,
				 stitch__host_name(s, 0), stitch__host_name(s, o->via), o->matches,
				 stitch__host_name(s, o->via),
				 o->two_way ? "both ways" : "one way: includes the link delay");
		else
			api->log(RETISC_LOG_INFO,
				 "clock of %s: %+.3f ms to align with %s (%zu matched packet(s), "
				 "%s)",
				 stitch__host_name(s, (int)h), (double)o->ns / 1e6,
				 stitch__host_name(s, 0), o->matches,
				 o->two_way ? "both ways" : "one way: includes the link delay");
	}
}

static int stitch_run(void *priv, const struct retisc_api *api, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"window", required_argument, NULL, 'w'},
		{"cross", no_argument, NULL, 'c'},
		{"format", required_argument, NULL, 'f'},
		{"utc", no_argument, NULL, 'u'},
		{"out", required_argument, NULL, 'o'},
		{"print", no_argument, NULL, 'p'},
		RETISC_PROC_COMMON_LONGOPTS,
		{},
	};
	bool keep_going = false, cross = false, multiline = true, utc = false, ll = false;
	bool print = false;
	const char *out_path = NULL;
	struct fleet_hosts fh = {};
	unsigned long long window_ms = 1000;
	struct retisc_proc_signals sig;
	struct retisc_text *t = NULL;
	struct stitch *s = NULL;
	struct retisc_out out;
	int opt, ret, status = 0;
	char *end;

	(void)priv;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "eho:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			out_path = optarg;
			break;
		case 'p':
			print = true;
			break;
		case 'w':
			window_ms = strtoull(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end || window_ms > 3600000) {
				fprintf(stderr,
					"error: invalid value '%s' for '--window <MS>' (0 to "
					"3600000)\n",
					optarg);
				return 2;
			}
			break;
		case 'c':
			cross = true;
			break;
		case 'f':
			if (!strcmp(optarg, "single-line")) {
				multiline = false;
			} else if (strcmp(optarg, "multi-line")) {
				fprintf(stderr, "error: invalid value '%s' for '--format'\n",
					optarg);
				return 2;
			}
			break;
		case 'u':
			utc = true;
			break;
		case 'e':
			ll = true;
			break;
		default:
			ret = retisc_proc__common_opt(opt, "stitch", usage, &keep_going);
			if (ret >= 0)
				return ret;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "error: stitch needs at least one INPUT (one per host)\n");
		return 2;
	}
	s = stitch__new(api, (int64_t)window_ms * 1000000);
	if (!s)
		return 1;
	retisc_proc__signals_install(&sig);
	for (int i = optind; i < argc && !retisc_proc__stopped(); i++) {
		ret = read_host(api, s, &fh, argv[i], keep_going, &status);
		if (ret) {
			status = 1;
			goto out;
		}
	}
	ret = stitch__run(s);
	if (ret) {
		api->log(RETISC_LOG_ERROR, "stitch: %s", strerror(-ret));
		status = 1;
		goto out;
	}
	report_offsets(api, s);
	if (!stitch__n_hosts(s)) {
		api->log(RETISC_LOG_WARN, "stitch: no event in the input(s)");
		goto out;
	}
	/* Opened once everything is read: the output may be an input. */
	if (out_path) {
		if (retisc_out__open(&out, out_path)) {
			api->log(RETISC_LOG_ERROR, "Could not create or open '%s'", out_path);
			status = 1;
			goto out;
		}
		ret = render_json(api, s, cross, &out);
		if (retisc_out__finish(api, &out, ret, false))
			status = 1;
		if (!print)
			goto out;
	}
	t = api->text_new(api, multiline, ll, utc);
	if (!t) {
		status = 1;
		goto out;
	}
	retisc_out__fd(&out, STDOUT_FILENO, "stdout");
	ret = render(api, s, t, cross, &out);
	if (retisc_out__finish(api, &out, ret, false))
		status = 1;
out:
	fleet_hosts__release(&fh);
	retisc_proc__signals_restore(&sig);
	api->text_free(t);
	stitch__free(s);
	return status;
}

RETISC_PLUGIN_DEFINE_PROCESSOR("stitch", "0.1.0",
			       "merge several hosts' events into cross-host journeys", stitch_run)
