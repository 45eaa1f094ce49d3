// SPDX-License-Identifier: GPL-2.0-only
/* Cross-host stitching (stitch_engine.h, doc/fleet.md §4). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <retisc/base64.h>
#include <retisc/pkt_ident.h>
#include <retisc/plugin_util.h>

#include "stitch_engine.h"

struct st_event {
	int host;
	bool has_run;	 /* a startup event of the host came before it */
	int64_t wall;	 /* host's wall clock: monotonic + startup offset */
	uint64_t k1, k2; /* tracking key; k1 = 0: untracked (own series) */
	uint64_t ident;
	uint64_t src, dst; /* folded IP addresses: the packet's direction */
	bool xmit;	   /* handed to a device's driver: leaving, if on the uplink */
	struct retisc_json *ev;
	size_t series;
};

struct st_series {
	int host;
	size_t first_ev, n_ev; /* in s->ev after sorting */
	int64_t first, last;
	int64_t leave; /* the last xmit event's time, else last */
	bool has_xmit;
	uint64_t ident;
	uint64_t src, dst; /* of the event that gave the identity */
	size_t parent;	   /* union-find */
	int64_t journey_first;
};

struct st_host {
	char *name;
	/* The offset of the run being read (its last startup event), and the
	 * first run's, for events that came before any startup event. */
	int64_t run_off, first_off;
	bool has_startup;
	struct retisc_json **startups; /* in input order, kept for the output */
	int64_t *offs;		       /* their clock offsets */
	size_t n_startups;
	struct stitch_offset off;
};

struct st_journey {
	size_t root;
	size_t *ev; /* indexes in s->ev */
	size_t n_ev, n_hosts;
	uint64_t host_mask;
	int64_t first;
};

struct stitch {
	const struct retisc_api *api;
	int64_t window;
	struct st_host *hosts;
	size_t n_hosts;
	struct st_event *ev;
	size_t n_ev, cap_ev;
	struct st_series *ser;
	size_t n_ser;
	size_t *by_ident; /* series with an identity, sorted by it */
	size_t n_by_ident;
	struct st_journey *jr;
	size_t n_jr;
	uint64_t untracked;
};

struct stitch *stitch__new(const struct retisc_api *api, int64_t window_ns)
{
	struct stitch *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->api = api;
	s->window = window_ns;
	return s;
}

void stitch__free(struct stitch *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_ev; i++)
		s->api->json_free(s->ev[i].ev);
	for (size_t i = 0; i < s->n_hosts; i++) {
		for (size_t k = 0; k < s->hosts[i].n_startups; k++)
			s->api->json_free(s->hosts[i].startups[k]);
		free(s->hosts[i].startups);
		free(s->hosts[i].offs);
		free(s->hosts[i].name);
	}
	for (size_t i = 0; i < s->n_jr; i++)
		free(s->jr[i].ev);
	free(s->hosts);
	free(s->ev);
	free(s->ser);
	free(s->by_ident);
	free(s->jr);
	free(s);
}

int stitch__add_host(struct stitch *s, const char *name)
{
	struct st_host *h;

	if (s->n_hosts == STITCH_MAX_HOSTS)
		return -E2BIG;
	h = realloc(s->hosts, (s->n_hosts + 1) * sizeof(*h));
	if (!h)
		return -ENOMEM;
	s->hosts = h;
	h = &s->hosts[s->n_hosts];
	memset(h, 0, sizeof(*h));
	h->name = strdup(name);
	if (!h->name)
		return -ENOMEM;
	return (int)s->n_hosts++;
}

