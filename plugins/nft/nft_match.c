// SPDX-License-Identifier: GPL-2.0-only
/*
 * nft collector, netlink path (doc/collectors.md §7.7): which packet a trace
 * message belongs to, and when it becomes an event.
 *
 * A trace message names no skb (its id is a hash, not an address), so it is
 * matched to the packets' BPF events by content (struct retisc_nft_key) and
 * time. The bus thread shows every BPF event to the matcher, which keeps a
 * bounded window of recent ones (count and age); the listener thread adds
 * the messages it read. A message waits ("pending") until the BPF events
 * have caught up with it, since they reach userspace later than netlink
 * messages (the ring buffer is drained in batches), then:
 *
 *  - a drop verdict becomes an event as soon as the BPF event of its
 *    packet's skb-drop (reason NETFILTER_DROP) is seen, with that event's
 *    timestamp - 1 and before it in the output: the series reads nft drop,
 *    then skb-drop. The kernel sends the message just before it frees the
 *    packet, so that drop is the next thing the packet does;
 *  - any other message, once the BPF events are past the time retisc read
 *    it (plus drop_wait_ns for a drop that saw no skb-drop), takes the
 *    packet's last event before that time, else its first event within
 *    fwd_ns after it, else none; timestamp: when retisc read it, which is
 *    some microseconds after the verdict, so an event the packet had in
 *    between comes first in the series (doc/collectors.md §7.7 lists these
 *    limits).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <retisc/plugin_util.h>

#include "nft_int.h"

uint64_t retisc_nft_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* -------------------------------------------------------------------------
 * Verdicts (doc/events.md §4.13).
 */

static const char *const verdict_names[] = {
	"return", "goto",   "jump",   "break", "continue",	   /* -5 .. -1 */
	"drop",	  "accept", "stolen", "queue", "repeat",   "stop", /* 0 .. 5 */
};

/* Queue numbers and errnos in the upper bits of a non-negative code are
 * not part of the verdict (NF_VERDICT_MASK). */
const char *retisc_nft_verdict_name(uint32_t raw)
{
	int32_t v = (int32_t)raw;

	if (v >= 0)
		v &= 0xff;
	if (v < -5 || v > 5)
		return "unknown";
	return verdict_names[v + 5];
}

int retisc_nft_verdict_bit(int32_t code)
{
	int idx = code < 0 ? code + 5 : (code & 0xff) + 5;

	return idx >= 0 && idx < 10 ? idx : -1;
}

/* -------------------------------------------------------------------------
 * Content keys.
 */

#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMPV6 58
#define PROTO_UDPLITE 136

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The first transport bytes that identify a packet; checksums masked. */
static void key_l4(struct retisc_nft_key *k, uint8_t proto, const uint8_t *th, size_t len)
{
	size_t n = len < sizeof(k->l4) ? len : sizeof(k->l4);

	memcpy(k->l4, th, n);
	k->l4_len = (uint8_t)n;
	switch (proto) {
	case PROTO_UDP:
	case PROTO_UDPLITE:
		/* Ports and length. */
		if (n > 6)
			memset(&k->l4[6], 0, n - 6);
		break;
	case PROTO_ICMP:
	case PROTO_ICMPV6:
		/* Type, code, then id and sequence (echo) or what follows. */
		if (n > 2)
			memset(&k->l4[2], 0, n < 4 ? n - 2 : 2);
		break;
	default:
		/* TCP: ports and sequence number; others: their first bytes. */
		break;
	}
}

/* Offset of the transport header after IPv6 extension headers, or -1. */
static long ipv6_l4_off(const uint8_t *nh, size_t len)
{
	uint8_t next = nh[6];
	size_t off = 40;

	for (int i = 0; i < 8; i++) {
		switch (next) {
		case 0:	 /* hop-by-hop */
		case 43: /* routing */
		case 60: /* destination options */
			if (off + 2 > len)
				return -1;
			next = nh[off];
			off += ((size_t)nh[off + 1] + 1) * 8;
			break;
		case 44: /* fragment: a later fragment has no transport header */
			if (off + 8 > len || (be16(&nh[off + 2]) & 0xfff8))
				return -1;
			next = nh[off];
			off += 8;
			break;
		case 51: /* authentication header */
			if (off + 2 > len)
				return -1;
			next = nh[off];
			off += ((size_t)nh[off + 1] + 2) * 4;
			break;
		default:
			return off <= len ? (long)off : -1;
		}
	}
	return -1;
}

