// SPDX-License-Identifier: GPL-2.0-only
/*
 * sort's algorithm (doc/processing.md §2.2-§2.5).
 *
 * Maps are chained hash tables whose entries also sit on an age list (least
 * recently used first), which is what lets old entries be forgotten in O(1)
 * per entry instead of scanning the maps. Buffered series are kept in a
 * binary min-heap by (first-seen timestamp, orig_head), the order of Retis's
 * BTreeMap, plus an index to find a series by key.
 *
 * The state per packet is what bounds memory on a busy file (one id per
 * packet, kept for --forget-after of event time: 65 s at a million events
 * per second is tens of millions of ids), so it is kept small
 * (doc/processing.md §2.7): map entries and tracking infos live in arrays
 * and refer to each other by 32-bit numbers, about 90 bytes per id in all,
 * where separately allocated nodes and a JSON tree per id took 600.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <retisc/base64.h>
#include <retisc/json.h>
#include <retisc/plugin.h>
#include <retisc/strbuf.h>

#include "sort_engine.h"

/* -------------------------------------------------------------------------
 * Hash table with an age list. Entries are numbered from 1 (0: none) and
 * carved out of one array of entries of the table's key size.
 */
#define KEY_WORDS 4 /* largest key: a flow (ufid, flow, sf_acts) */
#define HTAB_MIN_BUCKETS 64
#define POOL_MIN 64

struct hent {
	uint64_t seen; /* event time of the last use */
	uint32_t chain, older, newer;
	uint32_t val; /* an info, flow or series number */
	uint64_t key[];
};

struct htab {
	uint32_t *b;
	size_t nb, n, peak;
	unsigned int kw; /* key words */
	size_t stride;	 /* bytes per entry */
	unsigned char *pool;
	uint32_t used, cap; /* entries carved out of pool, room */
	uint32_t free;	    /* free entries, through chain */
	uint32_t oldest, newest;
};

static void htab_init(struct htab *h, unsigned int kw)
{
	memset(h, 0, sizeof(*h));
	h->kw = kw;
	h->stride = sizeof(struct hent) + kw * sizeof(uint64_t);
}

static struct hent *he(const struct htab *h, uint32_t e)
{
	return (struct hent *)(h->pool + (size_t)(e - 1) * h->stride);
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static size_t key_hash(const struct htab *h, const uint64_t *key)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	for (unsigned int i = 0; i < h->kw; i++)
		x = mix64(x ^ key[i]);
	return (size_t)x;
}