static uint64_t fold(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/* The IP source and destination (after up to two VLAN tags), folded; 0
 * and 0 when the frame is not IP. */
static void packet_dir(const uint8_t *p, size_t n, uint64_t *src, uint64_t *dst)
{
	size_t off = 12;
	uint16_t type;

	*src = *dst = 0;
	for (int tags = 0;; tags++) {
		if (off + 2 > n)
			return;
		type = (uint16_t)(p[off] << 8 | p[off + 1]);
		if ((type != 0x8100 && type != 0x88a8) || tags == 2)
			break;
		off += 4;
	}
	off += 2;
	if (type == 0x0800 && off + 20 <= n) {
		*src = fold(p + off + 12, 4);
		*dst = fold(p + off + 16, 4);
	} else if (type == 0x86dd && off + 40 <= n) {
		*src = fold(p + off + 8, 16);
		*dst = fold(p + off + 24, 16);
	}
}

/*
 * What tells two transmissions of one TCP segment apart, which the
 * tracking guard's identity deliberately does not (on one host a
 * retransmission is the same packet; on the wire it is another one, and
 * every pure ACK of a receiver has the same sequence number): the IPv4 id,
 * the ack number and the timestamp option's value, none of which NAT
 * rewrites. Mixed into the identity's length and key bits (its kind and
 * flags stay); 0 when the header is not in the buffer.
 */
static uint64_t tcp_transmission(const struct retisc_ident_buf *buf, __u32 avail)
{
	struct retisc_ident_l3 r = {};
	const __u8 *b = buf->b;
	__u32 off = 0, inner = 0, l4, hl, o;
	__u16 et, iet;
	uint8_t key[12] = {};

	et = retisc_ident__eth(b, avail, &off);
	if (!et || retisc_ident__l3(b, avail, et, off, &r))
		return 0;
	iet = retisc_ident__tunnel(b, avail, &r, &inner);
	if (iet == RETISC_IDENT_TUNNEL_CUT)
		return 0;
	if (iet) {
		off = inner;
		if (iet == 0x6558 && !(iet = retisc_ident__eth(b, avail, &off)))
			return 0;
		if (retisc_ident__l3(b, avail, iet, off, &r))
			return 0;
	}
	l4 = r.l4;
	if (r.proto != 6 || l4 + 20 > avail)
		return 0;
	hl = (retisc_ident__u8(b, l4 + 12) >> 4) * 4u;
	memcpy(key, &r.id, 2);
	memcpy(key + 2, b + l4 + 8, 4); /* ack */
	for (o = l4 + 20; o + 1 < l4 + hl && o + 1 < avail;) {
		__u8 kind = retisc_ident__u8(b, o), len;

		if (kind == 0)
			break;
		if (kind == 1) {
			o++;
			continue;
		}
		len = retisc_ident__u8(b, o + 1);
		if (len < 2)
			break;
		if (kind == 8 && len == 10 && o + 6 <= avail)
			memcpy(key + 6, b + o + 2, 4); /* TSval */
		o += len;
	}
	/* Kind and flags stay: the identity remains a TCP one. */
	return fold(key, sizeof(key)) & 0x0000ffffffffffffull;
}

/* Identity of the packet section's bytes (they start at the MAC header),
 * and the packet's direction in e. */
static uint64_t event_ident(const struct retisc_api *api, const struct retisc_json *ev,
			    struct st_event *e)
{
	const struct retisc_json *pkt = api->json_obj_get(ev, "packet");
	struct retisc_ident_buf buf = {};
	const char *data;
	size_t len;
	ssize_t n;
	uint64_t ident;
	uint8_t raw[2048];

	data = api->json_get_str(api->json_obj_get(pkt, "data"), &len);
	if (!data)
		return 0;
	n = retisc_base64__decode(data, len, raw, sizeof(raw));
	if (n <= 0)
		return 0;
	packet_dir(raw, (size_t)n, &e->src, &e->dst);
	memcpy(buf.b, raw, (size_t)n < sizeof(buf.b) ? (size_t)n : sizeof(buf.b));
	ident = retisc_pkt_ident(&buf,
				 (__u32)((size_t)n < sizeof(buf.b) ? (size_t)n : sizeof(buf.b)),
				 RETISC_IDENT_AT_MAC);
	if (RETISC_IDENT_KIND(ident) == RETISC_IDENT_TCP)
		ident ^= tcp_transmission(
			&buf, (__u32)((size_t)n < sizeof(buf.b) ? (size_t)n : sizeof(buf.b)));
	return ident;
}

/*
 * A device transmit probe (net:net_dev_start_xmit, dev_hard_start_xmit,
 * __dev_queue_xmit...): where a packet leaves its host. Events after it
 * on the sender (the driver's completion freeing the buffer, which a
 * virtio NIC does late) may come after the receiver's first event.
 */
static bool event_is_xmit(const struct retisc_api *api, const struct retisc_json *ev)
{
	const char *sym = api->json_get_str(
		api->json_obj_get(api->json_obj_get(ev, "kernel"), "symbol"), NULL);

	return sym && strstr(sym, "dev") && strstr(sym, "xmit");
}

int stitch__add_event(struct stitch *s, int host, struct retisc_json *ev)
{
	const struct retisc_api *api = s->api;
	const struct retisc_json *startup = api->json_obj_get(ev, "startup");
	const struct retisc_json *trk;
	struct st_event *e;
	uint64_t ts = 0;

	if (host < 0 || (size_t)host >= s->n_hosts) {
		api->json_free(ev);
		return -EINVAL;
	}
	if (startup) {
		const struct retisc_json *off =
			api->json_obj_get(startup, "clock_monotonic_offset");
		struct st_host *h = &s->hosts[host];
		struct retisc_json **v;
		int64_t sec = 0, nsec = 0, *o;

		v = realloc(h->startups, (h->n_startups + 1) * sizeof(*v));
		if (v)
			h->startups = v;
		o = v ? realloc(h->offs, (h->n_startups + 1) * sizeof(*o)) : NULL;
		if (!o) {
			api->json_free(ev);
			return -ENOMEM;
		}
		h->offs = o;
		api->json_get_i64(api->json_obj_get(off, "sec"), &sec);
		api->json_get_i64(api->json_obj_get(off, "nsec"), &nsec);
		/* Each run (a host's collection) has its own offset: its events
		 * follow its startup event (a file, or a stream, doc/fleet.md §3). */
		h->run_off = sec * 1000000000LL + nsec;
		h->offs[h->n_startups] = h->run_off;
		h->startups[h->n_startups++] = ev;
		if (!h->has_startup)
			h->first_off = h->run_off;
		h->has_startup = true;
		return 0;
	}
	if (s->n_ev == s->cap_ev) {
		size_t cap = s->cap_ev ? 2 * s->cap_ev : 1024;

		e = realloc(s->ev, cap * sizeof(*e));
		if (!e) {
			api->json_free(ev);
			return -ENOMEM;
		}
		s->ev = e;
		s->cap_ev = cap;
	}
	e = &s->ev[s->n_ev];
	memset(e, 0, sizeof(*e));
	e->host = host;
	e->ev = ev;
	retisc_api__get_u64(api, api->json_obj_get(ev, "common"), "timestamp", &ts);
	/* Without a startup event yet, the offset is the host's first run's,
	 * added in stitch__run(). */
	e->has_run = s->hosts[host].has_startup;
	e->wall = (int64_t)ts + (e->has_run ? s->hosts[host].run_off : 0);
	trk = api->json_obj_get(ev, "skb-tracking");
	if (trk && retisc_api__get_u64(api, trk, "orig_head", &e->k1) &&
	    retisc_api__get_u64(api, trk, "timestamp", &e->k2) && e->k1) {
		/* tracked */
	} else {
		e->k1 = 0;
		e->k2 = ++s->untracked;
	}
	e->ident = event_ident(api, ev, e);
	e->xmit = event_is_xmit(api, ev);
	s->n_ev++;
	return 0;
}

int stitch__use_run(struct stitch *s, int host, size_t i)
{
	if (i >= stitch__host_startups(s, host))
		return -EINVAL;
	s->hosts[host].run_off = s->hosts[host].offs[i];
	return 0;
}

static int ev_cmp(const void *a, const void *b)
{
	const struct st_event *x = a, *y = b;

	if (x->host != y->host)
		return x->host < y->host ? -1 : 1;
	if (x->k1 != y->k1)
		return x->k1 < y->k1 ? -1 : 1;
	if (x->k2 != y->k2)
		return x->k2 < y->k2 ? -1 : 1;
	return x->wall < y->wall ? -1 : x->wall > y->wall;
}

static size_t uf_find(struct stitch *s, size_t i)
{
	while (s->ser[i].parent != i) {
		s->ser[i].parent = s->ser[s->ser[i].parent].parent;
		i = s->ser[i].parent;
	}
	return i;
}

static void uf_union(struct stitch *s, size_t a, size_t b)
{
	a = uf_find(s, a);
	b = uf_find(s, b);
	if (a != b)
		s->ser[a > b ? a : b].parent = a < b ? a : b;
}

/* Series, one per (host, tracking id), with their identity. */
static int build_series(struct stitch *s)
{
	qsort(s->ev, s->n_ev, sizeof(*s->ev), ev_cmp);
	s->ser = calloc(s->n_ev ? s->n_ev : 1, sizeof(*s->ser));
	if (!s->ser)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_ev; i++) {
		struct st_event *e = &s->ev[i];
		struct st_series *cur = s->n_ser ? &s->ser[s->n_ser - 1] : NULL;

		/* A tracking id holding two packets (a buffer recycled with no
		 * end of life seen, doc/tracking.md §9) is two series here. */
		if (!cur || i == 0 || e->host != e[-1].host || e->k1 != e[-1].k1 ||
		    e->k2 != e[-1].k2 || (e->ident && cur->ident && e->ident != cur->ident)) {
			cur = &s->ser[s->n_ser];
			cur->host = e->host;
			cur->first_ev = i;
			cur->first = e->wall;
			cur->parent = s->n_ser;
			s->n_ser++;
		}
		cur->n_ev++;
		cur->last = e->wall;
		if (e->xmit || !cur->has_xmit)
			cur->leave = e->wall;
		cur->has_xmit |= e->xmit;
		if (!cur->ident) {
			cur->ident = e->ident;
			cur->src = e->src;
			cur->dst = e->dst;
		}
		e->series = s->n_ser - 1;
	}
	return 0;
}

