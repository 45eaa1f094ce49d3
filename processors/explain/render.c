// SPDX-License-Identifier: GPL-2.0-only
/*
 * explain's output (doc/processing.md §7.5): a line per series, then the
 * flows, the fates and drop reasons, and the vanished table's rows that
 * were used; or the same as JSON lines.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

void retisc_xp__fmt_ns(uint64_t ns, char *buf, size_t sz)
{
	if (ns < 1000)
		snprintf(buf, sz, "%" PRIu64 "ns", ns);
	else if (ns < 1000000)
		snprintf(buf, sz, "%.1fus", (double)ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, sz, "%.2fms", (double)ns / 1e6);
	else
		snprintf(buf, sz, "%.3fs", (double)ns / 1e9);
}

void retisc_xp__flow_name(const struct retisc_xp_flow *f, char *buf, size_t sz)
{
	if (f->other)
		snprintf(buf, sz, "(other flows, past --max-flows)");
	else
		retisc_xp_tuple__fmt(&f->key, "<>", buf, sz);
}

static const struct retisc_xp *order_x;

static int flow_cmp(const void *a, const void *b)
{
	const struct retisc_xp_flow *x = retisc_xp__flow(order_x, *(const size_t *)a);
	const struct retisc_xp_flow *y = retisc_xp__flow(order_x, *(const size_t *)b);
	char nx[160], ny[160];

	if (x->other != y->other)
		return x->other ? 1 : -1;
	if (x->packets != y->packets)
		return x->packets > y->packets ? -1 : 1;
	retisc_xp__flow_name(x, nx, sizeof(nx));
	retisc_xp__flow_name(y, ny, sizeof(ny));
	return strcmp(nx, ny);
}

size_t *retisc_xp__flow_order(const struct retisc_xp *x, size_t *n)
{
	size_t *idx;

	*n = retisc_xp__n_flows(x);
	if (!*n)
		return NULL;
	idx = malloc(*n * sizeof(*idx));
	if (!idx)
		return NULL;
	for (size_t i = 0; i < *n; i++)
		idx[i] = i;
	/* qsort has no context argument; processors run on one thread. */
	order_x = x;
	qsort(idx, *n, sizeof(*idx), flow_cmp);
	return idx;
}

int retisc_xp_render__verdict_text(const struct retisc_xp_verdict *v, struct retisc_strbuf *sb)
{
	char tuple[160], dur[32];
	const struct retisc_xp_hint *h = retisc_xp_hint(v->hint);
	int err;

	retisc_xp_tuple__fmt(&v->tuple, ">", tuple, sizeof(tuple));
	retisc_xp__fmt_ns(v->last_ts - v->first_ts, dur, sizeof(dur));
	err = retisc_strbuf__printf(sb, "[%" PRIu64 "] #%s %s %s: %s", v->index, v->id, tuple,
				    retisc_fate__name(v->fate), v->detail);
	if (!err && v->fate == RETISC_FATE_VANISHED && h)
		err = retisc_strbuf__printf(sb, " (likely reasons: %s)", h->key);
	if (!err && v->fate == RETISC_FATE_DROPPED && v->drop_hint)
		err = retisc_strbuf__printf(sb, " (likely: %s)", v->drop_hint);
	if (!err && v->nft[0])
		err = retisc_strbuf__printf(sb, "; nft %s", v->nft);
	if (!err && v->ct_state[0] && v->fate == RETISC_FATE_DROPPED)
		err = retisc_strbuf__printf(sb, "; ct %s", v->ct_state);
	if (!err && v->nat[0])
		err = retisc_strbuf__printf(sb, "; nat %s", v->nat);
	return err ?: retisc_strbuf__printf(sb, "; %zu event(s) in %s\n", v->n_events, dur);
}

static int put_str(const struct retisc_api *api, struct retisc_json *o, const char *k,
		   const char *s)
{
	struct retisc_json *v = api->json_new_str(s);

	if (!v)
		return -ENOMEM;
	return api->json_obj_set(o, k, v);
}