int retisc_nft_key__from_ip(struct retisc_nft_key *k, const uint8_t *nh, size_t nh_len,
			    const uint8_t *th, size_t th_len)
{
	memset(k, 0, sizeof(*k));
	if (nh_len < 1)
		return -EINVAL;
	if (nh[0] >> 4 == 4 && nh_len >= 20) {
		size_t ihl = (size_t)(nh[0] & 0xf) * 4;

		k->ver = 4;
		k->proto = nh[9];
		k->len = be16(&nh[2]);
		k->id = be16(&nh[4]);
		k->frag = be16(&nh[6]);
		/* Only a first fragment has the transport header. */
		if (k->frag & 0x1fff)
			return 0;
		if (!th && ihl >= 20 && ihl < nh_len) {
			th = nh + ihl;
			th_len = nh_len - ihl;
		}
		if (th)
			key_l4(k, k->proto, th, th_len);
		return 0;
	}
	if (nh[0] >> 4 == 6 && nh_len >= 40) {
		k->ver = 6;
		k->proto = nh[6];
		k->len = be16(&nh[4]);
		k->id = ((uint32_t)(nh[1] & 0xf) << 16) | be16(&nh[2]);
		if (!th) {
			long off = ipv6_l4_off(nh, nh_len);

			if (off < 0)
				return 0;
			th = nh + off;
			th_len = nh_len - (size_t)off;
		}
		/* The checksum mask follows the fixed header's next header
		 * on both sides: a trace message's network header stops
		 * there, so it never sees the real transport protocol behind
		 * extension headers. */
		key_l4(k, k->proto, th, th_len);
		return 0;
	}
	return -EINVAL;
}

int retisc_nft_key__from_frame(struct retisc_nft_key *k, const uint8_t *frame, size_t len)
{
	size_t off = 14;
	uint16_t et;

	memset(k, 0, sizeof(*k));
	if (len < off)
		return -EINVAL;
	et = be16(&frame[12]);
	while ((et == 0x8100 || et == 0x88a8) && len >= off + 4) {
		et = be16(&frame[off + 2]);
		off += 4;
	}
	if (et != 0x0800 && et != 0x86dd)
		return -EINVAL;
	return retisc_nft_key__from_ip(k, frame + off, len - off, NULL, 0);
}

bool retisc_nft_key__eq(const struct retisc_nft_key *a, const struct retisc_nft_key *b)
{
	return a->ver && !memcmp(a, b, sizeof(*a));
}