static struct stitch *sort_ctx;

static int ident_cmp(const void *a, const void *b)
{
	const struct st_series *x = &sort_ctx->ser[*(const size_t *)a];
	const struct st_series *y = &sort_ctx->ser[*(const size_t *)b];

	if (x->ident != y->ident)
		return x->ident < y->ident ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

/* Matching only ever compares series of one identity: group them. */
static int index_idents(struct stitch *s)
{
	s->by_ident = malloc((s->n_ser ? s->n_ser : 1) * sizeof(size_t));
	if (!s->by_ident)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_ser; i++)
		if (s->ser[i].ident)
			s->by_ident[s->n_by_ident++] = i;
	sort_ctx = s;
	qsort(s->by_ident, s->n_by_ident, sizeof(size_t), ident_cmp);
	return 0;
}

/* End (exclusive) of the identity group starting at k in by_ident. */
static size_t group_end(const struct stitch *s, size_t k)
{
	size_t e = k + 1;

	while (e < s->n_by_ident && s->ser[s->by_ident[e]].ident == s->ser[s->by_ident[k]].ident)
		e++;
	return e;
}

static int i64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int64_t median(int64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), i64_cmp);
	return n % 2 ? v[n / 2] : v[n / 2 - 1] + (v[n / 2] - v[n / 2 - 1]) / 2;
}