static int put_u64(const struct retisc_api *api, struct retisc_json *o, const char *k, uint64_t n)
{
	struct retisc_json *v = api->json_new_u64(n);

	if (!v)
		return -ENOMEM;
	return api->json_obj_set(o, k, v);
}

static int put_obj(const struct retisc_api *api, struct retisc_json *o, const char *k,
		   struct retisc_json *v)
{
	if (!v)
		return -ENOMEM;
	return api->json_obj_set(o, k, v);
}

static int dump_line(const struct retisc_api *api, struct retisc_json *o, int err,
		     struct retisc_strbuf *sb)
{
	if (!err)
		err = api->json_dump(o, sb) ?: retisc_strbuf__putc(sb, '\n');
	api->json_free(o);
	return err;
}

/* "a; b; c" as a JSON array of strings. */
static struct retisc_json *split_reasons(const struct retisc_api *api, const char *s)
{
	struct retisc_json *arr = api->json_new_array();

	while (arr && s && *s) {
		size_t len = strcspn(s, ";");
		struct retisc_json *v = api->json_new_strn(s, len);

		if (!v || api->json_arr_append(arr, v)) {
			api->json_free(v);
			api->json_free(arr);
			return NULL;
		}
		s += len;
		while (*s == ';' || *s == ' ')
			s++;
	}
	return arr;
}

int retisc_xp_render__verdict_json(const struct retisc_api *api, const struct retisc_xp_verdict *v,
				   struct retisc_strbuf *sb)
{
	struct retisc_json *o = api->json_new_object();
	const struct retisc_xp_hint *h = retisc_xp_hint(v->hint);
	char tuple[160];
	int err;

	if (!o)
		return -ENOMEM;
	retisc_xp_tuple__fmt(&v->tuple, ">", tuple, sizeof(tuple));
	err = put_u64(api, o, "series", v->index) ?: put_str(api, o, "id", v->id) ?:
	      put_str(api, o, "packet", tuple) ?: put_str(api, o, "fate", retisc_fate__name(v->fate)) ?:
	      put_str(api, o, "detail", v->detail) ?: put_str(api, o, "where", v->where) ?:
	      put_str(api, o, "last_probe", v->last_sym) ?: put_u64(api, o, "events", v->n_events) ?:
	      put_u64(api, o, "first_ts", v->first_ts) ?: put_u64(api, o, "last_ts", v->last_ts) ?:
	      put_u64(api, o, "lost", v->lost);
	if (!err && v->drop_reason[0])
		err = put_str(api, o, "drop_reason", v->drop_reason)
			      ?: put_str(api, o, "drop_location", v->drop_fn);
	if (!err && v->drop_hint && v->fate == RETISC_FATE_DROPPED)
		err = put_str(api, o, "drop_hint", v->drop_hint);
	if (!err && v->nft[0])
		err = put_str(api, o, "nft", v->nft);
	if (!err && v->ct_state[0])
		err = put_str(api, o, "ct_state", v->ct_state);
	if (!err && v->nat[0])
		err = put_str(api, o, "nat", v->nat);
	if (!err && v->fate == RETISC_FATE_VANISHED && h)
		err = put_str(api, o, "vanished_at", h->key)
			      ?: put_obj(api, o, "likely_reasons", split_reasons(api, h->reasons));
	return dump_line(api, o, err, sb);
}

static int fates_text(const uint64_t *fates, struct retisc_strbuf *sb)
{
	bool first = true;
	int err = 0;

	for (int f = 0; f < RETISC_FATE__N && !err; f++) {
		if (!fates[f])
			continue;
		err = retisc_strbuf__printf(sb, "%s%s %" PRIu64, first ? "" : ", ",
					    retisc_fate__name((enum retisc_fate)f), fates[f]);
		first = false;
	}
	return err;
}

static int named_text(const char *title, const struct retisc_xp_named *v, size_t n,
		      struct retisc_strbuf *sb)
{
	int err;

