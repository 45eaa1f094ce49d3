// SPDX-License-Identifier: GPL-2.0-only
/*
 * print processor (doc/processing.md §1): renders every event of an events file
 * (startup events included) or every series of a sorted file as text.
 */
#include <errno.h>
#include <stdio.h>
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
	struct retisc_proc_signals sig;
	struct retisc_pager pager;
	struct retisc_reader *rd;
	const char *input;
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

	retisc_proc__signals_install(&sig);
	retisc_pager__start(&pager);
	retisc_out__fd(&p.out, STDOUT_FILENO, "stdout");
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
	api->text_free(p.text);
	api->reader_free(rd);
	return status;
}

RETISC_PLUGIN_DEFINE_PROCESSOR("print", "0.1.0", "print an events or sorted file as text",
			       print_run)