struct pair {
	size_t a, b; /* series on host 0 and on host h */
	int64_t mid; /* middle of b minus middle of a */
};

static int pair_cmp(const void *x, const void *y)
{
	const struct pair *p = x, *q = y;

	return p->mid < q->mid ? -1 : p->mid > q->mid;
}

/*
 * Whether split k keeps each direction (the reference series' source and
 * destination) on one side, and has a packet on each side whose reverse
 * is on the other: a conversation, not one-way traffic whose delays vary.
 */
static bool split_by_direction(const struct stitch *s, const struct pair *p, size_t n, size_t k)
{
	bool reverse = false;

	for (size_t i = 0; i < k; i++) {
		const struct st_series *x = &s->ser[p[i].a];

		for (size_t j = k; j < n; j++) {
			const struct st_series *y = &s->ser[p[j].a];

			if (x->src == y->src && x->dst == y->dst)
				return false;
			if (x->src == y->dst && x->dst == y->src)
				reverse = true;
		}
	}
	return reverse;
}

/*
 * The split of the pairs (sorted by middle) into h-to-0 below and 0-to-h
 * above: the highest upper end of the lower part stays under the lowest
 * lower end of the upper part, and the sides are the two directions of a
 * conversation. Of the valid splits, the widest margin. 0 when there is
 * none (one-way traffic, or intervals that overlap).
 */
