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
	fprintf(f, "Usage: retisc stitch [OPTIONS] [NAME=]INPUT [NAME=]INPUT...\n"
		   "\n"
		   "Merge the events of several hosts into journeys: series of different hosts\n"
		   "joined by packet identity, on the first host's clock (offsets estimated from\n"
		   "the matched packets). One INPUT per host: an events file, or\n"
		   "nats://HOST/STREAM?host=NAME. NAME labels the host (default: the host= value,\n"
		   "else the INPUT).\n"
		   "\n"
		   "Options:\n"
		   "      --window MS    how far apart two hosts' sightings of one packet may be\n"
		   "                     once clocks are aligned (default 1000)\n"
		   "      --cross        only journeys that visit more than one host\n"
		   "      --format FMT   single-line|multi-line (default multi-line)\n"
		   "      --utc          print times as UTC dates\n"
		   "  -e                 print link-layer information\n"
		   "      --keep-going   report malformed events and go on (exit 1 at the end)\n"
		   "  -h, --help         print help\n");
}

/* The label of an operand: NAME=, else host= of a URL, else the input. */
static void operand_split(const char *arg, char *name, size_t sz, const char **input)
{
	const char *eq = strchr(arg, '='), *scheme = strstr(arg, "://"), *h;

	if (eq && (!scheme || eq < scheme) && eq != arg) {
		snprintf(name, sz, "%.*s", (int)(eq - arg), arg);
		*input = eq + 1;
		return;
	}
	*input = arg;
	h = scheme ? strstr(arg, "host=") : NULL;
	if (h && (h[-1] == '?' || h[-1] == '&'))
		snprintf(name, sz, "%.*s", (int)strcspn(h + 5, "&"), h + 5);
	else
		snprintf(name, sz, "%s", arg);
}

static int read_host(const struct retisc_api *api, struct stitch *s, const char *arg,
		     bool keep_going, int *status)
{
	struct retisc_reader *rd;
	struct retisc_json *ev;
	const char *input;
	char name[256], err[1024];
	int host, ret;

	operand_split(arg, name, sizeof(name), &input);
	host = stitch__add_host(s, name);
	if (host < 0) {
		api->log(RETISC_LOG_ERROR, "%s: %s", arg, strerror(-host));
		return host;
	}
	rd = retisc_proc__open(api, input);
	if (!rd)
		return -EINVAL;
	if (api->reader_kind(rd) != RETISC_READER_EVENTS) {
		api->log(RETISC_LOG_ERROR, "%s: stitch reads events files, not series", input);
		api->reader_free(rd);
		return -EINVAL;
	}
	while ((ret = retisc_proc__read(api, rd, &ev, err, sizeof(err))) > 0) {
		ret = stitch__add_event(s, host, ev);
		if (ret)
			break;
	}
	api->reader_free(rd);
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
		api->log(RETISC_LOG_INFO,
			 "clock of %s: %+.3f ms to align with %s (%zu matched packet(s), %s)",
			 stitch__host_name(s, (int)h), (double)o->ns / 1e6, stitch__host_name(s, 0),
			 o->matches, o->two_way ? "both ways" : "one way: includes the link delay");
	}
}

static int stitch_run(void *priv, const struct retisc_api *api, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"window", required_argument, NULL, 'w'},
		{"cross", no_argument, NULL, 'c'},
		{"format", required_argument, NULL, 'f'},
		{"utc", no_argument, NULL, 'u'},
		RETISC_PROC_COMMON_LONGOPTS,
		{},
	};
	bool keep_going = false, cross = false, multiline = true, utc = false, ll = false;
	unsigned long long window_ms = 1000;
	struct retisc_proc_signals sig;
	struct retisc_text *t = NULL;
	struct stitch *s = NULL;
	struct retisc_out out;
	int opt, ret, status = 0;
	char *end;

	(void)priv;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "eh", longopts, NULL)) != -1) {
		switch (opt) {
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
		ret = read_host(api, s, argv[i], keep_going, &status);
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
	retisc_proc__signals_restore(&sig);
	api->text_free(t);
	stitch__free(s);
	return status;
}

RETISC_PLUGIN_DEFINE_PROCESSOR("stitch", "0.1.0",
			       "merge several hosts' events into cross-host journeys", stitch_run)
