// SPDX-License-Identifier: GPL-2.0-only
/*
 * schema processor (doc/processing.md §5): print the JSON Schema of one event,
 * pretty-printed with 2-space indentation and no trailing newline.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "event_schema.h" /* generated from core/events/event_schema.json */
#include <retisc/plugin.h>
#include <retisc/plugin_util.h>
#include <retisc/procio.h>
#include <retisc/strbuf.h>

static int put_indent(struct retisc_strbuf *sb, unsigned int n)
{
	return retisc_strbuf__printf(sb, "%*s", (int)n, "");
}

/* The layout of serde_json's pretty printer, which Retis uses: one member
 * per line, "key": value, empty containers as {} and []. */
static int pretty(const struct retisc_api *api, const struct retisc_json *v, unsigned int indent,
		  struct retisc_strbuf *sb)
{
	int type = api->json_type(v);
	bool obj = type == RETISC_JSON_OBJECT;
	size_t n;
	int err;

	if (!obj && type != RETISC_JSON_ARRAY)
		return api->json_dump(v, sb);
	n = obj ? api->json_obj_len(v) : api->json_arr_len(v);
	if (!n)
		return retisc_strbuf__puts(sb, obj ? "{}" : "[]");
	err = retisc_strbuf__puts(sb, obj ? "{\n" : "[\n");
	for (size_t i = 0; i < n && !err; i++) {
		err = put_indent(sb, indent + 2);
		if (!err && obj) {
			struct retisc_json *key = api->json_new_str(api->json_obj_key(v, i));

			err = key ? api->json_dump(key, sb) : -ENOMEM;
			api->json_free(key);
			if (!err)
				err = retisc_strbuf__puts(sb, ": ");
		}
		if (!err)
			err = pretty(api, obj ? api->json_obj_val(v, i) : api->json_arr_get(v, i),
				     indent + 2, sb);
		if (!err)
			err = retisc_strbuf__puts(sb, i + 1 < n ? ",\n" : "\n");
	}
	if (!err)
		err = put_indent(sb, indent);
	if (!err)
		err = retisc_strbuf__putc(sb, obj ? '}' : ']');
	return err;
}

static int schema_run(void *priv, const struct retisc_api *api, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{},
	};
	struct retisc_proc_signals sig;
	struct retisc_json *doc;
	struct retisc_out out;
	char err[256];
	int opt, ret, status;

	(void)priv;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			printf("Usage: retisc schema\n\nPrint the JSON Schema of an event.\n");
			return 0;
		}
		return 2;
	}
	if (retisc_proc__check_operands(argc, argv, 0))
		return 2;
	doc = api->json_parse(retisc_event_schema, strlen(retisc_event_schema), err, sizeof(err));
	if (!doc) {
		api->log(RETISC_LOG_ERROR, "Invalid built-in schema: %s", err);
		return 1;
	}
	retisc_proc__signals_install(&sig);
	retisc_out__fd(&out, STDOUT_FILENO, "stdout");
	ret = pretty(api, doc, 0, &out.buf);
	api->json_free(doc);
	status = retisc_out__finish(api, &out, ret, false);
	retisc_proc__signals_restore(&sig);
	return status;
}

RETISC_PLUGIN_DEFINE_PROCESSOR("schema", "0.1.0", "print the JSON Schema of an event", schema_run)