	if (!n)
		return 0;
	err = retisc_strbuf__printf(sb, "  %s: ", title);
	for (size_t i = 0; i < n && !err; i++)
		err = retisc_strbuf__printf(sb, "%s%s (%" PRIu64 ")", i ? ", " : "", v[i].name,
					    v[i].n);
	return err ?: retisc_strbuf__putc(sb, '\n');
}

static int hops_text(const struct retisc_xp_hop *hops, size_t n, const char *indent,
		     struct retisc_strbuf *sb)
{
	int err = 0;

	for (size_t i = 0; i < n && !err; i++) {
		char a[32], b[32], c[32];
		const struct retisc_xp_hist *h = &hops[i].hist;

		retisc_xp__fmt_ns(retisc_xp_hist__quantile(h, 0.5), a, sizeof(a));
		retisc_xp__fmt_ns(retisc_xp_hist__quantile(h, 0.9), b, sizeof(b));
		retisc_xp__fmt_ns(retisc_xp_hist__quantile(h, 0.99), c, sizeof(c));
		err = retisc_strbuf__printf(sb, "%s%s: %s / %s / %s (%" PRIu64 ")\n", indent,
					    hops[i].label, a, b, c, h->n);
	}
	return err;
}

int retisc_xp_render__summary_text(const struct retisc_xp *x, const bool hint_used[16],
				   struct retisc_strbuf *sb)
{
	const struct retisc_xp_totals *t = retisc_xp__totals(x);
	size_t n = 0, *order = retisc_xp__flow_order(x, &n);
	int err;

	if (n && !order)
		return -ENOMEM;
	err = retisc_strbuf__printf(sb, "\nFlows: %zu\n", n);
	for (size_t i = 0; i < n && !err; i++) {
		const struct retisc_xp_flow *f = retisc_xp__flow(x, order[i]);
		char name[160];

		retisc_xp__flow_name(f, name, sizeof(name));
		err = retisc_strbuf__printf(sb, "%s: %" PRIu64 " packet(s): ", name, f->packets) ?:
		      fates_text(f->fates, sb) ?: retisc_strbuf__putc(sb, '\n') ?:
		      named_text("nat", f->nats, f->n_nats, sb) ?:
		      named_text("drops", f->drops, f->n_drops, sb);
		if (!err && f->n_hops)
			err = retisc_strbuf__puts(sb, "  hops (p50 / p90 / p99, count):\n")
				      ?: hops_text(f->hops, f->n_hops, "    ", sb);
	}
	free(order);
	if (!err)
		err = retisc_strbuf__printf(sb,
					    "\nSeries: %" PRIu64 " (%" PRIu64 " event(s)), untracked "
					    "events: %" PRIu64 "\nFates: ",
					    t->series, t->events - t->untracked, t->untracked) ?:
		      fates_text(t->fates, sb) ?: retisc_strbuf__putc(sb, '\n');
	if (!err && t->n_drops) {
		err = retisc_strbuf__puts(sb, "Drop reasons:");
		for (size_t i = 0; i < t->n_drops && !err; i++)
			err = retisc_strbuf__printf(sb, " %s (%" PRIu64 ")", t->drops[i].name,
						    t->drops[i].n);
		if (!err)
			err = retisc_strbuf__putc(sb, '\n');
	}
	for (int i = 0; i < 16 && !err; i++) {
		const struct retisc_xp_hint *h = retisc_xp_hint(i);
		const char *s;

		if (!hint_used[i] || !h)
			continue;
		err = retisc_strbuf__printf(sb, "Vanished after %s (%s), likely reasons:\n",
					    h->where, h->key);
		for (s = h->reasons; *s && !err;) {
			size_t len = strcspn(s, ";");

			err = retisc_strbuf__printf(sb, "  - %.*s\n", (int)len, s);
			s += len;
			while (*s == ';' || *s == ' ')
				s++;
		}
	}
	return err;
}

static struct retisc_json *fates_json(const struct retisc_api *api, const uint64_t *fates)
{
	struct retisc_json *o = api->json_new_object();

