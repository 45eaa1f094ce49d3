// SPDX-License-Identifier: GPL-2.0-only
/*
 * report processor (doc/processing.md §8): explain's analysis as one
 * self-contained HTML page: no network access at all (a CSP forbids it,
 * nothing points outside the file), inline SVG charts, a few lines of
 * inline script. Everything that comes from the input is HTML-escaped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <retisc/plugin.h>
#include <retisc/procio.h>
#include <retisc/strbuf.h>

#include "explain.h"
#include "input.h"
#include "render.h"

#define DEFAULT_MAX_BUFFER 10000
#define DEFAULT_WINDOW_MS 200
#define DEFAULT_MAX_FLOWS 10000
/* Series rows the page lists; the counts cover every series. */
#define DEFAULT_MAX_ROWS 1000
/* Series copies held while waiting for their final fate. */
#define MAX_CANDIDATES 64
#define MAX_HISTS 24

struct row {
	uint64_t index;
	char id[40];
	char packet[160];
	enum retisc_fate fate;
	char detail[256];
};

struct candidate {
	uint64_t index;
	struct retisc_json *series;
};

struct report_ctx {
	const struct retisc_api *api;
	uint64_t want; /* --series, 0: first dropped or vanished */
	struct row *rows;
	size_t n_rows, max_rows;
	uint64_t rows_left_out;
	struct candidate cand[MAX_CANDIDATES];
	size_t n_cand;
	struct retisc_json *chosen;
	struct retisc_xp_verdict chosen_v;
	/* Dropped or vanished, but one event or no packet bytes: drawn only
	 * when no better one comes. */
	struct retisc_json *weak;
	struct retisc_xp_verdict weak_v;
	struct retisc_json *fallback; /* first series of two events or more */
	struct retisc_xp_verdict fallback_v;
	bool hint_used[16];
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: retisc report [OPTIONS] -o <OUT> [INPUT]\n"
		"\n"
		"A self-contained HTML report of an events or series file: flows, fates, the\n"
		"journey of one packet, per-hop latencies, drop reasons (doc/processing.md §8).\n"
		"\n"
		"Options:\n"
		"  -o, --out <OUT>            the HTML file to write (required)\n"
		"      --series <N>           the series whose journey is drawn (the [N] of\n"
		"                             explain) [default: the first dropped or vanished]\n"
		"      --max-rows <N>         series listed in the page [default: %d]\n"
		"      --max-buffer <N>       events the sort step buffers [default: %d]\n"
		"      --in-flight <MS>       as explain's [default: %d]\n"
		"      --max-flows <N>        as explain's [default: %d]\n"
		"      --keep-going           report malformed events and go on (exit 1 at the "
		"end)\n"
		"  -h, --help                 print help\n",
		DEFAULT_MAX_ROWS, DEFAULT_MAX_BUFFER, DEFAULT_WINDOW_MS, DEFAULT_MAX_FLOWS);
}

/* ------------------------------------------------------------------------
 * Collecting.
 */

static bool interesting(enum retisc_fate f, bool pending)
{
	return pending || f == RETISC_FATE_DROPPED || f == RETISC_FATE_VANISHED ||
	       f == RETISC_FATE_INCOMPLETE;
}

static int on_seen(void *ctx, const struct retisc_xp_verdict *v, const struct retisc_json *series)
{
	struct report_ctx *c = ctx;
	bool keep;

	if (!c->fallback && v->n_events > 1) {
		c->fallback = c->api->json_copy(series);
		if (!c->fallback)
			return -ENOMEM;
		c->fallback_v = *v;
	}
	if (c->chosen)
		return 0;
	keep = c->want ? v->index == c->want : interesting(v->fate, v->pending);
	if (!keep || c->n_cand == MAX_CANDIDATES)
		return 0;
	c->cand[c->n_cand].index = v->index;
	c->cand[c->n_cand].series = c->api->json_copy(series);
	if (!c->cand[c->n_cand].series)
		return -ENOMEM;
	c->n_cand++;
	return 0;
}