static bool key_eq(const struct htab *h, const uint64_t *a, const uint64_t *b)
{
	for (unsigned int i = 0; i < h->kw; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

static int htab_resize(struct htab *h, size_t nb)
{
	uint32_t *b = calloc(nb, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < h->nb; i++) {
		uint32_t e = h->b[i], next;

		for (; e; e = next) {
			struct hent *x = he(h, e);
			size_t j = key_hash(h, x->key) & (nb - 1);

			next = x->chain;
			x->chain = b[j];
			b[j] = e;
		}
	}
	free(h->b);
	h->b = b;
	h->nb = nb;
	return 0;
}

static uint32_t htab_find(const struct htab *h, const uint64_t *key)
{
	uint32_t e;

	if (!h->nb)
		return 0;
	for (e = h->b[key_hash(h, key) & (h->nb - 1)]; e; e = he(h, e)->chain)
		if (key_eq(h, he(h, e)->key, key))
			return e;
	return 0;
}

static void age_link(struct htab *h, uint32_t e)
{
	struct hent *x = he(h, e);

	x->older = h->newest;
	x->newer = 0;
	if (h->newest)
		he(h, h->newest)->newer = e;
	else
		h->oldest = e;
	h->newest = e;
}

static void age_unlink(struct htab *h, uint32_t e)
{
	struct hent *x = he(h, e);

	if (x->older)
		he(h, x->older)->newer = x->newer;
	else
		h->oldest = x->newer;
	if (x->newer)
		he(h, x->newer)->older = x->older;
	else
		h->newest = x->older;
}

static void htab_touch(struct htab *h, uint32_t e, uint64_t now)
{
	if (h->newest != e) {
		age_unlink(h, e);
		age_link(h, e);
	}
	he(h, e)->seen = now;
}

/* Add key (absent) -> val: its entry number, 0 on ENOMEM. Entry pointers
 * taken before are stale afterwards (the pool may move). */
static uint32_t htab_add(struct htab *h, const uint64_t *key, uint32_t val, uint64_t now)
{
	struct hent *x;
	uint32_t e;
	size_t i;

	if (h->n >= h->nb && htab_resize(h, h->nb ? h->nb * 2 : HTAB_MIN_BUCKETS))
		return 0;
	if (h->free) {
		e = h->free;
		h->free = he(h, e)->chain;
	} else {
		if (h->used == h->cap) {
			uint32_t cap = h->cap ? h->cap * 2 : POOL_MIN;
			unsigned char *p;

			if (cap <= h->cap)
				return 0;
			p = realloc(h->pool, (size_t)cap * h->stride);
			if (!p)
				return 0;
			h->pool = p;
			h->cap = cap;
		}
		e = ++h->used;
	}
	x = he(h, e);
	memcpy(x->key, key, h->kw * sizeof(uint64_t));
	x->val = val;
	x->seen = now;
	i = key_hash(h, key) & (h->nb - 1);
	x->chain = h->b[i];
	h->b[i] = e;
	age_link(h, e);
	if (++h->n > h->peak)
		h->peak = h->n;
	return e;
}

/* Unlink and free entry e; returns its value. */
static uint32_t htab_del(struct htab *h, uint32_t e)
{
	struct hent *x = he(h, e);
	uint32_t *pp = &h->b[key_hash(h, x->key) & (h->nb - 1)];
	uint32_t val = x->val;

	while (*pp != e)
		pp = &he(h, *pp)->chain;
	*pp = x->chain;
	age_unlink(h, e);
	x->chain = h->free;
	h->free = e;
	h->n--;
	/* Give memory back after a burst; a failed shrink is harmless. */
	if (h->nb > HTAB_MIN_BUCKETS && h->n * 8 < h->nb)
		htab_resize(h, h->nb / 2);
	return val;
}

/* Bytes held (the entries ever used, the buckets), for the debug log. */
static size_t htab_bytes(const struct htab *h)
{
	return (size_t)h->used * h->stride + h->nb * sizeof(*h->b);
}

/* -------------------------------------------------------------------------
 * Numbered pointers (flows, series): the maps hold 32-bit numbers. A free
 * slot holds the next free number, shifted and tagged with bit 0.
 */
struct pvec {
	void **p;
	uint32_t used, cap, free;
};

static uint32_t pvec_put(struct pvec *v, void *ptr)
{
	uint32_t i;

	if (v->free) {
		i = v->free;
		v->free = (uint32_t)((uintptr_t)v->p[i - 1] >> 1);
	} else {
		if (v->used == v->cap) {
			uint32_t cap = v->cap ? v->cap * 2 : POOL_MIN;
			void **p = cap > v->cap ? realloc(v->p, cap * sizeof(*p)) : NULL;

			if (!p)
				return 0;
			v->p = p;
			v->cap = cap;
		}
		i = ++v->used;
	}
	v->p[i - 1] = ptr;
	return i;
}

static void *pvec_get(const struct pvec *v, uint32_t i)
{
	return v->p[i - 1];
}

static void *pvec_take(struct pvec *v, uint32_t i)
{
	void *ptr = v->p[i - 1];

	v->p[i - 1] = (void *)((uintptr_t)v->free << 1 | 1);
	v->free = i;
	return ptr;
}

/* -------------------------------------------------------------------------
 * State.
 */

/* What --diff compares (the last known value of each attribute). */
enum {
	SNAP_SRC = 1 << 0,
	SNAP_DST = 1 << 1,
	SNAP_DEV = 1 << 2,
	SNAP_NS = 1 << 3,
	SNAP_LEN = 1 << 4,
	SNAP_MARK = 1 << 5,
	SNAP_CT = 1 << 6,
};

struct snap {
	unsigned int have;
	char src[64], dst[64]; /* address[.port] */
	char dev[48], ns[48], ct[24];
	uint64_t len, mark;
};

/*
 * Tracking info of a packet (doc/processing.md §2.2), shared by map entries
 * (refs of them), numbered from 1 in s->infos. Its id (ts, head) is also its
 * series key; skb is the third field of the first event's skb-tracking,
 * which makes `tracking.skb` with the first two. A free info is on a list
 * through idx.
 */
struct info {
	uint64_t ts, head, skb;
	uint64_t prev_ts; /* --deltas */
	uint32_t idx;
	uint32_t refs : 31;
	uint32_t has_prev : 1;
};

struct flow {
	struct retisc_json *dpflow, *ofpflows;
};

struct node {
	struct node *next;
	struct retisc_json *ev; /* NULL: the event is raw[] */
	uint64_t ts;
	struct retisc_sort_note note;
	size_t raw_len;
	char raw[]; /* __add_raw(): the line, tracking included */
};

struct series {
	uint64_t ts, head;
	struct node *first, *last;
	size_t n;
};

struct retisc_sort {
	const struct retisc_api *api;
	struct retisc_sort_opts o;
	retisc_sort_emit_fn emit;
	void *ctx;
	struct htab ids, queues, upcalls, flows, index;
	struct info *infos;
	struct snap **snaps; /* --diff: last attributes, per info */
	uint32_t info_used, info_cap, info_free;
	struct pvec flowv, seriesv;
	struct series **heap;
	size_t heap_n, heap_cap;
	struct node *un_first, *un_last;
	size_t buffered, peak_buffered;
	size_t peak_state; /* bytes of the maps and infos */
	uint64_t now;	   /* largest common.timestamp read */
	bool startup_seen;
	uint64_t events, emitted, forgotten;
	struct retisc_strbuf out; /* emit_json's line */
};

static void set_err(char *err, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errsz)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

static bool present(const struct retisc_sort *s, const struct retisc_json *v)
{
	return v && s->api->json_type(v) != RETISC_JSON_NULL;
}

static bool get_u64(const struct retisc_sort *s, const struct retisc_json *obj, const char *key,
		    uint64_t *out)
{
	return s->api->json_get_u64(s->api->json_obj_get(obj, key), out);
}

static const char *get_str(const struct retisc_sort *s, const struct retisc_json *obj,
			   const char *key)
{
	return s->api->json_get_str(s->api->json_obj_get(obj, key), NULL);
}

static struct info *info_at(const struct retisc_sort *s, uint32_t i)
{
	return &s->infos[i - 1];
}

/* A new info (refs 0) for id (ts, head): its number, 0 on ENOMEM. Info
 * pointers taken before are stale afterwards. */
static uint32_t info_new(struct retisc_sort *s, uint64_t ts, uint64_t head, uint64_t skb)
{
	struct info *info;
	uint32_t i;

	if (s->info_free) {
		i = s->info_free;
		s->info_free = info_at(s, i)->idx;
	} else {
		if (s->info_used == s->info_cap) {
			uint32_t cap = s->info_cap ? s->info_cap * 2 : POOL_MIN;
			struct info *p =
				cap > s->info_cap ? realloc(s->infos, cap * sizeof(*p)) : NULL;

			if (!p)
				return 0;
			s->infos = p;
			if (s->o.diff) {
				struct snap **q = realloc(s->snaps, cap * sizeof(*q));

				if (!q)
					return 0;
				memset(q + s->info_cap, 0, (cap - s->info_cap) * sizeof(*q));
				s->snaps = q;
			}
			s->info_cap = cap;
		}
		i = ++s->info_used;
	}
	info = info_at(s, i);
	memset(info, 0, sizeof(*info));
	info->ts = ts;
	info->head = head;
	info->skb = skb;
	return i;
}

static void info_put(struct retisc_sort *s, uint32_t i)
{
	struct info *info;

	if (!i)
		return;
	info = info_at(s, i);
	if (--info->refs)
		return;
	if (s->snaps) {
		free(s->snaps[i - 1]);
		s->snaps[i - 1] = NULL;
	}
	info->idx = s->info_free;
	s->info_free = i;
}

static void drop_info(struct retisc_sort *s, uint32_t val)
{
	info_put(s, val);
}

static void drop_flow(struct retisc_sort *s, uint32_t val)
{
	struct flow *f = pvec_take(&s->flowv, val);

	s->api->json_free(f->dpflow);
	s->api->json_free(f->ofpflows);
	free(f);
}

static void drop_nothing(struct retisc_sort *s, uint32_t val)
{
	(void)s;
	(void)val;
}

static void htab_release(struct retisc_sort *s, struct htab *h,
			 void (*drop)(struct retisc_sort *s, uint32_t val))
{
	unsigned int kw = h->kw;

	while (h->oldest)
		drop(s, htab_del(h, h->oldest));
	free(h->b);
	free(h->pool);
	htab_init(h, kw);
}

/* Bytes of per-id state now; the peak goes to the debug log. */
static void state_account(struct retisc_sort *s)
{
	size_t b = htab_bytes(&s->ids) + htab_bytes(&s->queues) + htab_bytes(&s->upcalls) +
		   htab_bytes(&s->flows) + (size_t)s->info_used * sizeof(struct info);

	if (b > s->peak_state)
		s->peak_state = b;
}

static void node_free(struct retisc_sort *s, struct node *n)
{
	s->api->json_free(n->ev);
	free(n->note.diff);
	free(n);
}

static void node_list_free(struct retisc_sort *s, struct node *n)
{
	struct node *next;

	for (; n; n = next) {
		next = n->next;
		node_free(s, n);
	}
}

/* Put info under key in map h, replacing (and releasing) a previous value. */
static int map_set(struct retisc_sort *s, struct htab *h, const uint64_t *key, uint32_t info)
{
	uint32_t e = htab_find(h, key);

	info_at(s, info)->refs++;
	if (e) {
		uint32_t old = he(h, e)->val;

		he(h, e)->val = info;
		htab_touch(h, e, s->now);
		info_put(s, old);
		return 0;
	}
	if (!htab_add(h, key, info, s->now)) {
		info_at(s, info)->refs--;
		return -ENOMEM;
	}
	return 0;
}

/* -------------------------------------------------------------------------
 * Series heap, ordered like Retis's BTreeMap key (timestamp, orig_head).
 */
static bool series_less(const struct series *a, const struct series *b)
{
	return a->ts < b->ts || (a->ts == b->ts && a->head < b->head);
}

static int heap_push(struct retisc_sort *s, struct series *x)
{
	size_t i;

	if (s->heap_n == s->heap_cap) {
		size_t cap = s->heap_cap ? s->heap_cap * 2 : 64;
		struct series **h = realloc(s->heap, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		s->heap = h;
		s->heap_cap = cap;
	}
	for (i = s->heap_n++; i; i = (i - 1) / 2) {
		struct series *parent = s->heap[(i - 1) / 2];

		if (!series_less(x, parent))
			break;
		s->heap[i] = parent;
	}
	s->heap[i] = x;
	return 0;
}

static struct series *heap_pop(struct retisc_sort *s)
{
	struct series *top = s->heap[0], *x = s->heap[--s->heap_n];
	size_t i = 0, n = s->heap_n;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && series_less(s->heap[c + 1], s->heap[c]))
			c++;
		if (!series_less(s->heap[c], x))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (n)
		s->heap[i] = x;
	return top;
}

/* -------------------------------------------------------------------------
 * Forgetting (retisc): doc/processing.md keeps skb_map and queue_map forever,
 * which makes memory grow with the file. An id that no event used for
 * forget_ns is closed: the collectors' tracking GC deletes kernel entries
 * unseen for 60 s, so that packet cannot show up again under the same id.
 */
/*
 * Drop the oldest-seen entries of h while they are older than limit (time
 * window) or h holds more than max (--max-ids). The ids of buffered series
 * are kept, touched instead: a buffered series still needs its idx to
 * continue. Each entry is looked at once per call, so that the loop ends
 * even when max < the buffered series.
 */
static void forget_entries(struct retisc_sort *s, struct htab *h, uint64_t limit, size_t max,
			   bool ids, void (*drop)(struct retisc_sort *, uint32_t))
{
	size_t tries = h->n;
	uint32_t e;

	while (tries-- && (e = h->oldest) && (he(h, e)->seen < limit || h->n > max)) {
		if (ids) {
			const struct info *info = info_at(s, he(h, e)->val);
			uint64_t key[KEY_WORDS] = {info->ts, info->head};

			if (htab_find(&s->index, key)) {
				htab_touch(h, e, s->now);
				continue;
			}
		}
		drop(s, htab_del(h, e));
		s->forgotten++;
	}
}

static void forget_map(struct retisc_sort *s, struct htab *h, uint64_t limit, bool ids,
		       void (*drop)(struct retisc_sort *, uint32_t))
{
	forget_entries(s, h, limit, SIZE_MAX, ids, drop);
}

/* --max-ids: the least recently used entries beyond max go. */
static void forget_count(struct retisc_sort *s, struct htab *h, bool ids,
			 void (*drop)(struct retisc_sort *, uint32_t))
{
	forget_entries(s, h, 0, s->o.max_ids, ids, drop);
}

static void forget(struct retisc_sort *s)
{
	uint64_t limit;

	if (s->o.max_ids) {
		forget_count(s, &s->ids, true, drop_info);
		forget_count(s, &s->queues, false, drop_info);
		forget_count(s, &s->upcalls, false, drop_info);
		forget_count(s, &s->flows, false, drop_flow);
	}
	if (!s->o.forget_ns || s->now <= s->o.forget_ns)
		return;
	limit = s->now - s->o.forget_ns;
	/* Nothing is old enough: the common case, without a call per map. */
	if ((!s->ids.oldest || he(&s->ids, s->ids.oldest)->seen >= limit) &&
	    (!s->queues.oldest || he(&s->queues, s->queues.oldest)->seen >= limit) &&
	    (!s->upcalls.oldest || he(&s->upcalls, s->upcalls.oldest)->seen >= limit) &&
	    (!s->flows.oldest || he(&s->flows, s->flows.oldest)->seen >= limit))
		return;
	forget_map(s, &s->ids, limit, true, drop_info);
	forget_map(s, &s->queues, limit, false, drop_info);
	forget_map(s, &s->upcalls, limit, false, drop_info);
	forget_map(s, &s->flows, limit, false, drop_flow);
}

/* -------------------------------------------------------------------------
 * --diff: attributes of an event.
 */
static void fmt_ipv6(char *out, size_t sz, const uint8_t *a)
{
	uint16_t g[8];
	int best = -1, best_len = 0, i, n = 0;

	for (i = 0; i < 8; i++)
		g[i] = (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]);
	if (!g[0] && !g[1] && !g[2] && !g[3] && !g[4] && g[5] == 0xffff) {
		snprintf(out, sz, "::ffff:%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
		return;
	}
	/* First longest run of at least two zero groups becomes "::". */
	for (i = 0; i < 8;) {
		int j = i;

		while (j < 8 && !g[j])
			j++;
		if (j - i > best_len && j - i >= 2) {
			best = i;
			best_len = j - i;
		}
		i = j > i ? j : i + 1;
	}
	for (i = 0; i < 8 && (size_t)n < sz; i++) {
		if (i == best) {
			n += snprintf(out + n, sz - n, "::");
			i += best_len - 1;
			continue;
		}
		n += snprintf(out + n, sz - n, "%s%x", n && out[n - 1] != ':' ? ":" : "", g[i]);
	}
}

static void fmt_addr(char *out, size_t sz, const uint8_t *a, bool v6, bool ports, uint16_t port)
{
	char addr[48];

	if (v6)
		fmt_ipv6(addr, sizeof(addr), a);
	else
		snprintf(addr, sizeof(addr), "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
	if (ports)
		snprintf(out, sz, "%s.%u", addr, port);
	else
		snprintf(out, sz, "%s", addr);
}

/* Addresses and ports of the captured bytes (doc/events.md §6 layout). */
static void snap_packet(const uint8_t *p, size_t n, struct snap *sn)
{
	size_t off = 14, l4;
	const uint8_t *src, *dst;
	bool v6, ports = false;
	uint16_t et, sport = 0, dport = 0;
	uint8_t proto;

	if (n < 14)
		return;
	et = (uint16_t)(p[12] << 8 | p[13]);
	while ((et == 0x8100 || et == 0x88a8 || et == 0x9100) && off + 4 <= n) {
		et = (uint16_t)(p[off + 2] << 8 | p[off + 3]);
		off += 4;
	}
	if (et == 0x0800 && off + 20 <= n) {
		v6 = false;
		proto = p[off + 9];
		src = p + off + 12;
		dst = p + off + 16;
		l4 = off + (size_t)(p[off] & 0xf) * 4;
		/* Later fragments carry no transport header. */
		if ((p[off + 6] & 0x1f) || p[off + 7])
			proto = 0;
	} else if (et == 0x86dd && off + 40 <= n) {
		v6 = true;
		proto = p[off + 6];
		src = p + off + 8;
		dst = p + off + 24;
		l4 = off + 40;
	} else {
		return;
	}
	if ((proto == 6 || proto == 17 || proto == 132) && l4 + 4 <= n) {
		ports = true;
		sport = (uint16_t)(p[l4] << 8 | p[l4 + 1]);
		dport = (uint16_t)(p[l4 + 2] << 8 | p[l4 + 3]);
	}
	fmt_addr(sn->src, sizeof(sn->src), src, v6, ports, sport);
	fmt_addr(sn->dst, sizeof(sn->dst), dst, v6, ports, dport);
	sn->have |= SNAP_SRC | SNAP_DST;
}

static void snap_take(const struct retisc_sort *s, const struct retisc_json *ev, struct snap *sn)
{
	const struct retisc_api *api = s->api;
	const struct retisc_json *pkt = api->json_obj_get(ev, "packet");
	const struct retisc_json *dev = api->json_obj_get(ev, "dev");
	const struct retisc_json *ns = api->json_obj_get(ev, "netns");
	const struct retisc_json *ct = api->json_obj_get(ev, "ct");
	const struct retisc_json *meta = api->json_obj_get(api->json_obj_get(ev, "skb"), "meta");
	uint64_t v, cookie;
	const char *str;
	size_t len;

	memset(sn, 0, sizeof(*sn));
	str = api->json_get_str(api->json_obj_get(pkt, "data"), &len);
	if (str) {
		uint8_t buf[512];
		ssize_t n = retisc_base64__decode(str, len, buf, sizeof(buf));

		if (n > 0)
			snap_packet(buf, (size_t)n, sn);
	}
	if (get_u64(s, pkt, "len", &sn->len) || get_u64(s, meta, "len", &sn->len))
		sn->have |= SNAP_LEN;
	if (get_u64(s, dev, "ifindex", &v)) {
		str = get_str(s, dev, "name");
		if (str && *str)
			snprintf(sn->dev, sizeof(sn->dev), "%" PRIu64 " (%s)", v, str);
		else
			snprintf(sn->dev, sizeof(sn->dev), "%" PRIu64, v);
		sn->have |= SNAP_DEV;
	}
	if (get_u64(s, ns, "inum", &v)) {
		if (get_u64(s, ns, "cookie", &cookie))
			snprintf(sn->ns, sizeof(sn->ns), "%#" PRIx64 "/%" PRIu64, cookie, v);
		else
			snprintf(sn->ns, sizeof(sn->ns), "%" PRIu64, v);
		sn->have |= SNAP_NS;
	}
	if (get_u64(s, ct, "mark", &sn->mark))
		sn->have |= SNAP_MARK;
	str = get_str(s, ct, "state");
	if (str) {
		size_t i;

		/* The text's spelling of the state (doc/events.md §4.14). */
		for (i = 0; str[i] && i + 1 < sizeof(sn->ct); i++)
			sn->ct[i] = (char)(str[i] >= 'a' && str[i] <= 'z' ? str[i] - 32 : str[i]);
		sn->ct[i] = '\0';
		sn->have |= SNAP_CT;
	}
}

static void diff_str(struct retisc_strbuf *sb, const char *what, const char *a, const char *b)
{
	if (strcmp(a, b))
		retisc_strbuf__printf(sb, "%s%s %s -> %s", sb->len ? ", " : "", what, a, b);
}

static void diff_u64(struct retisc_strbuf *sb, const char *what, uint64_t a, uint64_t b)
{
	if (a != b)
		retisc_strbuf__printf(sb, "%s%s %" PRIu64 " -> %" PRIu64, sb->len ? ", " : "", what,
				      a, b);
}

/*
 * Compare the event's attributes with the last known ones of the packet;
 * returns the change list (malloc'ed) or NULL. Then remember the event's
 * attributes: one missing from an event (no packet in a USDT event, say)
 * keeps its last known value rather than counting as a change.
 */
static char *snap_diff(struct snap *last, const struct snap *cur)
{
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;
	unsigned int both = last->have & cur->have;

	if (both & SNAP_SRC)
		diff_str(&sb, "src", last->src, cur->src);
	if (both & SNAP_DST)
		diff_str(&sb, "dst", last->dst, cur->dst);
	if (both & SNAP_DEV)
		diff_str(&sb, "if", last->dev, cur->dev);
	if (both & SNAP_NS)
		diff_str(&sb, "ns", last->ns, cur->ns);
	if (both & SNAP_LEN)
		diff_u64(&sb, "len", last->len, cur->len);
	if (both & SNAP_MARK)
		diff_u64(&sb, "mark", last->mark, cur->mark);
	if (both & SNAP_CT)
		diff_str(&sb, "ct_state", last->ct, cur->ct);

	if (cur->have & SNAP_SRC)
		memcpy(last->src, cur->src, sizeof(last->src));
	if (cur->have & SNAP_DST)
		memcpy(last->dst, cur->dst, sizeof(last->dst));
	if (cur->have & SNAP_DEV)
		memcpy(last->dev, cur->dev, sizeof(last->dev));
	if (cur->have & SNAP_NS)
		memcpy(last->ns, cur->ns, sizeof(last->ns));
	if (cur->have & SNAP_LEN)
		last->len = cur->len;
	if (cur->have & SNAP_MARK)
		last->mark = cur->mark;
	if (cur->have & SNAP_CT)
		memcpy(last->ct, cur->ct, sizeof(last->ct));
	last->have |= cur->have;
	return sb.buf;
}

/* -------------------------------------------------------------------------
 * Step A: tracking assignment.
 */

/* doc/events.md §2 ranks, to put `tracking` at its place (before rank 50). */
static unsigned int key_rank(const char *key)
{
	static const struct {
		const char *key;
		unsigned int rank;
	} ranks[] = {
		{"common", 10},
		{"kernel", 20},
		{"userspace", 30},
		{"tracking", 40},
	};

	for (size_t i = 0; i < sizeof(ranks) / sizeof(ranks[0]); i++)
		if (!strcmp(ranks[i].key, key))
			return ranks[i].rank;
	return 1000;
}

static void fmt_id(char *buf, size_t sz, uint64_t ts, uint64_t head)
{
	if (ts)
		snprintf(buf, sz, "#%" PRIx64 "%016" PRIx64, ts, head);
	else
		snprintf(buf, sz, "#%" PRIx64, head);
}

/* ATTACH(e, info) of §2.3, plus the retisc annotations. */
static int attach(struct retisc_sort *s, struct node *nd, uint32_t info_no, char *err, size_t errsz)
{
	const struct retisc_api *api = s->api;
	struct retisc_json *tr = api->json_obj_get(nd->ev, "tracking");
	struct info *info = info_at(s, info_no);
	struct retisc_json *skb;
	uint64_t ts, head;
	size_t pos, n;
	int ret;

	if (present(s, tr)) {
		skb = api->json_obj_get(tr, "skb");
		if (!get_u64(s, skb, "timestamp", &ts) || !get_u64(s, skb, "orig_head", &head) ||
		    ts != info->ts || head != info->head) {
			char have[64] = "?", want[64];

			if (get_u64(s, skb, "timestamp", &ts) &&
			    get_u64(s, skb, "orig_head", &head))
				fmt_id(have, sizeof(have), ts, head);
			fmt_id(want, sizeof(want), info->ts, info->head);
			set_err(err, errsz,
				"Event already has info section (%s) and does not match computed "
				"(%s)",
				have, want);
			return -EINVAL;
		}
	} else {
		tr = api->json_new_object();
		if (!tr)
			return -ENOMEM;
		/* Retis's tracking.skb has exactly these keys (no retisc "lost"). */
		skb = api->json_new_object();
		ret = !skb || api->json_obj_set(tr, "skb", skb) ||
		      api->json_obj_set(skb, "orig_head", api->json_new_u64(info->head)) ||
		      api->json_obj_set(skb, "timestamp", api->json_new_u64(info->ts)) ||
		      api->json_obj_set(skb, "skb", api->json_new_u64(info->skb)) ||
		      api->json_obj_set(tr, "idx", api->json_new_u64(info->idx));
		if (ret) {
			api->json_free(tr);
			return -ENOMEM;
		}
		n = api->json_obj_len(nd->ev);
		for (pos = 0; pos < n; pos++)
			if (key_rank(api->json_obj_key(nd->ev, pos)) > 40)
				break;
		ret = api->json_obj_insert(nd->ev, pos, "tracking", tr);
		if (ret)
			return ret;
	}

	if (s->o.deltas) {
		if (info->has_prev) {
			nd->note.has_delta = true;
			nd->note.delta_ns = (int64_t)(nd->ts - info->prev_ts);
		}
		info->has_prev = true;
		info->prev_ts = nd->ts;
	}
	if (s->o.diff) {
		struct snap cur, **last = &s->snaps[info_no - 1];

		snap_take(s, nd->ev, &cur);
		if (!*last) {
			*last = calloc(1, sizeof(**last));
			if (!*last)
				return -ENOMEM;
		}
		nd->note.diff = snap_diff(*last, &cur);
	}
	return 0;
}

/* The tracking id of an skb-tracking section: 1, 0 (none) or -EINVAL. */
static int skb_id(const struct retisc_sort *s, const struct retisc_json *ev, uint64_t *ts,
		  uint64_t *head, uint64_t *skb, char *err, size_t errsz)
{
	const struct retisc_json *st = s->api->json_obj_get(ev, "skb-tracking");

	if (!present(s, st))
		return 0;
	if (!get_u64(s, st, "timestamp", ts) || !get_u64(s, st, "orig_head", head) ||
	    !get_u64(s, st, "skb", skb)) {
		set_err(err, errsz, "malformed skb-tracking section");
		return -EINVAL;
	}
	return 1;
}

/*
 * SKB(e) of §2.3 for the id (ts, head) with skb address skb: take the info
 * stored under it and count the event, or create it. Its number in *out.
 */
static int id_info(struct retisc_sort *s, uint64_t ts, uint64_t head, uint64_t skb, uint32_t *out)
{
	uint64_t key[KEY_WORDS] = {ts, head};
	uint32_t e = htab_find(&s->ids, key), i;

	if (e) {
		i = he(&s->ids, e)->val;
		info_at(s, i)->idx++;
		htab_touch(&s->ids, e, s->now);
		*out = i;
		return 0;
	}
	i = info_new(s, ts, head, skb);
	if (!i)
		return -ENOMEM;
	info_at(s, i)->refs = 1;
	if (!htab_add(&s->ids, key, i, s->now)) {
		info_put(s, i);
		return -ENOMEM;
	}
	*out = i;
	return 0;
}

/* SKB(e) of §2.3: *out is 0 when the event has no skb-tracking. */
static int skb_assign(struct retisc_sort *s, struct node *nd, uint32_t *out, char *err,
		      size_t errsz)
{
	uint64_t ts, head, skb;
	int ret;

	*out = 0;
	ret = skb_id(s, nd->ev, &ts, &head, &skb, err, errsz);
	if (ret <= 0)
		return ret;
	ret = id_info(s, ts, head, skb, out);
	return ret ?: attach(s, nd, *out, err, errsz);
}

static int ovs_u64(const struct retisc_sort *s, const struct retisc_json *ovs, const char *key,
		   uint64_t *out, char *err, size_t errsz)
{
	if (get_u64(s, ovs, key, out))
		return 0;
	set_err(err, errsz, "malformed ovs event: no %s", key);
	return -EINVAL;
}

/* recv_upcall, flow_operation, action_execute with a queue_id. */
static int queue_assign(struct retisc_sort *s, const struct retisc_json *ovs, uint32_t *out,
			char *err, size_t errsz)
{
	uint64_t key[KEY_WORDS] = {0};
	uint32_t e;
	int ret;

	ret = ovs_u64(s, ovs, "queue_id", &key[0], err, errsz);
	if (ret)
		return ret;
	e = htab_find(&s->queues, key);
	if (!e) {
		set_err(err, errsz, "Queue Id lookup failed for OVS userspace event: %" PRIu64,
			key[0]);
		return -EINVAL;
	}
	htab_touch(&s->queues, e, s->now);
	*out = he(&s->queues, e)->val;
	info_at(s, *out)->idx++;
	return 0;
}

static int assign(struct retisc_sort *s, struct node *nd, uint32_t *out, char *err, size_t errsz)
{
	const struct retisc_api *api = s->api;
	const struct retisc_json *ovs = api->json_obj_get(nd->ev, "ovs");
	uint64_t key[KEY_WORDS] = {0}, skb;
	const char *type = get_str(s, ovs, "event_type");
	uint32_t info, e;
	int ret;

	*out = 0;
	if (!type)
		return skb_assign(s, nd, out, err, errsz);

	if (!strcmp(type, "upcall")) {
		ret = skb_assign(s, nd, out, err, errsz);
		if (ret || !*out)
			return ret;
		key[1] = nd->ts;
		ret = ovs_u64(s, ovs, "cpu", &key[0], err, errsz);
		return ret ?: map_set(s, &s->upcalls, key, *out);
	}
	if (!strcmp(type, "upcall_enqueue")) {
		uint64_t qkey[KEY_WORDS] = {0};

		ret = ovs_u64(s, ovs, "upcall_cpu", &key[0], err, errsz) ?:
		      ovs_u64(s, ovs, "upcall_ts", &key[1], err, errsz) ?:
		      ovs_u64(s, ovs, "queue_id", &qkey[0], err, errsz);
		if (ret)
			return ret;
		e = htab_find(&s->upcalls, key);
		if (!e) {
			set_err(err, errsz, "Enqueue without an associated upcall event.");
			return -EINVAL;
		}
		info = he(&s->upcalls, e)->val;
		htab_touch(&s->upcalls, e, s->now);
		info_at(s, info)->idx++;
		ret = map_set(s, &s->queues, qkey, info);
		if (ret)
			return ret;
		*out = info;
		return attach(s, nd, info, err, errsz);
	}
	if (!strcmp(type, "recv_upcall") || !strcmp(type, "flow_operation")) {
		ret = queue_assign(s, ovs, out, err, errsz);
		return ret ?: attach(s, nd, *out, err, errsz);
	}
	if (!strcmp(type, "action_execute") && present(s, api->json_obj_get(ovs, "queue_id"))) {
		ret = queue_assign(s, ovs, out, err, errsz);
		if (ret)
			return ret;
		/* The re-injected skb's own id now leads to the upcalled packet. */
		ret = skb_id(s, nd->ev, &key[0], &key[1], &skb, err, errsz);
		if (ret < 0)
			return ret;
		if (ret) {
			ret = map_set(s, &s->ids, key, *out);
			if (ret)
				return ret;
		}
		return attach(s, nd, *out, err, errsz);
	}
	if (!strcmp(type, "upcall_return")) {
		ret = skb_assign(s, nd, out, err, errsz);
		if (ret)
			return ret;
		if (get_u64(s, ovs, "upcall_cpu", &key[0]) &&
		    get_u64(s, ovs, "upcall_ts", &key[1])) {
			e = htab_find(&s->upcalls, key);
			if (e)
				info_put(s, htab_del(&s->upcalls, e));
		}
		return 0;
	}
	/* flow_lookup, action_execute without queue_id, anything else. */
	return skb_assign(s, nd, out, err, errsz);
}

/* -------------------------------------------------------------------------
 * Output.
 */

/* The flow key of an ovs-detrace section or a flow_lookup event. */
static bool flow_key(const struct retisc_sort *s, const struct retisc_json *sec, uint64_t *key)
{
	const struct retisc_api *api = s->api;
	const struct retisc_json *ufid = api->json_obj_get(sec, "ufid");
	uint64_t u[4];

	if (api->json_type(ufid) != RETISC_JSON_ARRAY || api->json_arr_len(ufid) != 4)
		return false;
	for (size_t i = 0; i < 4; i++)
		if (!api->json_get_u64(api->json_arr_get(ufid, i), &u[i]) || u[i] > UINT32_MAX)
			return false;
	key[0] = u[0] << 32 | u[1];
	key[1] = u[2] << 32 | u[3];
	return get_u64(s, sec, "flow", &key[2]) && get_u64(s, sec, "sf_acts", &key[3]);
}

static bool is_flow_lookup(const struct retisc_sort *s, const struct retisc_json *ev,
			   const struct retisc_json **ovs)
{
	const char *type;

	*ovs = s->api->json_obj_get(ev, "ovs");
	type = get_str(s, *ovs, "event_type");
	return type && !strcmp(type, "flow_lookup");
}

/* §2.5: flow_lookup events get dpflow/ofpflows of their ovs-detrace. */
static int enrich(struct retisc_sort *s, struct node *nd)
{
	const struct retisc_api *api = s->api;
	const struct retisc_json *ovs;
	uint64_t key[KEY_WORDS];
	struct flow *f;
	uint32_t e;

	/* Raw events have no ovs section (sort_scan.h). */
	if (!nd->ev || !is_flow_lookup(s, nd->ev, &ovs) || !flow_key(s, ovs, key))
		return 0;
	e = htab_find(&s->flows, key);
	if (!e)
		return 0;
	f = pvec_get(&s->flowv, he(&s->flows, e)->val);
	return api->json_obj_set((struct retisc_json *)ovs, "dpflow", api->json_copy(f->dpflow))
		       ?: api->json_obj_set((struct retisc_json *)ovs, "ofpflows",
					    api->json_copy(f->ofpflows));
}

/*
 * emit_json: the series as one JSON line (doc/processing.md §2.6), handed
 * over piece by piece rather than assembled here first: one copy less of
 * every line on the way to the output.
 */
static int emit_json(struct retisc_sort *s, struct node *first)
{
	void *ctx = s->ctx;
	int ret;

	ret = s->o.emit_json(ctx, "[", 1);
	for (struct node *nd = first; nd && !ret; nd = nd->next) {
		if (nd != first)
			ret = s->o.emit_json(ctx, ",", 1);
		if (ret)
			break;
		if (nd->ev) {
			retisc_strbuf__reset(&s->out);
			ret = s->api->json_dump(nd->ev, &s->out)
				      ?: s->o.emit_json(ctx, s->out.buf, s->out.len);
			/* Do not keep one huge event's buffer. */
			if (s->out.cap > (1u << 20))
				retisc_strbuf__release(&s->out);
		} else {
			ret = s->o.emit_json(ctx, nd->raw, nd->raw_len);
		}
	}
	return ret ?: s->o.emit_json(ctx, "]\n", 2);
}

/* Emit a list of nodes as one series and free them. */
static int emit_nodes(struct retisc_sort *s, struct node *first, size_t n)
{
	const struct retisc_api *api = s->api;
	struct retisc_sort_note *notes = NULL;
	struct retisc_json *arr = NULL;
	struct node *nd;
	size_t i = 0;
	int ret = -ENOMEM;

	if (s->o.emit_json) {
		s->emitted++;
		ret = emit_json(s, first);
		node_list_free(s, first);
		return ret;
	}
	arr = api->json_new_array();
	notes = calloc(n ? n : 1, sizeof(*notes));
	if (!arr || !notes)
		goto out;
	for (nd = first; nd; nd = nd->next, i++) {
		notes[i] = nd->note;
		nd->note.diff = NULL; /* moved to notes */
		ret = api->json_arr_append(arr, nd->ev);
		nd->ev = NULL;
		if (ret)
			goto out;
	}
	s->emitted++;
	ret = s->emit(s->ctx, arr, notes, n);
out:
	/* Unfilled notes are zero: freeing all n is right on every path. */
	for (size_t j = 0; notes && j < n; j++)
		free(notes[j].diff);
	free(notes);
	api->json_free(arr);
	node_list_free(s, first);
	return ret;
}

/* POP of §2.5: 1 when something was emitted, 0 when nothing is buffered. */
static int pop(struct retisc_sort *s)
{
	struct series *top = s->heap_n ? s->heap[0] : NULL;
	struct node *u = s->un_first, *nd;
	uint64_t key[KEY_WORDS] = {0};
	size_t n;
	int ret;

	if (!top && !u)
		return 0;
	if (top && (!u || top->ts < u->ts)) {
		heap_pop(s);
		key[0] = top->ts;
		key[1] = top->head;
		pvec_take(&s->seriesv, htab_del(&s->index, htab_find(&s->index, key)));
		nd = top->first;
		n = top->n;
		free(top);
		s->buffered -= n;
		for (struct node *x = nd; x; x = x->next) {
			ret = enrich(s, x);
			if (ret) {
				node_list_free(s, nd);
				return ret;
			}
		}
	} else {
		s->un_first = u->next;
		if (!s->un_first)
			s->un_last = NULL;
		u->next = NULL;
		nd = u;
		n = 1;
		s->buffered--;
	}
	ret = emit_nodes(s, nd, n);
	return ret ? ret : 1;
}

/* -------------------------------------------------------------------------
 * Step B and the public functions.
 */

/* ovs-detrace: remember the enrichment of its flow (§2.4 step 1). */
static int remember_flow(struct retisc_sort *s, const struct retisc_json *ev)
{
	const struct retisc_api *api = s->api;
	const struct retisc_json *sec = api->json_obj_get(ev, "ovs-detrace");
	uint64_t key[KEY_WORDS];
	struct flow *f;
	uint32_t e, fi;

	if (!present(s, sec) || !flow_key(s, sec, key))
		return 0;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->dpflow = api->json_copy(api->json_obj_get(sec, "dpflow"));
	f->ofpflows = api->json_copy(api->json_obj_get(sec, "ofpflows"));
	if (!f->dpflow)
		f->dpflow = api->json_new_str("");
	if (!f->ofpflows)
		f->ofpflows = api->json_new_array();
	fi = f->dpflow && f->ofpflows ? pvec_put(&s->flowv, f) : 0;
	if (!fi) {
		api->json_free(f->dpflow);
		api->json_free(f->ofpflows);
		free(f);
		return -ENOMEM;
	}
	e = htab_find(&s->flows, key);
	if (e) {
		drop_flow(s, he(&s->flows, e)->val);
		he(&s->flows, e)->val = fi;
		htab_touch(&s->flows, e, s->now);
		return 0;
	}
	if (!htab_add(&s->flows, key, fi, s->now)) {
		drop_flow(s, fi);
		return -ENOMEM;
	}
	return 0;
}

/* A flow still looked up stays remembered. */
static void touch_flow(struct retisc_sort *s, const struct retisc_json *ev)
{
	const struct retisc_json *ovs;
	uint64_t key[KEY_WORDS];
	uint32_t e;

	if (!is_flow_lookup(s, ev, &ovs) || !flow_key(s, ovs, key))
		return;
	e = htab_find(&s->flows, key);
	if (e)
		htab_touch(&s->flows, e, s->now);
}

/* Step B 2: into the series of id key, or untracked (key NULL). */
static int buffer(struct retisc_sort *s, struct node *nd, const uint64_t *key)
{
	struct series *sr;
	uint32_t e, si;

	if (!key) {
		if (s->un_last)
			s->un_last->next = nd;
		else
			s->un_first = nd;
		s->un_last = nd;
		return 0;
	}
	e = htab_find(&s->index, key);
	if (e) {
		sr = pvec_get(&s->seriesv, he(&s->index, e)->val);
	} else {
		sr = calloc(1, sizeof(*sr));
		if (!sr)
			return -ENOMEM;
		sr->ts = key[0];
		sr->head = key[1];
		si = pvec_put(&s->seriesv, sr);
		if (!si) {
			free(sr);
			return -ENOMEM;
		}
		if (!htab_add(&s->index, key, si, s->now)) {
			pvec_take(&s->seriesv, si);
			free(sr);
			return -ENOMEM;
		}
		if (heap_push(s, sr)) {
			pvec_take(&s->seriesv, htab_del(&s->index, htab_find(&s->index, key)));
			free(sr);
			return -ENOMEM;
		}
	}
	if (sr->last)
		sr->last->next = nd;
	else
		sr->first = nd;
	sr->last = nd;
	sr->n++;
	return 0;
}

/* The series key of a tree event, from its tracking: false if untracked. */
static bool tree_key(const struct retisc_sort *s, const struct retisc_json *ev, uint64_t *key)
{
	const struct retisc_api *api = s->api;
	const struct retisc_json *skb = api->json_obj_get(api->json_obj_get(ev, "tracking"), "skb");

	return get_u64(s, skb, "timestamp", &key[0]) && get_u64(s, skb, "orig_head", &key[1]);
}

/* Step B 3 and 4, once the event is buffered. */
static int buffered(struct retisc_sort *s)
{
	int ret;

	if (++s->buffered > s->peak_buffered)
		s->peak_buffered = s->buffered;
	if (!(s->events & 1023))
		state_account(s);
	while (s->o.max_buffer && s->buffered >= s->o.max_buffer) {
		ret = pop(s);
		if (ret < 0)
			return ret;
	}
	return 0;
}

struct retisc_sort *retisc_sort__new(const struct retisc_api *api,
				     const struct retisc_sort_opts *opts, retisc_sort_emit_fn emit,
				     void *ctx)
{
	struct retisc_sort *s;

	if (!api || !opts || (!emit && !opts->emit_json)) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->api = api;
	s->o = *opts;
	s->emit = emit;
	s->ctx = ctx;
	htab_init(&s->ids, 2);
	htab_init(&s->queues, 1);
	htab_init(&s->upcalls, 2);
	htab_init(&s->flows, 4);
	htab_init(&s->index, 2);
	return s;
}

void retisc_sort__free(struct retisc_sort *s)
{
	if (!s)
		return;
	htab_release(s, &s->ids, drop_info);
	htab_release(s, &s->queues, drop_info);
	htab_release(s, &s->upcalls, drop_info);
	htab_release(s, &s->flows, drop_flow);
	htab_release(s, &s->index, drop_nothing);
	for (size_t i = 0; i < s->heap_n; i++) {
		node_list_free(s, s->heap[i]->first);
		free(s->heap[i]);
	}
	free(s->heap);
	node_list_free(s, s->un_first);
	if (s->snaps)
		for (uint32_t i = 0; i < s->info_cap; i++)
			free(s->snaps[i]);
	free(s->snaps);
	free(s->infos);
	free(s->flowv.p);
	free(s->seriesv.p);
	retisc_strbuf__release(&s->out);
	free(s);
}

/* Count an event of time ts read. */
static void clock_event(struct retisc_sort *s, uint64_t ts)
{
	s->events++;
	if (ts > s->now)
		s->now = ts;
}

int retisc_sort__add(struct retisc_sort *s, struct retisc_json *event, uint64_t origin, char *err,
		     size_t errsz)
{
	const struct retisc_api *api = s->api;
	const struct retisc_json *common = api->json_obj_get(event, "common");
	const struct retisc_json *st;
	uint64_t key[KEY_WORDS] = {0};
	uint32_t info;
	struct node *nd;
	int ret;

	nd = calloc(1, sizeof(*nd));
	if (!nd) {
		api->json_free(event);
		return -ENOMEM;
	}
	nd->ev = event;
	nd->note.origin = origin;
	if (api->json_type(common) != RETISC_JSON_OBJECT) {
		set_err(err, errsz, "malformed event: no common section");
		ret = -EINVAL;
		goto fail;
	}
	if (!get_u64(s, common, "timestamp", &nd->ts)) {
		set_err(err, errsz, "malformed event: no timestamp in common section");
		ret = -EINVAL;
		goto fail;
	}
	clock_event(s, nd->ts);

	/* retisc: the first startup event leads the output, whatever the
	 * packets' first-seen timestamps (doc/processing.md §2.5). */
	if (!s->startup_seen && present(s, api->json_obj_get(event, "startup"))) {
		s->startup_seen = true;
		return emit_nodes(s, nd, 1);
	}

	forget(s);
	ret = assign(s, nd, &info, err, errsz);
	if (ret)
		goto fail;
	if (s->o.lost) {
		st = api->json_obj_get(event, "skb-tracking");
		get_u64(s, st, "lost", &nd->note.lost);
	}
	ret = remember_flow(s, event);
	if (ret)
		goto fail;
	touch_flow(s, event);
	ret = buffer(s, nd, tree_key(s, event, key) ? key : NULL);
	if (ret)
		goto fail;
	return buffered(s);
fail:
	node_free(s, nd);
	return ret;
}

/* Write v in decimal at p; returns the end. */
static char *put_u64(char *p, uint64_t v)
{
	char buf[20], *q = buf + sizeof(buf);

	do {
		*--q = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	memcpy(p, q, (size_t)(buf + sizeof(buf) - q));
	return p + (buf + sizeof(buf) - q);
}

static char *put_str(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

#define PUT_LIT(p, lit) put_str(p, lit, sizeof(lit) - 1)

/* The longest tracking member: its keys, four 20-digit numbers, a comma. */
#define TRACKING_MAX 160

/* `"tracking":{...}` of info, as the JSON writer writes it (attach()). */
static char *put_tracking(char *p, const struct info *info)
{
	p = PUT_LIT(p, "\"tracking\":{\"skb\":{\"orig_head\":");
	p = put_u64(p, info->head);
	p = PUT_LIT(p, ",\"timestamp\":");
	p = put_u64(p, info->ts);
	p = PUT_LIT(p, ",\"skb\":");
	p = put_u64(p, info->skb);
	p = PUT_LIT(p, "},\"idx\":");
	p = put_u64(p, info->idx);
	*p++ = '}';
	return p;
}

int retisc_sort__add_raw(struct retisc_sort *s, const char *line, size_t len,
			 const struct retisc_sort_scan *f, uint64_t origin, char *err, size_t errsz)
{
	uint64_t key[KEY_WORDS] = {0};
	uint32_t info = 0;
	struct node *nd;
	char *p;
	int ret;

	(void)err;
	(void)errsz;
	if (!s->o.emit_json || f->insert_at > len)
		return -EINVAL;
	clock_event(s, f->ts);
	forget(s);
	if (f->has_id) {
		ret = id_info(s, f->id_ts, f->id_head, f->id_skb, &info);
		if (ret)
			return ret;
		/* The series of the info, which an OVS re-injection may have
		 * pointed this id at (§2.3). */
		key[0] = info_at(s, info)->ts;
		key[1] = info_at(s, info)->head;
	}
	nd = malloc(sizeof(*nd) + len + (info ? TRACKING_MAX : 0));
	if (!nd)
		return -ENOMEM;
	memset(nd, 0, sizeof(*nd));
	nd->ts = f->ts;
	nd->note.origin = origin;
	nd->note.lost = f->lost;
	/* ATTACH: the line with `tracking` spliced in at its rank. */
	p = put_str(nd->raw, line, f->insert_at);
	if (info) {
		if (f->at_end)
			*p++ = ',';
		p = put_tracking(p, info_at(s, info));
		if (!f->at_end)
			*p++ = ',';
	}
	p = put_str(p, line + f->insert_at, len - f->insert_at);
	nd->raw_len = (size_t)(p - nd->raw);
	ret = buffer(s, nd, info ? key : NULL);
	if (ret) {
		node_free(s, nd);
		return ret;
	}
	return buffered(s);
}

void retisc_sort__prefetch(const struct retisc_sort *s, uint64_t ts, uint64_t head, int stage)
{
	const struct htab *h = &s->ids;
	uint64_t key[KEY_WORDS] = {ts, head};
	const uint32_t *b;

	if (!h->nb)
		return;
	b = &h->b[key_hash(h, key) & (h->nb - 1)];
	if (!stage)
		__builtin_prefetch(b);
	else if (*b)
		__builtin_prefetch(he(h, *b));
}

int retisc_sort__finish(struct retisc_sort *s)
{
	int ret;

	state_account(s);
	while ((ret = pop(s)) > 0)
		;
	return ret;
}

void retisc_sort__counts(const struct retisc_sort *s, struct retisc_sort_counts *c)
{
	memset(c, 0, sizeof(*c));
	c->ids = s->ids.n;
	c->queues = s->queues.n;
	c->upcalls = s->upcalls.n;
	c->flows = s->flows.n;
	c->buffered = s->buffered;
	c->series = s->heap_n;
	c->peak_ids = s->ids.peak;
	c->peak_queues = s->queues.peak;
	c->peak_upcalls = s->upcalls.peak;
	c->peak_flows = s->flows.peak;
	c->peak_buffered = s->peak_buffered;
	c->peak_state_bytes = s->peak_state;
	c->events = s->events;
	c->emitted = s->emitted;
	c->forgotten = s->forgotten;
}
