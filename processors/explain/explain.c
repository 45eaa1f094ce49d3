// SPDX-License-Identifier: GPL-2.0-only
/*
 * explain processor (doc/processing.md §7): one line per packet series
 * with its fate, then per-flow summaries, as text or JSON lines. The
 * plugin also registers `report` (report.c), which renders the same
 * analysis as an HTML page.
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

#include "explain.h"
#include "input.h"
#include "render.h"

#define DEFAULT_MAX_BUFFER 10000
#define DEFAULT_WINDOW_MS 200
#define DEFAULT_MAX_FLOWS 10000

struct explain_ctx {
	const struct retisc_api *api;
	bool json;
	struct retisc_out out;
	struct retisc_strbuf sb;
	bool hint_used[16];
	int err;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: retisc explain [OPTIONS] [INPUT]\n"
		"\n"
		"Where did each packet go: the fate of every packet series of an events or\n"
		"series file, then per-flow summaries (doc/processing.md §7).\n"
		"\n"
		"Options:\n"
		"      --format <FORMAT>      text or json (JSON lines) [default: text]\n"
		"      --max-buffer <N>       events the sort step buffers [default: %d]\n"
		"      --in-flight <MS>       a packet last seen this close to the end of the\n"
		"                             collection is in flight, not vanished [default: %d]\n"
		"      --max-flows <N>        flows kept apart, the rest summed as one [default: "
		"%d]\n"
		"      --keep-going           report malformed events and go on (exit 1 at the "
		"end)\n"
		"  -h, --help                 print help\n",
		DEFAULT_MAX_BUFFER, DEFAULT_WINDOW_MS, DEFAULT_MAX_FLOWS);
}

static int write_sb(struct explain_ctx *c)
{
	int err = retisc_out__write(&c->out, c->sb.buf, c->sb.len);

	retisc_strbuf__reset(&c->sb);
	return err;
}

static int on_verdict(void *ctx, const struct retisc_xp_verdict *v,
		      const struct retisc_json *series)
{
	struct explain_ctx *c = ctx;
	int err;

	(void)series;
	if (v->fate == RETISC_FATE_VANISHED && v->hint >= 0 && v->hint < 16)
		c->hint_used[v->hint] = true;
	err = c->json ? retisc_xp_render__verdict_json(c->api, v, &c->sb)
		      : retisc_xp_render__verdict_text(v, &c->sb);
	return err ?: write_sb(c);
}

static int explain_run(void *priv, const struct retisc_api *api, int argc, char **argv)
{
	uint64_t max_buffer = DEFAULT_MAX_BUFFER, window = DEFAULT_WINDOW_MS;
	uint64_t max_flows = DEFAULT_MAX_FLOWS;
	const char *format = NULL, *input;
	bool keep_going = false;
	const struct retisc_proc_opt opts[] = {
		RETISC_PROC_STRING("format", 0, &format, "<FORMAT>"),
		RETISC_PROC_U64("max-buffer", 0, &max_buffer, "<N>", SIZE_MAX),
		RETISC_PROC_U64("in-flight", 0, &window, "<MS>", UINT64_MAX / 1000000),
		RETISC_PROC_U64("max-flows", 0, &max_flows, "<N>", SIZE_MAX),
		{},
	};
	struct explain_ctx c = {.api = api};
	struct retisc_xp_opts xo = {0};
	struct retisc_xp_read_opts ro = {.name = "explain"};
	struct retisc_pager pager;
	struct retisc_proc_signals sig;
	struct retisc_reader *rd;
	struct retisc_xp *x;
	int ret, status;

	(void)priv;
	ret = retisc_proc__parse(argc, argv, opts, usage, &keep_going, &input);
	if (ret >= 0)
		return ret;
	if (format && strcmp(format, "text") && strcmp(format, "json")) {
		fprintf(stderr, "error: invalid value '%s' for '--format <FORMAT>' (text, json)\n",
			format);
		return 2;
	}
	c.json = format && !strcmp(format, "json");
	xo.window_ns = window * 1000000;
	xo.max_flows = (size_t)max_flows;
	ro.max_buffer = (size_t)max_buffer;
	ro.keep_going = keep_going;

	rd = retisc_proc__open(api, input);
	if (!rd)
		return 1;
	x = retisc_xp__new(api, &xo, on_verdict, &c);
	if (!x) {
		api->log(RETISC_LOG_ERROR, "%s", strerror(errno));
		api->reader_free(rd);
		return 1;
	}
	retisc_pager__start(&pager);
	retisc_out__fd(&c.out, STDOUT_FILENO, "stdout");
	retisc_xp__signals_install(&sig);
	status = retisc_xp__read(api, rd, x, &ro);
	if (!c.out.broken) {
		ret = c.json ? retisc_xp_render__summary_json(api, x, &c.sb)
			     : retisc_xp_render__summary_text(x, c.hint_used, &c.sb);
		if (!ret)
			ret = write_sb(&c);
	} else {
		ret = -EPIPE;
	}
	if (retisc_out__finish(api, &c.out, ret, false))
		status = 1;
	if (c.out.broken)
		status = 0;
	retisc_xp__signals_restore(&sig);
	retisc_pager__finish(&pager);
	retisc_strbuf__release(&c.sb);
	retisc_xp__free(x);
	api->reader_free(rd);
	return status;
}

/* Two processors in one plugin: they share the analysis. */
static int explain_plugin_init(struct retisc_plugin *plugin, const struct retisc_api *api)
{
	const struct retisc_processor_desc explain = {
		.sz = sizeof(explain),
		.name = "explain",
		.summary = "the fate of each packet (delivered, dropped, vanished...) and per-flow "
			   "summaries",
		.run = explain_run,
	};
	const struct retisc_processor_desc report = {
		.sz = sizeof(report),
		.name = "report",
		.summary = "a self-contained HTML report: flows, fates, a packet's journey, "
			   "latencies",
		.run = retisc_report__run,
	};

	return api->register_processor(plugin, &explain)
		       ?: api->register_processor(plugin, &report);
}

static const struct retisc_plugin_desc explain_plugin_desc = {
	.sz = sizeof(explain_plugin_desc),
	.abi_version = RETISC_ABI_VERSION,
	.name = "explain",
	.version = "0.1.0",
	.init = explain_plugin_init,
};

RETISC_PLUGIN_DEFINE(explain_plugin_desc)