static size_t two_way_split(const struct stitch *s, const struct pair *p, size_t n, int64_t *margin)
{
	int64_t *min_lo = malloc((n + 1) * sizeof(*min_lo));
	int64_t max_hi = INT64_MIN;
	size_t best = 0;

	*margin = -1;
	if (!min_lo)
		return 0;
	/* min_lo[i]: the lowest (first on h - leave on 0) of pairs i..n-1. */
	min_lo[n] = INT64_MAX;
	for (size_t i = n; i-- > 0;) {
		int64_t lo = s->ser[p[i].b].first - s->ser[p[i].a].leave;

		min_lo[i] = lo < min_lo[i + 1] ? lo : min_lo[i + 1];
	}
	for (size_t k = 1; k < n; k++) {
		int64_t hi = s->ser[p[k - 1].b].leave - s->ser[p[k - 1].a].first;

		if (hi > max_hi)
			max_hi = hi;
		if (max_hi <= min_lo[k] && min_lo[k] - max_hi > *margin &&
		    split_by_direction(s, p, n, k)) {
			*margin = min_lo[k] - max_hi;
			best = k;
		}
	}
	free(min_lo);
	return best;
}

/*
 * The offset of host h to host 0: a packet from 0 to h gives
 * (first on h) - (leave on 0) = offset + delay, one from h to 0 gives
 * (leave on h) - (first on 0) = offset - delay; with both, the offset
 * lies between the highest of the latter and the lowest of the former,
 * and the middle of that window is taken (NTP's minimum-delay filter:
 * the fastest packet of each way bounds it best). Medians of the two
 * ways put a guest's receptions before the host's sends when the
 * delays of one way vary by more than the other's (seen with a QEMU
 * guest, doc/fleet.md §6). "Leave" is the last device
 * transmit of the series, not its last event: a NIC may free a sent
 * buffer after the other host received the packet (virtio-net does, seen
 * with a QEMU guest). The direction of a matched
 * packet is not known, but each pair's interval [(first on h) - (leave on
 * 0), (leave on h) - (first on 0)] lies wholly above the offset (0 to h) or
 * wholly below it (h to 0): sorted by their middles, the two directions
 * are the split where no interval of the lower part reaches into the upper
 * part (doc/processing.md §9). A split at the widest gap of the middles alone
 * failed when series durations vary more than the link delay (one kernel).
 */
static int estimate_offset(struct stitch *s, int ref, int h, struct stitch_offset *out)
{
	struct pair *p = NULL;
	size_t n = 0, cap = 0, split = 0;
	int64_t gap = -1, *v;
	int err = 0;

	for (size_t k = 0, end; k < s->n_by_ident; k = end) {
		end = group_end(s, k);
		for (size_t x = k; x < end; x++) {
			size_t i = s->by_ident[x];
			const struct st_series *a = &s->ser[i];

			if (a->host != ref)
				continue;
			for (size_t y = k; y < end; y++) {
				size_t j = s->by_ident[y];
				const struct st_series *b = &s->ser[j];

				if (b->host != h)
					continue;
				if (n == cap) {
					struct pair *q =
						realloc(p, (cap = cap ? 2 * cap : 64) * sizeof(*p));

					if (!q) {
						free(p);
						return -ENOMEM;
					}
					p = q;
				}
				p[n++] = (struct pair){.a = i,
						       .b = j,
						       .mid = (b->first + b->leave) / 2 -
							      (a->first + a->leave) / 2};
			}
		}
	}
	*out = (struct stitch_offset){.via = ref};
	if (!n)
		goto out;
	qsort(p, n, sizeof(*p), pair_cmp);
	split = two_way_split(s, p, n, &gap);
	v = malloc(n * sizeof(*v));
	if (!v) {
		err = -ENOMEM;
		goto out;
	}
	if (split) {
		int64_t lo = INT64_MIN, hi = INT64_MAX, d;

		/* The middle of what every matched packet allows: no packet
		 * arrives before it left, whichever way it went. */
		for (size_t i = 0; i < split; i++) { /* h to 0 */
			d = s->ser[p[i].b].leave - s->ser[p[i].a].first;
			lo = d > lo ? d : lo;
		}
		for (size_t i = split; i < n; i++) { /* 0 to h */
			d = s->ser[p[i].b].first - s->ser[p[i].a].leave;
			hi = d < hi ? d : hi;
		}
		out->ns = -(lo + (hi - lo) / 2);
		out->two_way = true;
	} else {
		for (size_t i = 0; i < n; i++)
			v[i] = p[i].mid;
		out->ns = -median(v, n);
	}
	out->matches = n;
	free(v);
out:
	free(p);
	return err;
}