static int on_verdict(void *ctx, const struct retisc_xp_verdict *v,
		      const struct retisc_json *series)
{
	struct report_ctx *c = ctx;

	(void)series;
	if (v->fate == RETISC_FATE_VANISHED && v->hint >= 0 && v->hint < 16)
		c->hint_used[v->hint] = true;
	for (size_t i = 0; i < c->n_cand; i++) {
		if (c->cand[i].index != v->index)
			continue;
		bool bad = v->fate == RETISC_FATE_DROPPED || v->fate == RETISC_FATE_VANISHED;

		if (!c->chosen && (c->want || (bad && v->n_events > 1 && v->tuple.valid))) {
			c->chosen = c->cand[i].series;
			c->chosen_v = *v;
		} else if (!c->chosen && !c->weak && bad) {
			c->weak = c->cand[i].series;
			c->weak_v = *v;
		} else {
			c->api->json_free(c->cand[i].series);
		}
		c->cand[i] = c->cand[--c->n_cand];
		break;
	}
	if (c->fallback && c->fallback_v.index == v->index)
		c->fallback_v = *v;
	if (c->n_rows == c->max_rows) {
		c->rows_left_out++;
		return 0;
	}
	if (!c->rows) {
		c->rows = calloc(c->max_rows, sizeof(*c->rows));
		if (!c->rows)
			return -ENOMEM;
	}
	{
		struct row *r = &c->rows[c->n_rows++];

		r->index = v->index;
		snprintf(r->id, sizeof(r->id), "%s", v->id);
		retisc_xp_tuple__fmt(&v->tuple, ">", r->packet, sizeof(r->packet));
		r->fate = v->fate;
		snprintf(r->detail, sizeof(r->detail), "%s", v->detail);
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * HTML.
 */

static int esc(struct retisc_strbuf *sb, const char *s)
{
	int err = 0;

	for (; s && *s && !err; s++) {
		switch (*s) {
		case '<':
			err = retisc_strbuf__puts(sb, "&lt;");
			break;
		case '>':
			err = retisc_strbuf__puts(sb, "&gt;");
			break;
		case '&':
			err = retisc_strbuf__puts(sb, "&amp;");
			break;
		case '"':
			err = retisc_strbuf__puts(sb, "&quot;");
			break;
		case '\'':
			err = retisc_strbuf__puts(sb, "&#39;");
			break;
		default:
			err = retisc_strbuf__putc(sb, *s);
		}
	}
	return err;
}

/* Colours per fate, also used by the legend. */
static const char *const fate_colour[RETISC_FATE__N] = {
	[RETISC_FATE_DELIVERED] = "#2e7d32", [RETISC_FATE_TRANSMITTED] = "#1565c0",
	[RETISC_FATE_DROPPED] = "#c62828",   [RETISC_FATE_UPCALLED] = "#6a1b9a",
	[RETISC_FATE_CONSUMED] = "#607d8b",  [RETISC_FATE_INCOMPLETE] = "#ef6c00",
	[RETISC_FATE_IN_FLIGHT] = "#00838f", [RETISC_FATE_VANISHED] = "#212121",
};

static const char head[] =
	"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	/* Nothing may leave the file: no fetch, font, image or frame. */
	"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	"style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
	"<title>retisc report</title>\n<style>\n"
	"body{font-family:sans-serif;margin:1.5em;color:#222}\n"
	"h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}\n"
	"table{border-collapse:collapse;font-size:.85em}\n"
	"td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}\n"
	"th{background:#f3f3f3;cursor:pointer}\n"
	"tr.chosen{background:#fff6d5}\n"
	".fate{color:#fff;border-radius:3px;padding:0 4px;white-space:nowrap}\n"
	".mono{font-family:monospace}\n"
	"svg text{font-family:sans-serif;font-size:11px}\n"
	".hist{display:inline-block;margin:0 1em 1em 0;vertical-align:top}\n"
	"</style>\n</head>\n<body>\n";

static int fate_badge(struct retisc_strbuf *sb, enum retisc_fate f)
{
	return retisc_strbuf__printf(sb, "<span class=\"fate\" style=\"background:%s\">%s</span>",
				     fate_colour[f], retisc_fate__name(f));
}

/* Horizontal bars: one per label. */
static int bars_svg(struct retisc_strbuf *sb, const char *id, const char *const *labels,
		    const uint64_t *values, const char *const *colours, size_t n)
{
	uint64_t max = 1;
	int err;

	for (size_t i = 0; i < n; i++)
		if (values[i] > max)
			max = values[i];
	err = retisc_strbuf__printf(sb,
				    "<svg id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" "
				    "width=\"640\" height=\"%zu\" role=\"img\">\n",
				    id, n * 22 + 6);
	for (size_t i = 0; i < n && !err; i++) {
		unsigned int w = (unsigned int)(values[i] * 380 / max);

		err = retisc_strbuf__printf(sb, "<text x=\"4\" y=\"%zu\">", i * 22 + 17) ?:
		      esc(sb, labels[i]) ?:
		      retisc_strbuf__printf(sb,
					    "</text><rect x=\"220\" y=\"%zu\" width=\"%u\" "
					    "height=\"16\" fill=\"%s\"><title>",
					    i * 22 + 5, w ? w : 1, colours ? colours[i] : "#c62828") ?:
		      esc(sb, labels[i]) ?:
		      retisc_strbuf__printf(sb,
					    ": %" PRIu64 "</title></rect><text x=\"%u\" y=\"%zu\">"
					    "%" PRIu64 "</text>\n",
					    values[i], 226 + w, i * 22 + 17, values[i]);
	}
	return err ?: retisc_strbuf__puts(sb, "</svg>\n");
}

static int fates_section(struct retisc_strbuf *sb, const struct retisc_xp_totals *t)
{
	const char *labels[RETISC_FATE__N], *colours[RETISC_FATE__N];
	uint64_t values[RETISC_FATE__N];
	size_t n = 0;

	for (int f = 0; f < RETISC_FATE__N; f++) {
		if (!t->fates[f])
			continue;
		labels[n] = retisc_fate__name((enum retisc_fate)f);
		colours[n] = fate_colour[f];
		values[n++] = t->fates[f];
	}
	return retisc_strbuf__puts(sb, "<h2>Fates</h2>\n")
		       ?: bars_svg(sb, "fates-chart", labels, values, colours, n);
}

static int drops_section(struct retisc_strbuf *sb, const struct retisc_xp_totals *t)
{
	const char **labels;
	uint64_t *values;
	int err;

	err = retisc_strbuf__puts(sb, "<h2>Drop reasons</h2>\n");
	if (err || !t->n_drops)
		return err ?: retisc_strbuf__puts(sb, "<p>No drop.</p>\n");
	labels = calloc(t->n_drops, sizeof(*labels));
	values = calloc(t->n_drops, sizeof(*values));
	if (!labels || !values) {
		free(labels);
		free(values);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->n_drops; i++) {
		labels[i] = t->drops[i].name;
		values[i] = t->drops[i].n;
	}
	err = bars_svg(sb, "drops-chart", labels, values, NULL, t->n_drops);
	for (size_t i = 0; i < t->n_drops && !err; i++) {
		const char *h = retisc_xp_drop_hint(t->drops[i].name);

		if (!h)
			continue;
		err = retisc_strbuf__puts(sb, i ? "" : "<ul>\n") ?: retisc_strbuf__puts(sb, "<li>") ?:
		      esc(sb, t->drops[i].name) ?: retisc_strbuf__puts(sb, ": ") ?: esc(sb, h) ?:
		      retisc_strbuf__puts(sb, "</li>\n");
	}
	if (!err && retisc_xp_drop_hint(t->drops[0].name))
		err = retisc_strbuf__puts(sb, "</ul>\n");
	free(labels);
	free(values);
	return err;
}

static int named_cell(struct retisc_strbuf *sb, const struct retisc_xp_named *v, size_t n)
{
	int err = retisc_strbuf__puts(sb, "<td>");

	for (size_t i = 0; i < n && !err; i++)
		err = retisc_strbuf__puts(sb, i ? "<br>" : "") ?: esc(sb, v[i].name) ?:
		      retisc_strbuf__printf(sb, " (%" PRIu64 ")", v[i].n);
	return err ?: retisc_strbuf__puts(sb, "</td>");
}

static int flows_section(struct retisc_strbuf *sb, const struct retisc_xp *x)
{
	size_t n = 0, *order = retisc_xp__flow_order(x, &n);
	int err;

	if (n && !order)
		return -ENOMEM;
	err = retisc_strbuf__printf(
		sb,
		"<h2>Flows (%zu)</h2>\n<table id=\"flows\" class=\"sortable\">\n"
		"<thead><tr><th>flow</th><th>packets</th><th>fates</th>"
		"<th>NAT</th><th>drop reasons</th>"
		"<th>hops: p50 / p90 / p99 (count)</th></tr></thead>\n<tbody>\n",
		n);
	for (size_t i = 0; i < n && !err; i++) {
		const struct retisc_xp_flow *f = retisc_xp__flow(x, order[i]);
		char name[160];
		bool first = true;

		retisc_xp__flow_name(f, name, sizeof(name));
		err = retisc_strbuf__puts(sb, "<tr class=\"flow\"><td class=\"mono\">") ?:
		      esc(sb, name) ?:
		      retisc_strbuf__printf(sb, "</td><td>%" PRIu64 "</td><td>", f->packets);
		for (int k = 0; k < RETISC_FATE__N && !err; k++) {
			if (!f->fates[k])
				continue;
			err = retisc_strbuf__puts(sb, first ? "" : " ") ?:
			      fate_badge(sb, (enum retisc_fate)k) ?:
			      retisc_strbuf__printf(sb, " %" PRIu64, f->fates[k]);
			first = false;
		}
		err = err ?: retisc_strbuf__puts(sb, "</td>") ?: named_cell(sb, f->nats, f->n_nats) ?:
		      named_cell(sb, f->drops, f->n_drops) ?: retisc_strbuf__puts(sb, "<td>");
		for (size_t h = 0; h < f->n_hops && !err; h++) {
			char a[32], b[32], c[32];

			retisc_xp__fmt_ns(retisc_xp_hist__quantile(&f->hops[h].hist, 0.5), a,
					  sizeof(a));
			retisc_xp__fmt_ns(retisc_xp_hist__quantile(&f->hops[h].hist, 0.9), b,
					  sizeof(b));
			retisc_xp__fmt_ns(retisc_xp_hist__quantile(&f->hops[h].hist, 0.99), c,
					  sizeof(c));
			err = retisc_strbuf__puts(sb, h ? "<br>" : "") ?: esc(sb, f->hops[h].label) ?:
			      retisc_strbuf__printf(sb, ": %s / %s / %s (%" PRIu64 ")", a, b, c,
						    f->hops[h].hist.n);
		}
		err = err ?: retisc_strbuf__puts(sb, "</td></tr>\n");
	}
	free(order);
	return err ?: retisc_strbuf__puts(sb, "</tbody></table>\n");
}

/* One histogram of a hop's latencies, log-scaled buckets. */
static int hist_svg(struct retisc_strbuf *sb, const struct retisc_xp_hop *hop, size_t k)
{
	const struct retisc_xp_hist *h = &hop->hist;
	size_t lo = RETISC_XP_HIST_BUCKETS, hi = 0, nb;
	uint32_t max = 1;
	char a[32], b[32], c[32], l[32], r[32];
	int err;

	for (size_t i = 0; i < RETISC_XP_HIST_BUCKETS; i++) {
		if (!h->bucket[i])
			continue;
		if (i < lo)
			lo = i;
		hi = i;
		if (h->bucket[i] > max)
			max = h->bucket[i];
	}
	if (lo > hi)
		return 0;
	nb = hi - lo + 1;
	retisc_xp__fmt_ns(retisc_xp_hist__quantile(h, 0.5), a, sizeof(a));
	retisc_xp__fmt_ns(retisc_xp_hist__quantile(h, 0.9), b, sizeof(b));
	retisc_xp__fmt_ns(retisc_xp_hist__quantile(h, 0.99), c, sizeof(c));
	retisc_xp__fmt_ns(retisc_xp_hist__bucket_low(lo), l, sizeof(l));
	retisc_xp__fmt_ns(retisc_xp_hist__bucket_low(hi + 1), r, sizeof(r));
	err = retisc_strbuf__puts(sb, "<div class=\"hist\"><div class=\"mono\">") ?:
	      esc(sb, hop->label) ?:
	      retisc_strbuf__printf(sb,
				    "</div><svg class=\"latency\" id=\"hist-%zu\" "
				    "xmlns=\"http://www.w3.org/2000/svg\" width=\"320\" "
				    "height=\"120\" role=\"img\">\n"
				    "<line x1=\"10\" y1=\"95\" x2=\"310\" y2=\"95\" stroke=\"#888\"/>\n",
				    k);
	for (size_t i = 0; i < nb && !err; i++) {
		uint32_t v = h->bucket[lo + i];
		unsigned int bw = (unsigned int)(300 / nb),
			     bh = (unsigned int)((uint64_t)v * 80 / max);
		char from[32];

		if (!v)
			continue;
		retisc_xp__fmt_ns(retisc_xp_hist__bucket_low(lo + i), from, sizeof(from));
		err = retisc_strbuf__printf(sb,
					    "<rect x=\"%zu\" y=\"%u\" width=\"%u\" height=\"%u\" "
					    "fill=\"#1565c0\"><title>from %s: %u</title></rect>\n",
					    10 + i * bw, 95 - (bh ? bh : 1), bw > 1 ? bw - 1 : 1,
					    bh ? bh : 1, from, v);
	}
	return err
		       ?: retisc_strbuf__printf(
				  sb,
				  "<text x=\"10\" y=\"110\">%s</text>"
				  "<text x=\"310\" y=\"110\" text-anchor=\"end\">%s</text>"
				  "<text x=\"10\" y=\"12\">p50 %s  p90 %s  p99 %s  (n=%" PRIu64
				  ")</text>\n</svg></div>\n",
				  l, r, a, b, c, h->n);
}

static int hists_section(struct retisc_strbuf *sb, const struct retisc_xp_totals *t)
{
	int err = retisc_strbuf__puts(sb, "<h2>Per-hop latency</h2>\n");

	if (!t->n_hops)
		return err
			       ?: retisc_strbuf__puts(
					  sb, "<p>No series with two events or more.</p>\n");
	for (size_t i = 0; i < t->n_hops && i < MAX_HISTS && !err; i++)
		err = hist_svg(sb, &t->hops[i], i);
	if (!err && t->n_hops > MAX_HISTS)
		err = retisc_strbuf__printf(sb, "<p>%zu more hop(s) not drawn.</p>\n",
					    t->n_hops - MAX_HISTS);
	return err;
}

/* Lanes: each (netns, device) in order of first appearance. */
static size_t lane_of(const struct retisc_xp_step *s, size_t i, const struct retisc_xp_step *all,
		      size_t *lanes, size_t *n_lanes)
{
	for (size_t l = 0; l < *n_lanes; l++) {
		const struct retisc_xp_step *o = &all[lanes[l]];

		if (o->has_ns == s->has_ns && o->netns == s->netns && !strcmp(o->dev, s->dev))
			return l;
	}
	lanes[*n_lanes] = i;
	return (*n_lanes)++;
}

/* Left edge of the journey's axis, and the least gap between two steps. */
#define J_X0 240
#define J_GAP 70
#define J_WIDTH 690

static int journey_section(const struct retisc_api *api, struct retisc_strbuf *sb,
			   const struct retisc_json *series, const struct retisc_xp_verdict *v,
			   bool fallback)
{
	struct retisc_xp_step *st;
	size_t n, n_lanes = 0, *lanes = NULL, *lane = NULL, first = SIZE_MAX, last = 0, w;
	uint64_t span, *x = NULL, prev = 0;
	bool any = false;
	int err;

	err = retisc_strbuf__puts(sb, "<h2>Packet journey</h2>\n");
	if (err || !series)
		return err ?: retisc_strbuf__puts(sb, "<p>No series to draw.</p>\n");
	err = retisc_xp__steps(api, series, &st, &n);
	if (err || !n)
		return err;
	lanes = calloc(n, sizeof(*lanes));
	lane = calloc(n, sizeof(*lane));
	x = calloc(n, sizeof(*x));
	if (!lanes || !lane || !x) {
		err = -ENOMEM;
		goto out;
	}
	/* Netlink events carry userspace's time: in the table, not on the axis. */
	for (size_t i = 0; i < n; i++) {
		if (st[i].netlink)
			continue;
		lane[i] = lane_of(&st[i], i, st, lanes, &n_lanes);
		if (first == SIZE_MAX)
			first = i;
		last = i;
	}
	if (first == SIZE_MAX) {
		err = retisc_strbuf__puts(sb, "<p>No probe event to draw.</p>\n");
		goto out;
	}
	span = st[last].ts - st[first].ts;
	if (!span)
		span = 1;
	/* Time scales the axis, but steps closer than J_GAP are pushed apart so
	 * that each stays readable; the labels give the real times. */
	for (size_t i = first; i <= last; i++) {
		if (st[i].netlink)
			continue;
		x[i] = J_X0 + (st[i].ts - st[first].ts) * J_WIDTH / span;
		if (any && x[i] < prev + J_GAP)
			x[i] = prev + J_GAP;
		prev = x[i];
		any = true;
	}
	w = (size_t)(prev + 80 > J_X0 + J_WIDTH + 40 ? prev + 80 : J_X0 + J_WIDTH + 40);
	err = retisc_strbuf__printf(sb, "<p>Series [%" PRIu64 "] <span class=\"mono\">#", v->index) ?:
	      esc(sb, v->id) ?: retisc_strbuf__puts(sb, "</span> ") ?: fate_badge(sb, v->fate) ?:
	      retisc_strbuf__puts(sb, " ") ?: esc(sb, v->detail) ?:
	      retisc_strbuf__puts(sb, fallback ? " (no dropped or vanished packet: the first "
						 "series of several events is drawn)</p>\n"
					       : "</p>\n") ?:
	      retisc_strbuf__printf(sb,
				    "<svg id=\"journey\" xmlns=\"http://www.w3.org/2000/svg\" "
				    "width=\"%zu\" height=\"%zu\" role=\"img\">\n",
				    w, n_lanes * 50 + 40);
	for (size_t l = 0; l < n_lanes && !err; l++) {
		const struct retisc_xp_step *s = &st[lanes[l]];
		char name[64];

		if (s->has_ns)
			snprintf(name, sizeof(name), "netns %" PRIu64, s->netns);
		else
			snprintf(name, sizeof(name), "netns ?");
		err = retisc_strbuf__printf(sb,
					    "<line x1=\"%d\" y1=\"%zu\" x2=\"%zu\" y2=\"%zu\" "
					    "stroke=\"#ddd\"/><text class=\"lane\" x=\"4\" y=\"%zu\">",
					    J_X0 - 10, l * 50 + 30, w - 10, l * 50 + 30, l * 50 + 34) ?:
		      esc(sb, name) ?: retisc_strbuf__puts(sb, s->dev[0] ? " / " : "") ?:
		      esc(sb, s->dev) ?: retisc_strbuf__puts(sb, "</text>\n");
	}
	err = err ?: retisc_strbuf__puts(sb, "<polyline fill=\"none\" stroke=\"#999\" points=\"");
	for (size_t i = first; i <= last && !err; i++)
		if (!st[i].netlink)
			err = retisc_strbuf__printf(sb, "%s%" PRIu64 ",%zu", i > first ? " " : "",
						    x[i], lane[i] * 50 + 30);
	err = err ?: retisc_strbuf__puts(sb, "\"/>\n");
	for (size_t i = first; i <= last && !err; i++) {
		char at[32];

		if (st[i].netlink)
			continue;
		retisc_xp__fmt_ns(st[i].ts - st[first].ts, at, sizeof(at));
		err = retisc_strbuf__printf(sb,
					    "<circle class=\"step\" cx=\"%" PRIu64 "\" cy=\"%zu\" "
					    "r=\"5\" fill=\"%s\"><title>+%s ",
					    x[i], lane[i] * 50 + 30,
					    st[i].reason[0] ? "#c62828" : "#1565c0", at) ?:
		      esc(sb, st[i].sym) ?: retisc_strbuf__puts(sb, "</title></circle>") ?:
		      retisc_strbuf__printf(sb,
					    "<text x=\"%" PRIu64 "\" y=\"%zu\" "
					    "text-anchor=\"middle\">",
					    x[i], lane[i] * 50 + 20) ?:
		      esc(sb, st[i].fn) ?:
		      retisc_strbuf__printf(sb,
					    "</text><text x=\"%" PRIu64 "\" y=\"%zu\" "
					    "text-anchor=\"middle\" fill=\"#666\">+%s</text>\n",
					    x[i], lane[i] * 50 + 46, at);
	}
	err = err ?: retisc_strbuf__puts(sb, "</svg>\n");
	err = err
		      ?: retisc_strbuf__puts(sb,
					     "<table id=\"journey-steps\"><thead><tr><th>+time</th>"
					     "<th>probe</th><th>netns</th><th>device</th>"
					     "<th>packet</th><th>drop</th><th>nft</th><th>ct</th>"
					     "<th>task</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < n && !err; i++) {
		char at[32], ns[32];

		/* Before the first probe event (a netlink one): no negative time. */
		retisc_xp__fmt_ns(st[i].ts > st[first].ts ? st[i].ts - st[first].ts : 0, at,
				  sizeof(at));
		ns[0] = '\0';
		if (st[i].has_ns)
			snprintf(ns, sizeof(ns), "%" PRIu64, st[i].netns);
		err = retisc_strbuf__printf(sb, "<tr><td>+%s</td><td class=\"mono\">", at) ?:
		      esc(sb, st[i].sym) ?: retisc_strbuf__printf(sb, "</td><td>%s</td><td>", ns) ?:
		      esc(sb, st[i].dev) ?: retisc_strbuf__puts(sb, "</td><td class=\"mono\">") ?:
		      esc(sb, st[i].packet) ?: retisc_strbuf__puts(sb, "</td><td>") ?:
		      esc(sb, st[i].reason) ?: retisc_strbuf__puts(sb, "</td><td>") ?:
		      esc(sb, st[i].nft) ?: retisc_strbuf__puts(sb, "</td><td>") ?:
		      esc(sb, st[i].ct_state) ?: retisc_strbuf__puts(sb, "</td><td>") ?:
		      esc(sb, st[i].comm) ?: retisc_strbuf__puts(sb, "</td></tr>\n");
	}
	err = err ?: retisc_strbuf__puts(sb, "</tbody></table>\n");
out:
	free(lanes);
	free(lane);
	free(x);
	free(st);
	return err;
}

static int series_section(struct retisc_strbuf *sb, const struct report_ctx *c, uint64_t chosen)
{
	int err = retisc_strbuf__printf(
		sb, "<h2>Series</h2>\n<p><input id=\"filter\" "
		    "placeholder=\"filter rows (e.g. dropped)\" size=\"40\"></p>\n"
		    "<table id=\"series\" class=\"sortable\"><thead><tr><th>#</th>"
		    "<th>id</th><th>packet</th><th>fate</th><th>detail</th></tr>"
		    "</thead><tbody>\n");

	for (size_t i = 0; i < c->n_rows && !err; i++) {
		const struct row *r = &c->rows[i];

		err = retisc_strbuf__printf(sb, "<tr class=\"series%s\"><td>%" PRIu64 "</td>"
						"<td class=\"mono\">#",
					    r->index == chosen ? " chosen" : "", r->index) ?:
		      esc(sb, r->id) ?: retisc_strbuf__puts(sb, "</td><td class=\"mono\">") ?:
		      esc(sb, r->packet) ?: retisc_strbuf__puts(sb, "</td><td>") ?:
		      fate_badge(sb, r->fate) ?: retisc_strbuf__puts(sb, "</td><td>") ?:
		      esc(sb, r->detail) ?: retisc_strbuf__puts(sb, "</td></tr>\n");
	}
	err = err ?: retisc_strbuf__puts(sb, "</tbody></table>\n");
	if (!err && c->rows_left_out)
		err = retisc_strbuf__printf(
			sb, "<p>%" PRIu64 " more series not listed (--max-rows).</p>\n",
			c->rows_left_out);
	return err;
}

static int hints_section(struct retisc_strbuf *sb, const struct report_ctx *c)
{
	int err = 0;
	bool any = false;

	for (int i = 0; i < 16 && !err; i++) {
		const struct retisc_xp_hint *h = retisc_xp_hint(i);
		const char *s;

		if (!c->hint_used[i] || !h)
			continue;
		if (!any)
			err = retisc_strbuf__puts(sb, "<h2>Why packets vanish</h2>\n");
		any = true;
		err = err ?: retisc_strbuf__puts(sb, "<p>Last seen at ") ?: esc(sb, h->where) ?:
		      retisc_strbuf__puts(sb, ", likely reasons:</p>\n<ul>\n");
		for (s = h->reasons; *s && !err;) {
			size_t len = strcspn(s, ";");
			char item[256];

			snprintf(item, sizeof(item), "%.*s", (int)len, s);
			err = retisc_strbuf__puts(sb, "<li>") ?: esc(sb, item) ?:
			      retisc_strbuf__puts(sb, "</li>\n");
			s += len;
			while (*s == ';' || *s == ' ')
				s++;
		}
		err = err ?: retisc_strbuf__puts(sb, "</ul>\n");
	}
	return err;
}

/* Sorting by a column and filtering the series: no network, no eval. */
static const char script[] =
	"<script>\n"
	"(function(){\n"
	"function cell(r,i){return r.cells[i].textContent;}\n"
	"document.querySelectorAll('table.sortable th').forEach(function(th,i){\n"
	" th.addEventListener('click',function(){\n"
	"  var tb=th.closest('table').tBodies[0],rows=Array.from(tb.rows),"
	"asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';\n"
	"  rows.sort(function(a,b){var x=cell(a,i),y=cell(b,i),nx=parseFloat(x),ny=parseFloat(y);\n"
	"   var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);return asc?c:-c;});\n"
	"  rows.forEach(function(r){tb.appendChild(r);});});});\n"
	"var f=document.getElementById('filter');\n"
	"if(f)f.addEventListener('input',function(){var q=f.value.toLowerCase();\n"
	" document.querySelectorAll('#series tbody tr').forEach(function(r){\n"
	"  r.style.display=r.textContent.toLowerCase().indexOf(q)<0?'none':'';});});\n"
	"})();\n"
	"</script>\n";

static int render(const struct retisc_api *api, struct report_ctx *c, const struct retisc_xp *x,
		  const char *input, struct retisc_strbuf *sb)
{
	const struct retisc_xp_totals *t = retisc_xp__totals(x);
	const struct retisc_json *journey = c->chosen ?: c->weak ?: c->fallback;
	const struct retisc_xp_verdict *jv = c->chosen ? &c->chosen_v
					     : c->weak ? &c->weak_v
						       : &c->fallback_v;
	char span[32];
	int err;

	retisc_xp__fmt_ns(t->last_ts > t->first_ts ? t->last_ts - t->first_ts : 0, span,
			  sizeof(span));
	err = retisc_strbuf__puts(sb, head) ?:
	      retisc_strbuf__puts(sb, "<h1>Where did my packets go?</h1>\n<p>Input <span "
				      "class=\"mono\">") ?:
	      esc(sb, input ? input : "retis.data") ?:
	      retisc_strbuf__printf(sb,
				    "</span>: <b id=\"n-series\">%" PRIu64 "</b> series, %" PRIu64
				    " event(s), %" PRIu64 " untracked event(s), over %s.</p>\n",
				    t->series, t->events - t->untracked, t->untracked, span) ?:
	      fates_section(sb, t) ?: flows_section(sb, x) ?:
	      journey_section(api, sb, journey, jv, !c->chosen && !c->weak && journey) ?:
	      hists_section(sb, t) ?: drops_section(sb, t) ?: hints_section(sb, c) ?:
	      series_section(sb, c, journey ? jv->index : 0) ?: retisc_strbuf__puts(sb, script) ?:
	      retisc_strbuf__puts(sb, "</body>\n</html>\n");
	return err;
}

int retisc_report__run(void *priv, const struct retisc_api *api, int argc, char **argv)
{
	uint64_t max_buffer = DEFAULT_MAX_BUFFER, window = DEFAULT_WINDOW_MS;
	uint64_t max_flows = DEFAULT_MAX_FLOWS, max_rows = DEFAULT_MAX_ROWS, want = 0;
	const char *out_path = NULL, *input;
	bool keep_going = false;
	const struct retisc_proc_opt opts[] = {
		RETISC_PROC_STRING_ONCE("out", 'o', &out_path, "<OUT>"),
		RETISC_PROC_U64("series", 0, &want, "<N>", UINT64_MAX),
		RETISC_PROC_U64("max-rows", 0, &max_rows, "<N>", 10000000),
		RETISC_PROC_U64("max-buffer", 0, &max_buffer, "<N>", SIZE_MAX),
		RETISC_PROC_U64("in-flight", 0, &window, "<MS>", UINT64_MAX / 1000000),
		RETISC_PROC_U64("max-flows", 0, &max_flows, "<N>", SIZE_MAX),
		{},
	};
	struct report_ctx c = {.api = api};
	struct retisc_xp_opts xo = {0};
	struct retisc_xp_read_opts ro = {.name = "report"};
	struct retisc_strbuf sb = {0};
	struct retisc_proc_signals sig;
	struct retisc_reader *rd;
	struct retisc_out out;
	struct retisc_xp *x;
	int ret, status;

	(void)priv;
	ret = retisc_proc__parse(argc, argv, opts, usage, &keep_going, &input);
	if (ret >= 0)
		return ret;
	if (!out_path) {
		fprintf(stderr, "error: the following required arguments were not provided:\n"
				"  --out <OUT>\n");
		return 2;
	}
	c.want = want;
	c.max_rows = (size_t)max_rows;
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
	retisc_xp__set_seen(x, on_seen);
	retisc_xp__signals_install(&sig);
	status = retisc_xp__read(api, rd, x, &ro);
	if (want && !c.chosen)
		api->log(RETISC_LOG_WARN, "series %" PRIu64 " not found in the input", want);
	ret = render(api, &c, x, input, &sb);
	if (ret) {
		api->log(RETISC_LOG_ERROR, "%s", strerror(-ret));
		status = 1;
	} else if (retisc_out__open(&out, out_path)) {
		api->log(RETISC_LOG_ERROR, "Could not create or open '%s'", out_path);
		status = 1;
	} else {
		/* The page is built whole: hand its buffer over rather than copy it. */
		out.buf = sb;
		memset(&sb, 0, sizeof(sb));
		if (retisc_out__finish(api, &out, 0, false))
			status = 1;
	}
	retisc_xp__signals_restore(&sig);
	retisc_strbuf__release(&sb);
	for (size_t i = 0; i < c.n_cand; i++)
		api->json_free(c.cand[i].series);
	api->json_free(c.chosen);
	api->json_free(c.weak);
	api->json_free(c.fallback);
	free(c.rows);
	retisc_xp__free(x);
	api->reader_free(rd);
	return status;
}
