// SPDX-License-Identifier: GPL-2.0-only
/*
 * The plugin host: assembles the plugin API table from the core modules
 * that provide it (json, reader, text rendering, collect env, emitted
 * events, log) and hands it to a new registry, which adds its own
 * registration functions; then the renderer registers its core sections. Only this file knows
 * every provider, so the registry and the renderer do not know each other
 * (doc/architecture.md).
 */
#include <errno.h>
#include <stdlib.h>

#include "btf_info.h"
#include "collect.h"
#include "collect_env.h"
#include <retisc/json.h>
#include "log.h"
#include "reader.h"
#include "registry.h"
#include "render.h"

struct retisc_text {
	struct retisc_renderer r;
};

static struct retisc_text *text_new(const struct retisc_api *api, bool multiline, bool link_layer,
				    bool utc)
{
	struct retisc_render_opts o = {
		.multiline = multiline, .link_layer = link_layer, .utc = utc};
	struct retisc_text *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	retisc_renderer__init(&t->r, retisc_registry__of_api(api), &o);
	return t;
}

static void text_free(struct retisc_text *t)
{
	free(t);
}

static int text_event(struct retisc_text *t, const struct retisc_json *ev, unsigned int base_indent,
		      const char *first_prefix, struct retisc_strbuf *out)
{
	return retisc_renderer__event(&t->r, ev, base_indent, first_prefix, out);
}

static int text_event_framed(struct retisc_text *t, const struct retisc_json *ev,
			     struct retisc_strbuf *out)
{
	return retisc_renderer__event_framed(&t->r, ev, out);
}

static int text_series_framed(struct retisc_text *t, const struct retisc_json *series,
			      struct retisc_strbuf *out)
{
	return retisc_renderer__series_framed(&t->r, series, out);
}

static void text_set_offset(struct retisc_text *t, int64_t sec, int64_t nsec)
{
	retisc_renderer__set_offset(&t->r, sec, nsec);
}

static int reader_kind(const struct retisc_reader *r)
{
	return (int)retisc_reader__kind(r);
}

static int reader_compat(const struct retisc_reader *r)
{
	return (int)retisc_reader__compat(r);
}

static int json_type(const struct retisc_json *v)
{
	return (int)retisc_json__type(v);
}

struct retisc_registry *retisc_registry__new(void)
{
	static const struct retisc_api services = {
		.log = retisc_log,
		.env_has_btf_type = retisc_collect_env__has_btf_type,
		.env_option = retisc_collect_env__option,
		.btf_enum_name = retisc_btf__enum_name,
		.json_new_object = retisc_json__new_object,
		.json_new_array = retisc_json__new_array,
		.json_new_u64 = retisc_json__new_u64,
		.json_new_i64 = retisc_json__new_i64,
		.json_new_bool = retisc_json__new_bool,
		.json_new_str = retisc_json__new_str,
		.json_new_str_lossy = retisc_json__new_str_lossy,
		.json_free = retisc_json__free,
		.json_obj_set = retisc_json__obj_set,
		.json_obj_get = retisc_json__obj_get,
		.json_arr_append = retisc_json__arr_append,
		.json_arr_len = retisc_json__arr_len,
		.json_arr_get = retisc_json__arr_get,
		.json_get_u64 = retisc_json__get_u64,
		.json_get_i64 = retisc_json__get_i64,
		.json_get_bool = retisc_json__get_bool,
		.json_get_str = retisc_json__get_str,
		.json_dump = retisc_json__dump,
		.json_parse = retisc_json__parse,
		.json_obj_len = retisc_json__obj_len,
		.json_obj_key = retisc_json__obj_key,
		.json_obj_val = retisc_json__obj_val,
		.json_obj_take = retisc_json__obj_take,
		.json_obj_insert = retisc_json__obj_insert,
		.json_copy = retisc_json__copy,
		.json_new_double = retisc_json__new_double,
		.json_new_null = retisc_json__new_null,
		.json_new_strn = retisc_json__new_strn,
		.json_get_double = retisc_json__get_double,
		.json_type = json_type,
		.reader_open = retisc_reader__open,
		.reader_next = retisc_reader__next,
		.reader_free = retisc_reader__free,
		.reader_kind = reader_kind,
		.reader_compat = reader_compat,
		.reader_path = retisc_reader__path,
		.reader_line = retisc_reader__line,
		.text_new = text_new,
		.text_free = text_free,
		.text_event = text_event,
		.text_event_framed = text_event_framed,
		.text_series_framed = text_series_framed,
		.text_set_offset = text_set_offset,
		.btf_enum_for_each = retisc_btf__enum_for_each,
		.btf_param_index = retisc_btf__param_index,
		.env_fact = retisc_collect_env__fact,
		.event_emit = retisc_collect__emit,
		.reader_next_line = retisc_reader__next_line,
		.reader_parse_line = retisc_reader__parse_line,
		.json_dump_str = retisc_json__dump_str,
		.json_dump_str_lossy = retisc_json__dump_str_lossy,
		.json_arena_begin = retisc_json__arena_begin,
		.json_arena_end = retisc_json__arena_end,
	};
	struct retisc_registry *reg = retisc_registry__create(&services);
	int err;

	if (!reg)
		return NULL;
	err = retisc_render__register_core_sections(reg);
	if (err) {
		retisc_registry__free(reg);
		errno = -err;
		return NULL;
	}
	return reg;
}