/*
 * Every host's offset to host 0: from the packets it exchanged with host 0
 * when there are any, else through a host already aligned (the one with
 * the most matched packets), repeated while that aligns more hosts: a host
 * that only talks to a middle host still gets on the reference clock.
 */
static int align(struct stitch *s)
{
	struct stitch_offset o;
	bool more = true;
	int err = 0;

	for (size_t h = 1; h < s->n_hosts && !err; h++)
		err = estimate_offset(s, 0, (int)h, &s->hosts[h].off);
	while (more && !err) {
		more = false;
		for (size_t h = 1; h < s->n_hosts && !err; h++) {
			struct stitch_offset best = {0};

			if (s->hosts[h].off.matches)
				continue;
			for (size_t r = 1; r < s->n_hosts && !err; r++) {
				if (r == h || !s->hosts[r].off.matches)
					continue;
				err = estimate_offset(s, (int)r, (int)h, &o);
				if (!err && o.matches > best.matches)
					best = o;
			}
			if (!best.matches)
				continue;
			best.ns += s->hosts[best.via].off.ns;
			s->hosts[h].off = best;
			more = true;
		}
	}
	return err;
}

static int jr_cmp(const void *a, const void *b)
{
	const struct st_journey *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

static int jev_cmp(const void *a, const void *b)
{
	const struct st_event *x = &sort_ctx->ev[*(const size_t *)a];
	const struct st_event *y = &sort_ctx->ev[*(const size_t *)b];

	return x->wall < y->wall ? -1 : x->wall > y->wall;
}

/* Journeys: series joined by identity within the window, then sorted. */
static int assemble(struct stitch *s)
{
	size_t *root_jr;

	for (size_t k = 0, end; k < s->n_by_ident; k = end) {
		end = group_end(s, k);
		for (size_t x = k; x < end; x++) {
			struct st_series *a = &s->ser[s->by_ident[x]];

			for (size_t y = x + 1; y < end; y++) {
				struct st_series *b = &s->ser[s->by_ident[y]];

				if (b->host == a->host)
					continue;
				if (b->first - a->last > s->window ||
				    a->first - b->last > s->window)
					continue;
				uf_union(s, s->by_ident[x], s->by_ident[y]);
			}
		}
	}
	root_jr = malloc((s->n_ser ? s->n_ser : 1) * sizeof(*root_jr));
	if (!root_jr)
		return -ENOMEM;
	s->jr = calloc(s->n_ser ? s->n_ser : 1, sizeof(*s->jr));
	if (!s->jr) {
		free(root_jr);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->n_ser; i++) {
		size_t r = uf_find(s, i);
		struct st_journey *j;

		if (r == i) {
			root_jr[i] = s->n_jr;
			s->jr[s->n_jr++].root = i;
		}
		j = &s->jr[root_jr[r]];
		j->n_ev += s->ser[i].n_ev;
	}
	for (size_t k = 0; k < s->n_jr; k++) {
		s->jr[k].ev = malloc(s->jr[k].n_ev * sizeof(size_t));
		if (!s->jr[k].ev) {
			free(root_jr);
			return -ENOMEM;
		}
		s->jr[k].n_ev = 0;
		s->jr[k].first = INT64_MAX;
	}
	for (size_t i = 0; i < s->n_ser; i++) {
		struct st_journey *j = &s->jr[root_jr[uf_find(s, i)]];

		for (size_t e = 0; e < s->ser[i].n_ev; e++) {
			size_t idx = s->ser[i].first_ev + e;

			j->ev[j->n_ev++] = idx;
			if (s->ev[idx].wall < j->first)
				j->first = s->ev[idx].wall;
		}
		if (!(j->host_mask & (1ull << s->ser[i].host))) {
			j->host_mask |= 1ull << s->ser[i].host;
			j->n_hosts++;
		}
	}
	free(root_jr);
	sort_ctx = s;
	for (size_t k = 0; k < s->n_jr; k++)
		qsort(s->jr[k].ev, s->jr[k].n_ev, sizeof(size_t), jev_cmp);
	qsort(s->jr, s->n_jr, sizeof(*s->jr), jr_cmp);
	return 0;
}

int stitch__run(struct stitch *s)
{
	int err;

	for (size_t i = 0; i < s->n_ev; i++)
		if (!s->ev[i].has_run)
			s->ev[i].wall += s->hosts[s->ev[i].host].first_off;
	err = build_series(s) ?: index_idents(s) ?: align(s);
	if (err)
		return err;
	/* Everything on host 0's clock from here. */
	for (size_t i = 0; i < s->n_ev; i++)
		s->ev[i].wall += s->hosts[s->ev[i].host].off.ns;
	for (size_t i = 0; i < s->n_ser; i++) {
		int64_t off = s->hosts[s->ser[i].host].off.ns;

		s->ser[i].first += off;
		s->ser[i].last += off;
		s->ser[i].leave += off;
	}
	return assemble(s);
}

size_t stitch__n_hosts(const struct stitch *s)
{
	return s->n_hosts;
}

const char *stitch__host_name(const struct stitch *s, int host)
{
	return host >= 0 && (size_t)host < s->n_hosts ? s->hosts[host].name : NULL;
}

const struct stitch_offset *stitch__offset(const struct stitch *s, int host)
{
	return host >= 0 && (size_t)host < s->n_hosts ? &s->hosts[host].off : NULL;
}

size_t stitch__n_journeys(const struct stitch *s)
{
	return s->n_jr;
}

size_t stitch__journey_len(const struct stitch *s, size_t j)
{
	return j < s->n_jr ? s->jr[j].n_ev : 0;
}

size_t stitch__journey_hosts(const struct stitch *s, size_t j)
{
	return j < s->n_jr ? s->jr[j].n_hosts : 0;
}

const struct retisc_json *stitch__journey_event(const struct stitch *s, size_t j, size_t i,
						int *host, int64_t *wall_ns)
{
	const struct st_event *e;

	if (j >= s->n_jr || i >= s->jr[j].n_ev)
		return NULL;
	e = &s->ev[s->jr[j].ev[i]];
	if (host)
		*host = e->host;
	if (wall_ns)
		*wall_ns = e->wall;
	return e->ev;
}

size_t stitch__host_startups(const struct stitch *s, int host)
{
	return host >= 0 && (size_t)host < s->n_hosts ? s->hosts[host].n_startups : 0;
}

const struct retisc_json *stitch__host_startup(const struct stitch *s, int host, size_t i)
{
	return i < stitch__host_startups(s, host) ? s->hosts[host].startups[i] : NULL;
}

const struct retisc_json *stitch__journey_head(const struct stitch *s, size_t j, size_t i)
{
	const struct st_event *e;

	if (j >= s->n_jr || i >= s->jr[j].n_ev)
		return NULL;
	e = &s->ev[s->jr[j].ev[i]];
	if (!e->k1)
		return NULL;
	return s->ev[s->ser[e->series].first_ev].ev;
}
