/* SPDX-License-Identifier: GPL-2.0-only */
/* explain's text and JSON lines (render.c, doc/processing.md §7.5). */
#ifndef __RETISC_EXPLAIN_RENDER_H
#define __RETISC_EXPLAIN_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <retisc/plugin.h>
#include <retisc/strbuf.h>

#include "explain.h"

/* "812ns", "18.4us", "3.25ms", "1.002s". */
void retisc_xp__fmt_ns(uint64_t ns, char *buf, size_t sz);

/* Flow indexes by packets (descending), then key: callers free it. NULL
 * + errno, or NULL with *n 0 when there is no flow. */
size_t *retisc_xp__flow_order(const struct retisc_xp *x, size_t *n);

int retisc_xp_render__verdict_text(const struct retisc_xp_verdict *v, struct retisc_strbuf *sb);
int retisc_xp_render__verdict_json(const struct retisc_api *api, const struct retisc_xp_verdict *v,
				   struct retisc_strbuf *sb);
/* Flows, fates, drop reasons and (text) the vanished hints used. */
int retisc_xp_render__summary_text(const struct retisc_xp *x, const bool hint_used[16],
				   struct retisc_strbuf *sb);
int retisc_xp_render__summary_json(const struct retisc_api *api, const struct retisc_xp *x,
				   struct retisc_strbuf *sb);

/* One flow's key as text: "udp 10.0.0.1:5 <> 10.0.0.2:6", "(other flows)". */
void retisc_xp__flow_name(const struct retisc_xp_flow *f, char *buf, size_t sz);

#endif /* __RETISC_EXPLAIN_RENDER_H */