static uint32_t key_hash(const struct retisc_nft_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* -------------------------------------------------------------------------
 * The window: the last cfg.window packets' events, newest first by key.
 * A ring of entries numbered by a sequence; each bucket holds the sequence
 * of its newest entry and each entry the previous one of its bucket, so a
 * lookup walks only its key's chain and stops at an overwritten or too old
 * entry.
 */
struct win_ent {
	struct retisc_nft_seen s;
	uint64_t seq, prev; /* 0: none */
};

struct pending {
	struct retisc_nft_trace t;
	uint64_t added; /* wall CLOCK_MONOTONIC, for expire */
};

struct retisc_nft_matcher {
	pthread_mutex_t lock;
	struct retisc_nft_match_cfg cfg;
	retisc_nft_emit_fn emit;
	void *priv;
	struct win_ent *win;
	uint64_t *buckets;
	size_t n_buckets;
	uint64_t next_seq; /* sequence of the next entry, from 1 */
	uint64_t ev_time;  /* newest BPF event timestamp seen */
	struct pending **pend;
	size_t n_pend;
	struct retisc_nft_match_stats st;
};

void retisc_nft_match_cfg__default(struct retisc_nft_match_cfg *cfg)
{
	*cfg = (struct retisc_nft_match_cfg){
		.window = 16384,
		.back_ns = 1000000000ull,
		.fwd_ns = 20000000ull,
		.drop_wait_ns = 2000000ull,
		.expire_ns = 500000000ull,
		.pending_max = 4096,
	};
}

struct retisc_nft_matcher *retisc_nft_matcher__new(const struct retisc_nft_match_cfg *cfg,
						   retisc_nft_emit_fn emit, void *priv)
{
	struct retisc_nft_matcher *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->cfg = *cfg;
	if (!m->cfg.window)
		m->cfg.window = 1;
	if (!m->cfg.pending_max)
		m->cfg.pending_max = 1;
	m->emit = emit;
	m->priv = priv;
	m->next_seq = 1;
	for (m->n_buckets = 64; m->n_buckets < m->cfg.window; m->n_buckets <<= 1)
		;
	m->win = calloc(m->cfg.window, sizeof(*m->win));
	m->buckets = calloc(m->n_buckets, sizeof(*m->buckets));
	m->pend = calloc(m->cfg.pending_max, sizeof(*m->pend));
	if (!m->win || !m->buckets || !m->pend || pthread_mutex_init(&m->lock, NULL)) {
		free(m->win);
		free(m->buckets);
		free(m->pend);
		free(m);
		errno = ENOMEM;
		return NULL;
	}
	return m;
}

void retisc_nft_matcher__free(struct retisc_nft_matcher *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_pend; i++)
		free(m->pend[i]);
	free(m->pend);
	free(m->win);
	free(m->buckets);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static struct win_ent *win_get(struct retisc_nft_matcher *m, uint64_t seq)
{
	struct win_ent *e;

	if (!seq || seq + m->cfg.window < m->next_seq)
		return NULL;
	e = &m->win[seq % m->cfg.window];
	return e->seq == seq ? e : NULL;
}

static void win_add(struct retisc_nft_matcher *m, const struct retisc_nft_seen *s)
{
	size_t b = key_hash(&s->key) & (m->n_buckets - 1);
	uint64_t seq = m->next_seq++;
	struct win_ent *e = &m->win[seq % m->cfg.window];

	e->s = *s;
	e->seq = seq;
	e->prev = m->buckets[b];
	m->buckets[b] = seq;
}

/*
 * The packet of a message read at t: its newest event in [t - back, t],
 * else its oldest in (t, t + fwd]. NULL when none.
 */
static const struct retisc_nft_seen *win_find(struct retisc_nft_matcher *m,
					      const struct retisc_nft_key *k, uint64_t t)
{
	size_t b = key_hash(k) & (m->n_buckets - 1);
	const struct retisc_nft_seen *after = NULL;
	uint64_t lo = t > m->cfg.back_ns ? t - m->cfg.back_ns : 0;

	for (struct win_ent *e = win_get(m, m->buckets[b]); e; e = win_get(m, e->prev)) {
		if (!retisc_nft_key__eq(&e->s.key, k))
			continue;
		if (e->s.ts > t) {
			if (e->s.ts <= t + m->cfg.fwd_ns)
				after = &e->s;
			continue;
		}
		if (e->s.ts >= lo)
			return &e->s;
		/* Entries come in time order, give or take a CPU's batch. */
		break;
	}
	return after;
}

/* The NETFILTER_DROP event of the same packet near t, for a drop verdict
 * whose skb-drop was seen before the message (doc/collectors.md §7.7). */
static const struct retisc_nft_seen *win_find_drop(struct retisc_nft_matcher *m,
						   const struct retisc_nft_seen *p, uint64_t t)
{
	size_t b = key_hash(&p->key) & (m->n_buckets - 1);
	uint64_t lo = t > m->cfg.back_ns ? t - m->cfg.back_ns : 0;

	for (struct win_ent *e = win_get(m, m->buckets[b]); e; e = win_get(m, e->prev)) {
		if (e->s.ts < lo)
			break;
		if (e->s.nf_drop && e->s.orig_head == p->orig_head &&
		    e->s.first_ts == p->first_ts && e->s.ts <= t + m->cfg.fwd_ns)
			return &e->s;
	}
	return NULL;
}

static void pend_remove(struct retisc_nft_matcher *m, size_t i)
{
	free(m->pend[i]);
	memmove(&m->pend[i], &m->pend[i + 1], (m->n_pend - i - 1) * sizeof(*m->pend));
	m->n_pend--;
}

/* Emit pending message i with its packet (or none) and remove it. */
static void decide(struct retisc_nft_matcher *m, size_t i, const struct retisc_nft_seen *s,
		   uint64_t ts, bool drop_placed)
{
	if (s) {
		m->st.matched++;
		if (drop_placed)
			m->st.drop_placed++;
	} else {
		m->st.unmatched++;
	}
	m->emit(m->priv, &m->pend[i]->t, s, ts);
	pend_remove(m, i);
}

/* A drop verdict, of a rule or a policy (NF_DROP is 0). */
static bool is_drop(const struct retisc_nft_trace *t)
{
	return t->verdict >= 0 && (t->verdict & 0xff) == 0;
}

/* Decide message i now with what the window knows. */
static void decide_now(struct retisc_nft_matcher *m, size_t i)
{
	const struct retisc_nft_trace *t = &m->pend[i]->t;
	const struct retisc_nft_seen *s = t->key.ver ? win_find(m, &t->key, t->recv_ts) : NULL;
	const struct retisc_nft_seen *d;
	uint64_t ts = t->recv_ts;

	/* A drop whose skb-drop was written before the message was read:
	 * still timed just before it, though it follows it in the output. */
	if (s && is_drop(t) && (d = win_find_drop(m, s, t->recv_ts)))
		ts = d->ts - 1;
	decide(m, i, s, ts, false);
}

void retisc_nft_matcher__add_trace(struct retisc_nft_matcher *m, const struct retisc_nft_trace *t)
{
	struct pending *p = malloc(sizeof(*p));

	pthread_mutex_lock(&m->lock);
	m->st.traces++;
	/* Full: the oldest is decided now rather than lose the new one. */
	if (m->n_pend == m->cfg.pending_max) {
		m->st.overflow++;
		decide_now(m, 0);
	}
	if (p) {
		p->t = *t;
		p->added = retisc_nft_now();
		m->pend[m->n_pend++] = p;
	}
	pthread_mutex_unlock(&m->lock);
}

void retisc_nft_matcher__on_event(struct retisc_nft_matcher *m, uint64_t ts,
				  const struct retisc_nft_seen *s)
{
	pthread_mutex_lock(&m->lock);
	if (ts > m->ev_time)
		m->ev_time = ts;
	if (s && s->key.ver)
		win_add(m, s);
	/* The packet's skb-drop: its pending drop verdict goes just before. */
	if (s && s->nf_drop && s->key.ver) {
		for (size_t i = 0; i < m->n_pend; i++) {
			const struct retisc_nft_trace *t = &m->pend[i]->t;

			if (is_drop(t) && retisc_nft_key__eq(&t->key, &s->key) &&
			    s->ts + m->cfg.back_ns >= t->recv_ts &&
			    s->ts <= t->recv_ts + m->cfg.fwd_ns) {
				decide(m, i, s, s->ts - 1, true);
				break;
			}
		}
	}
	/* Messages the BPF events have caught up with. */
	for (size_t i = 0; i < m->n_pend;) {
		const struct retisc_nft_trace *t = &m->pend[i]->t;
		uint64_t wait = is_drop(t) ? m->cfg.drop_wait_ns : 0;
		const struct retisc_nft_seen *found;

		if (m->ev_time <= t->recv_ts + wait) {
			i++;
			continue;
		}
		found = t->key.ver ? win_find(m, &t->key, t->recv_ts) : NULL;
		/* Nothing yet: its packet's first event may still come. */
		if (!found && t->key.ver && m->ev_time <= t->recv_ts + m->cfg.fwd_ns) {
			i++;
			continue;
		}
		decide_now(m, i);
	}
	pthread_mutex_unlock(&m->lock);
}

void retisc_nft_matcher__expire(struct retisc_nft_matcher *m, uint64_t now)
{
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->n_pend;) {
		if (m->pend[i]->added + m->cfg.expire_ns < now)
			decide_now(m, i);
		else
			i++;
	}
	pthread_mutex_unlock(&m->lock);
}

