/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Text rendering of events (doc/events.md §4 texts of the core sections, §5
 * layout) and of sorted series (doc/processing.md §2.6). Section texts other
 * than the core's come from the formatters registered in the registry.
 */
#ifndef __RETISC_RENDER_H
#define __RETISC_RENDER_H

#include <stdbool.h>
#include <stdint.h>

#include <retisc/plugin.h>

#include "registry.h"

struct retisc_render_opts {
	bool multiline;	 /* --format multi-line (default) */
	bool link_layer; /* -e */
	bool utc;	 /* --utc */
};

/* Rendering state: options plus the clock offset used by --utc. */
struct retisc_renderer {
	const struct retisc_registry *reg;
	struct retisc_render_opts opts;
	bool has_offset;
	int64_t offset_sec; /* clock_monotonic_offset, 0 <= nsec < 1e9 */
	int64_t offset_nsec;
};

void retisc_renderer__init(struct retisc_renderer *r, const struct retisc_registry *reg,
			   const struct retisc_render_opts *opts);
/* Set the --utc offset (collect uses its own; print/sort take startup's). */
void retisc_renderer__set_offset(struct retisc_renderer *r, int64_t sec, int64_t nsec);

/*
 * Append the text of one event, without the trailing framing newlines.
 * base_indent is B of doc/events.md §5 (0 for standalone events, 4 for the 2nd
 * and later events of a series); first_prefix, if not NULL, replaces the
 * first line's indentation (sorted output's "  ↳ "). A startup event updates
 * the renderer's offset before it is rendered. Returns 0, -EINVAL (event
 * without `common`, or a formatter failed on a mandatory key; the message is
 * in err if given) or -ENOMEM.
 */
int retisc_renderer__event(struct retisc_renderer *r, const struct retisc_json *event,
			   unsigned int base_indent, const char *first_prefix,
			   struct retisc_strbuf *out);

/* Append one event and its framing: "\n", plus "\n" in multi-line mode. */
int retisc_renderer__event_framed(struct retisc_renderer *r, const struct retisc_json *event,
				  struct retisc_strbuf *out);

/* Append a series (array of events) as doc/processing.md §2.6 text, framed. */
int retisc_renderer__series_framed(struct retisc_renderer *r, const struct retisc_json *series,
				   struct retisc_strbuf *out);

/* Core section formatters, registered by retisc_registry__new(). */
int retisc_render__common(void *priv, const struct retisc_json *section,
			  const struct retisc_fmt *f);
int retisc_render__kernel(void *priv, const struct retisc_json *section,
			  const struct retisc_fmt *f);
int retisc_render__userspace(void *priv, const struct retisc_json *section,
			     const struct retisc_fmt *f);
int retisc_render__tracking(void *priv, const struct retisc_json *section,
			    const struct retisc_fmt *f);
int retisc_render__startup(void *priv, const struct retisc_json *section,
			   const struct retisc_fmt *f);
/* `#{id:x} (skb {skb:x})` of doc/events.md §4.4 from a {orig_head,timestamp,skb}
 * object; used by the skb-tracking plugin's formatter too (it re-implements
 * it through the API, plugins cannot call this). */
int retisc_render__tracking_id(struct retisc_strbuf *out, const struct retisc_json *skb_obj);

/*
 * Register the sections whose text the renderer writes (common, kernel,
 * userspace, tracking, startup) as core sections of reg. 0 or -errno.
 */
int retisc_render__register_core_sections(struct retisc_registry *reg);

#endif
