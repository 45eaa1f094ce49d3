// SPDX-License-Identifier: GPL-2.0-only
/*
 * print processor (doc/processing.md §1): renders every event of an events file
 * (startup events included) or every series of a sorted file as text.
 */
#include <errno.h>
#include <getopt.h>
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

static int print_run(void *priv, const struct retisc_api *api, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"format", required_argument, NULL, 'F'},
		{"utc", no_argument, NULL, 'u'},
		RETISC_PROC_COMMON_LONGOPTS,
		{},
	};
	bool multiline = true, utc = false, link_layer = false, keep_going = false;
	struct retisc_proc_signals sig;
	struct retisc_text *text = NULL;
	struct retisc_pager pager;
	struct retisc_reader *rd;
	struct retisc_out out;
	struct retisc_json *v;
	int opt, ret, kind, status = 0;
	char err[1024];

	(void)priv;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "eh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'F':
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
			link_layer = true;
			break;
		default:
			ret = retisc_proc__common_opt(opt, argv[0], usage, &keep_going);
			if (ret >= 0)
				return ret;
		}
	}
	if (retisc_proc__check_operands(argc, argv, 1))
		return 2;
	rd = retisc_proc__open(api, optind < argc ? argv[optind] : NULL);
	if (!rd)
		return 1;
	text = api->text_new(api, multiline, link_layer, utc);
	if (!text) {
		api->reader_free(rd);
		return 1;
	}
	kind = api->reader_kind(rd);

	retisc_proc__signals_install(&sig);
	retisc_pager__start(&pager);
	retisc_out__fd(&out, STDOUT_FILENO, "stdout");
	ret = 0;
	while (!out.broken && (ret = retisc_proc__read(api, rd, &v, err, sizeof(err)))) {
		if (ret > 0) {
			ret = kind == 2 ? api->text_series_framed(text, v, &out.buf)
					: api->text_event_framed(text, v, &out.buf);
			api->json_free(v);
			if (ret == -EINVAL)
				retisc_proc__log_line(api, rd, "cannot render event");
			else if (!ret && out.buf.len >= RETISC_OUT_CHUNK)
				ret = retisc_out__flush(&out);
			if (ret == -EPIPE) {
				ret = 0;
				break;
			}
		}
		if (ret < 0) {
			status = 1;
			if (ret != -EINVAL || !keep_going)
				break;
		}
	}
	/* What was rendered before an error or a signal is still written. */
	if (retisc_out__finish(api, &out, ret < 0 && ret != -EINVAL ? ret : 0, status != 0))
		status = 1;
	retisc_pager__finish(&pager);
	retisc_proc__signals_restore(&sig);
	api->text_free(text);
	api->reader_free(rd);
	return status;
}

RETISC_PLUGIN_DEFINE_PROCESSOR("print", "0.1.0", "print an events or sorted file as text",
			       print_run)