	for (int f = 0; o && f < RETISC_FATE__N; f++)
		if (fates[f] && put_u64(api, o, retisc_fate__name((enum retisc_fate)f), fates[f])) {
			api->json_free(o);
			return NULL;
		}
	return o;
}

static struct retisc_json *named_json(const struct retisc_api *api, const char *key,
				      const struct retisc_xp_named *v, size_t n)
{
	struct retisc_json *arr = api->json_new_array();

	for (size_t i = 0; arr && i < n; i++) {
		struct retisc_json *o = api->json_new_object();

		if (!o || put_str(api, o, key, v[i].name) || put_u64(api, o, "count", v[i].n) ||
		    api->json_arr_append(arr, o)) {
			api->json_free(o);
			api->json_free(arr);
			return NULL;
		}
	}
	return arr;
}

static struct retisc_json *hops_json(const struct retisc_api *api, const struct retisc_xp_hop *h,
				     size_t n)
{
	struct retisc_json *arr = api->json_new_array();

	for (size_t i = 0; arr && i < n; i++) {
		const struct retisc_xp_hist *s = &h[i].hist;
		struct retisc_json *o = api->json_new_object();

		if (!o || put_str(api, o, "hop", h[i].label) || put_u64(api, o, "count", s->n) ||
		    put_u64(api, o, "p50_ns", retisc_xp_hist__quantile(s, 0.5)) ||
		    put_u64(api, o, "p90_ns", retisc_xp_hist__quantile(s, 0.9)) ||
		    put_u64(api, o, "p99_ns", retisc_xp_hist__quantile(s, 0.99)) ||
		    put_u64(api, o, "min_ns", s->min) || put_u64(api, o, "max_ns", s->max) ||
		    api->json_arr_append(arr, o)) {
			api->json_free(o);
			api->json_free(arr);
			return NULL;
		}
	}
	return arr;
}

int retisc_xp_render__summary_json(const struct retisc_api *api, const struct retisc_xp *x,
				   struct retisc_strbuf *sb)
{
	const struct retisc_xp_totals *t = retisc_xp__totals(x);
	size_t n = 0, *order = retisc_xp__flow_order(x, &n);
	struct retisc_json *o;
	int err = 0;

	if (n && !order)
		return -ENOMEM;
	for (size_t i = 0; i < n && !err; i++) {
		const struct retisc_xp_flow *f = retisc_xp__flow(x, order[i]);
		char name[160];

		o = api->json_new_object();
		if (!o) {
			err = -ENOMEM;
			break;
		}
		retisc_xp__flow_name(f, name, sizeof(name));
		err = put_str(api, o, "flow", name) ?: put_u64(api, o, "packets", f->packets) ?:
		      put_obj(api, o, "fates", fates_json(api, f->fates)) ?:
		      put_obj(api, o, "nat", named_json(api, "rewrite", f->nats, f->n_nats)) ?:
		      put_obj(api, o, "drops", named_json(api, "reason", f->drops, f->n_drops)) ?:
		      put_obj(api, o, "hops", hops_json(api, f->hops, f->n_hops));
		err = dump_line(api, o, err, sb);
	}
	free(order);
	if (err)
		return err;
	o = api->json_new_object();
	if (!o)
		return -ENOMEM;
	{
		struct retisc_json *s = api->json_new_object();

		err = put_obj(api, o, "summary", s);
		if (!err)
			err = put_u64(api, s, "series", t->series) ?:
			      put_u64(api, s, "events", t->events - t->untracked) ?:
			      put_u64(api, s, "untracked_events", t->untracked) ?:
			      put_u64(api, s, "flows", n) ?:
			      put_obj(api, s, "fates", fates_json(api, t->fates)) ?:
			      put_obj(api, s, "drops",
				      named_json(api, "reason", t->drops, t->n_drops)) ?:
			      put_obj(api, s, "hops", hops_json(api, t->hops, t->n_hops));
	}
	return dump_line(api, o, err, sb);
}