void retisc_nft_matcher__flush(struct retisc_nft_matcher *m)
{
	pthread_mutex_lock(&m->lock);
	while (m->n_pend)
		decide_now(m, 0);
	pthread_mutex_unlock(&m->lock);
}

void retisc_nft_matcher__stats(struct retisc_nft_matcher *m, struct retisc_nft_match_stats *out)
{
	pthread_mutex_lock(&m->lock);
	*out = m->st;
	pthread_mutex_unlock(&m->lock);
}

/* -------------------------------------------------------------------------
 * Events (doc/events.md §4.13).
 */

/* obj[key] = a name field up to its NUL, invalid UTF-8 replaced. */
static int put_name(const struct retisc_api *api, struct retisc_json *obj, const char *key,
		    const char *field, size_t sz)
{
	return retisc_api__put(api, obj, key, api->json_new_str_lossy(field, strnlen(field, sz)));
}

struct retisc_json *retisc_nft_section__new(const struct retisc_api *api,
					    const struct retisc_nft_trace *t, bool matched)
{
	struct retisc_json *sec = api->json_new_object();
	const char *verdict = retisc_nft_verdict_name((uint32_t)t->verdict);
	const char *match = matched ? "content" : "none";
	int err;

	if (!sec)
		return NULL;
	err = put_name(api, sec, "table_name", t->table, sizeof(t->table));
	err = err ?: put_name(api, sec, "chain_name", t->chain, sizeof(t->chain));
	err = err ?: retisc_api__put(api, sec, "verdict", api->json_new_str(verdict));
	if ((!strcmp(verdict, "jump") || !strcmp(verdict, "goto")) && t->vchain[0])
		err = err ?: put_name(api, sec, "verdict_chain_name", t->vchain, sizeof(t->vchain));
	err = err ?: retisc_api__put(api, sec, "table_handle", api->json_new_i64(t->t_handle));
	err = err ?: retisc_api__put(api, sec, "chain_handle", api->json_new_i64(t->c_handle));
	if (t->r_handle >= 0)
		err = err
			      ?: retisc_api__put(api, sec, "rule_handle",
						 api->json_new_i64(t->r_handle));
	err = err ?: retisc_api__put_bool(api, sec, "policy", t->policy);
	/* retisc additions (doc/events.md §4.13): where the event came from. */
	err = err ?: retisc_api__put_u64(api, sec, "trace_id", t->id);
	err = err ?: retisc_api__put(api, sec, "match", api->json_new_str(match));
	if (t->has_iif)
		err = err ?: retisc_api__put_u64(api, sec, "iif", t->iif);
	if (t->has_oif)
		err = err ?: retisc_api__put_u64(api, sec, "oif", t->oif);
	if (t->mark)
		err = err ?: retisc_api__put_u64(api, sec, "mark", t->mark);
	if (err) {
		api->json_free(sec);
		return NULL;
	}
	return sec;
}

struct retisc_json *retisc_nft_event__new(const struct retisc_api *api,
					  const struct retisc_nft_trace *t,
					  const struct retisc_nft_seen *m, uint64_t ts)
{
	struct retisc_json *ev = api->json_new_object();
	struct retisc_json *common = api->json_new_object();
	int err = ev && common ? 0 : -ENOMEM;

	/* No smp_id nor task: the verdict's CPU and task are not known; no
	 * kernel section: no probe fired (doc/events.md §2). */
	err = err ?: retisc_api__put_u64(api, common, "timestamp", ts);
	if (ev)
		err = retisc_api__put_section(api, ev, "common", common, err);
	else
		api->json_free(common);
	if (m && !err) {
		struct retisc_json *trk = api->json_new_object();
		int e = trk ? 0 : -ENOMEM;

		e = e ?: retisc_api__put_u64(api, trk, "orig_head", m->orig_head);
		e = e ?: retisc_api__put_u64(api, trk, "timestamp", m->first_ts);
		e = e ?: retisc_api__put_u64(api, trk, "skb", m->skb);
		err = retisc_api__put_section(api, ev, "skb-tracking", trk, e);
	}
	err = err ?: retisc_api__put(api, ev, "nft", retisc_nft_section__new(api, t, m != NULL));
	if (err) {
		api->json_free(ev);
		return NULL;
	}
	return ev;
}
