/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * skb tracking, run by the core probe program before the hook chain
 * (track_start) and by the submit stage after it (track_end). The algorithm
 * and the reasons behind every rule are in doc/tracking.md; section numbers
 * below (§N) refer to it.
 */
#ifndef __RETISC_TRACKING_BPF_H
#define __RETISC_TRACKING_BPF_H

#include "core_maps.bpf.h"
#include <retisc/skb.bpf.h>
#include <retisc/pkt_ident.h>
#include <bpf/bpf_endian.h>

/* Counters of struct retisc_tracking_stats (--tracking-report). */
enum trk_counter {
	TRK_CREATED,
	TRK_RELEASED,	   /* ended at a free probe / skb tracepoint */
	TRK_V1,		   /* stale by the exclusive-owner rule */
	TRK_V2,		   /* head change followed */
	TRK_INSERT_FAILED, /* tracking_map insert refused */
	TRK_REUSED,	   /* dead entry taken over in place */
	TRK_KMEM,	   /* ended by the kmem end of life */
	TRK_GUARD,	   /* the identity guard saw another packet */
};

static __always_inline void trk_stat(enum trk_counter c)
{
	__u32 zero = 0;
	struct retisc_tracking_stats *st = bpf_map_lookup_elem(&retisc_trk_stats, &zero);

	if (!st)
		return;
	switch (c) {
	case TRK_CREATED:
		st->created++;
		break;
	case TRK_RELEASED:
		st->released++;
		break;
	case TRK_V1:
		st->v1_stale++;
		break;
	case TRK_V2:
		st->v2_relinked++;
		break;
	case TRK_INSERT_FAILED:
		st->insert_failed++;
		break;
	case TRK_REUSED:
		st->reused++;
		break;
	case TRK_KMEM:
		st->kmem_ended++;
		break;
	case TRK_GUARD:
		st->guard_split++;
		break;
	}
}

/* errno values of the kernel ABI (BPF programs have no errno.h). */
#define TRK_EEXIST 17

/*
 * Ended entries stay in place, dead, in tracepoint mode (LRU maps) instead
 * of being deleted. Data buffers and sk_buff structs come from slab and
 * page-fragment caches and are handed out again within microseconds, so the
 * next packet on the same address finds the dead entry and takes it over in
 * place: a delete plus an LRU insert per packet and per map (bucket lock,
 * LRU list lock, hashing twice) became a lookup and plain stores. Dead
 * entries are never referenced again and are the first ones LRU evicts; the
 * GC drops them silently. Kprobe mode's tracking_map is a plain HASH that
 * never evicts: it keeps deleting.
 *
 * Dead marks: tracking_map timestamp 0 (a live one holds the first-seen
 * ktime), tracking_skb_map head 0, stack_tracking_map value 0.
 */
#define TRK_IN_PLACE (retisc_tracking_mode == RETISC_TRACKING_TRACEPOINT)

/* The live tracking_map entry under key, or NULL. */
static __always_inline struct retisc_tracking_info *trk_ti_get(__u64 *key)
{
	struct retisc_tracking_info *ti = bpf_map_lookup_elem(&tracking_map, key);

	if (ti && TRK_IN_PLACE && !ti->timestamp)
		return NULL;
	return ti;
}

/* End of an entry: ti is the live entry trk_ti_get() returned for key. */
static __always_inline void trk_ti_end(__u64 *key, struct retisc_tracking_info *ti)
{
	if (TRK_IN_PLACE)
		ti->timestamp = 0;
	else
		bpf_map_delete_elem(&tracking_map, key);
}

/*
 * Insert new_ti under key unless a live entry holds it: 0 or -EEXIST (or
 * the map's error). A dead entry is claimed with a compare-and-swap of its
 * timestamp, so that two CPUs cannot both take it.
 */
static __always_inline int trk_ti_insert(__u64 *key, const struct retisc_tracking_info *new_ti,
					 struct retisc_tracking_info *ti)
{
	if (TRK_IN_PLACE) {
		/* ti: what a lookup of key returned earlier in this hit. */
		if (ti) {
			if (__sync_val_compare_and_swap(&ti->timestamp, 0, new_ti->timestamp))
				return -TRK_EEXIST;
			ti->last_seen = new_ti->last_seen;
			ti->orig_head = new_ti->orig_head;
			ti->stack_ref = new_ti->stack_ref;
			ti->last_skb = new_ti->last_skb;
			ti->lost = new_ti->lost;
			ti->flags = new_ti->flags;
			ti->ident = new_ti->ident;
			ti->freed_timestamp = 0;
			trk_stat(TRK_REUSED);
			return 0;
		}
	}
	return bpf_map_update_elem(&tracking_map, key, new_ti, BPF_NOEXIST);
}

/* Fields of the hit's sk_buff, from the copy in the context. */
static __always_inline __u8 trk_skb_cloned(const struct retisc_ctx *ctx)
{
	return RETISC_SKB_BITFIELD(ctx, cloned);
}

static __always_inline __u64 trk_skb_head(const struct retisc_ctx *ctx)
{
	return (__u64)RETISC_SKB(ctx, head);
}

/* Bucket of an address in tracking_kmem_filter (Fibonacci hashing). */
static __always_inline __u32 trk_kmem_slot(__u64 addr)
{
	return (__u32)((addr * 0x9E3779B97F4A7C15ull) >> (64 - RETISC_KMEM_FILTER_BITS));
}

/*
 * §9.10: let the kmem programs end the entry keyed by addr when that block
 * is freed: keep addr in its bucket, in a free way, else in place of the
 * way its hash picks.
 */
static __always_inline void trk_kmem_watch(__u64 addr)
{
	struct retisc_kmem_bucket *b;
	__u32 idx;

	if (!TRK_IN_PLACE || !retisc_trk_kmem)
		return;
	idx = trk_kmem_slot(addr);
	b = bpf_map_lookup_elem(&tracking_kmem_filter, &idx);
	if (!b || b->addr[0] == addr || b->addr[1] == addr || b->addr[2] == addr ||
	    b->addr[3] == addr)
		return;
	if (!b->addr[0])
		b->addr[0] = addr;
	else if (!b->addr[1])
		b->addr[1] = addr;
	else if (!b->addr[2])
		b->addr[2] = addr;
	else if (!b->addr[3])
		b->addr[3] = addr;
	else
		b->addr[(addr * 0x9E3779B97F4A7C15ull) & (RETISC_KMEM_WAYS - 1)] = addr;
}

/* The identity of the hit's packet, read once per hit (0: unknown). */
struct trk_ident {
	__u64 v;
	__u8 done;
};

#ifndef barrier_var
#define barrier_var(var) asm volatile("" : "+r"(var))
#endif

#define TRK_CHECKSUM_PARTIAL 3
#define TRK_U16_UNSET 0xffff

/*
 * §9.11: read the first RETISC_IDENT_BUF bytes of the packet, from its MAC
 * header when the skb has a valid one, else from its network header, into
 * the scratch event (unused before the core sections are written) and take
 * their identity.
 */
static __noinline __u64 trk_ident_read(const struct retisc_ctx *ctx, struct retisc_scratch *ev)
{
	__u16 mac = RETISC_SKB(ctx, mac_header), net = RETISC_SKB(ctx, network_header);
	__u16 mac_len = RETISC_SKB(ctx, mac_len), etype = 0;
	__u64 head = (__u64)RETISC_SKB(ctx, head);
	__u32 tail = RETISC_SKB(ctx, tail), n, flags;
	int mac_ok = mac != TRK_U16_UNSET, net_ok = net != 0 && net != TRK_U16_UNSET;
	int at_mac;
	__u16 start;
	__s64 avail;

	/* Devices without a link-layer header reset the MAC header onto the
	 * network header; mac_len tells which one is there. */
	if (mac_ok && !(net_ok && net == mac && mac_len == 0)) {
		start = mac;
		at_mac = 1;
	} else if (net_ok && !(mac_ok && mac == net && mac_len != 0)) {
		start = net;
		at_mac = 0;
	} else {
		return 0;
	}
	avail = (__s64)tail - start;
	if (avail <= 0)
		return 0;
	n = avail > RETISC_IDENT_BUF ? RETISC_IDENT_BUF : (__u32)avail;
	barrier_var(n);
	if (n == 0 || n > RETISC_IDENT_BUF)
		return 0;
	if (bpf_probe_read_kernel(ev->data, n, (const void *)(head + start)))
		return 0;
	if (at_mac) {
		flags = RETISC_IDENT_AT_MAC;
	} else {
		etype = bpf_ntohs(RETISC_SKB(ctx, protocol));
		/* Transmit paths before skb->protocol is set: the version. */
		if (!etype)
			etype = ev->data[0] >> 4 == 4 ? 0x0800 : ev->data[0] >> 4 == 6 ? 0x86dd : 0;
		flags = (__u32)etype << RETISC_IDENT_ETYPE_SHIFT;
	}
	if (RETISC_SKB_BITFIELD(ctx, ip_summed) == TRK_CHECKSUM_PARTIAL)
		flags |= RETISC_IDENT_CSUM_PARTIAL;
	return retisc_pkt_ident((const struct retisc_ident_buf *)ev->data, n, flags);
}

static __always_inline __u64 trk_ident(const struct retisc_ctx *ctx, struct retisc_scratch *ev,
				       struct trk_ident *id)
{
	if (!id->done) {
		id->v = trk_ident_read(ctx, ev);
		id->done = 1;
	}
	return id->v;
}

/*
 * §9.11 identity guard: the entry found for this skb belongs to another
 * packet (its buffer was freed unseen and reused).
 */
static __always_inline int trk_guard_differs(const struct retisc_ctx *ctx,
					     struct retisc_scratch *ev, struct trk_ident *id,
					     const struct retisc_tracking_info *ti, int v2)
{
	if (!retisc_trk_guard || !ti->ident)
		return 0;
	/*
	 * A kmalloc'd or slab head is freed through kfree() or
	 * kmem_cache_free(), which the kmem end of life sees (skb_free_head()
	 * in kprobe mode): sightings under the same head then need no check
	 * unless the head is a page fragment (head_frag), and skip the packet
	 * read. A V2 link is always checked: the skb struct may have been
	 * recycled unseen for another packet.
	 */
	if (!v2 && retisc_trk_guard == RETISC_TRK_GUARD_FRAG &&
	    !RETISC_SKB_BITFIELD(ctx, head_frag))
		return 0;
	return retisc_pkt_ident__differs(ti->ident, trk_ident(ctx, ev, id));
}

/* Identity recorded by a new entry: one packet read per packet. */
static __always_inline __u64 trk_ident_new(const struct retisc_ctx *ctx, struct retisc_scratch *ev,
					   struct trk_ident *id)
{
	return retisc_trk_guard ? trk_ident(ctx, ev, id) : 0;
}

/*
 * §9.3: at skb:kfree_skb / skb:consume_skb the data buffer is released iff
 * the skb is not cloned or it holds the last data reference.
 */
static __always_inline int trk_released(const struct retisc_ctx *ctx, __u64 head)
{
	struct skb_shared_info *shinfo;
	__u32 bias, dataref = 0;
	__u64 end;

	if (!trk_skb_cloned(ctx))
		return 1;
	/* 64-bit kernels store skb->end as an offset from head. */
	end = RETISC_SKB(ctx, end);
	shinfo = (struct skb_shared_info *)(head + end);
	if (bpf_probe_read_kernel(&dataref, sizeof(dataref), &shinfo->dataref))
		return 0;
	bias = RETISC_SKB_BITFIELD(ctx, nohdr) ? (1 << RETISC_SKB_DATAREF_SHIFT) + 1 : 1;
	return dataref == bias;
}

/*
 * What a tracepoint-mode lookup saw on its way, so that track_start_tp()
 * does not look the same keys up again: the tracking_map element under head
 * (live or dead) and, when it was looked up, the tracking_skb_map one.
 */
struct trk_seen {
	struct retisc_tracking_info *at_head;
	struct retisc_tracking_skb *skb_ent;
	int skb_looked;
};

/*
 * "Is tracked" lookup (§4.4 kprobe mode, §9.5 tracepoint mode). Returns the
 * entry and its key, or NULL. In tracepoint mode *v2_old is set when the
 * entry was found through skb-address continuity (the key is then the old
 * head) and *stale when V1 rejected an entry under head. seen, if not
 * NULL, gets what was looked up (struct trk_seen).
 */
static __always_inline struct retisc_tracking_info *
trk_lookup_seen(__u64 skb, __u64 head, __u8 cloned, __u64 *key, struct retisc_tracking_skb **v2_old,
		int *stale, struct trk_seen *seen)
{
	struct retisc_tracking_info *ti, *old;
	struct retisc_tracking_skb *s;

	*v2_old = NULL;
	*stale = 0;
	if (!head)
		return NULL;
	if (seen) {
		ti = bpf_map_lookup_elem(&tracking_map, &head);
		seen->at_head = ti;
		if (ti && TRK_IN_PLACE && !ti->timestamp)
			ti = NULL;
	} else {
		ti = trk_ti_get(&head);
	}
	if (retisc_tracking_mode == RETISC_TRACKING_KPROBE) {
		if (ti) {
			*key = head;
			return ti;
		}
		ti = bpf_map_lookup_elem(&tracking_map, &skb);
		if (ti)
			*key = skb;
		return ti;
	}
	if (ti) {
		/* V1: an uncloned buffer has one skb for its whole life. */
		if (ti->last_skb != skb && !cloned) {
			*stale = 1;
			return NULL;
		}
		*key = head;
		return ti;
	}
	/* V2: same skb struct, new head (pskb_expand_head). */
	s = bpf_map_lookup_elem(&tracking_skb_map, &skb);
	if (seen) {
		seen->skb_ent = s;
		seen->skb_looked = 1;
	}
	if (!s || !s->head || s->head == head || cloned)
		return NULL;
	old = bpf_map_lookup_elem(&tracking_map, &s->head);
	if (!old)
		return NULL;
	if (!old->timestamp) {
		/*
		 * pskb_expand_head() freed the old buffer and the kmem end of
		 * life saw it (§9.10): the entry is dead but remembers its id.
		 * Only with an identity, which the caller compares: the skb
		 * struct may have been recycled unseen for another packet.
		 */
		if (!old->freed_timestamp || old->last_skb != skb || !old->ident)
			return NULL;
	} else if (!(old->last_skb == skb || s->cloned)) {
		return NULL;
	}
	*key = s->head;
	*v2_old = s;
	return old;
}

static __always_inline struct retisc_tracking_info *trk_lookup(__u64 skb, __u64 head, __u8 cloned,
							       __u64 *key,
							       struct retisc_tracking_skb **v2_old,
							       int *stale)
{
	return trk_lookup_seen(skb, head, cloned, key, v2_old, stale, NULL);
}

static __always_inline void trk_touch(struct retisc_tracking_info *ti, struct retisc_ctx *ctx,
				      __u64 skb, __u8 cloned)
{
	ti->last_seen = ctx->timestamp;
	ti->stack_ref = ctx->stack_base;
	ti->last_skb = skb;
	if (cloned)
		ti->flags |= RETISC_TI_CLONED;
	else
		ti->flags &= ~RETISC_TI_CLONED;
}

/* Record in tracking_skb_map where this skb struct was seen (§9.5, V2). */
static __always_inline void trk_skb_record(__u64 skb, __u64 head, __u8 cloned, __u64 now,
					   const struct trk_seen *seen)
{
	struct retisc_tracking_skb s = {.head = head, .last_seen = now, .cloned = cloned}, *cur;

	/* In place when present: an LRU update allocates a new element. */
	cur = seen->skb_looked ? seen->skb_ent : bpf_map_lookup_elem(&tracking_skb_map, &skb);
	trk_kmem_watch(skb);
	if (cur) {
		cur->head = head;
		cur->last_seen = now;
		cur->cloned = cloned;
		return;
	}
	bpf_map_update_elem(&tracking_skb_map, &skb, &s, BPF_NOEXIST);
}

/* Forget the skb tracked on this stack (dead mark, see TRK_IN_PLACE). */
static __always_inline void trk_stack_clear(struct retisc_ctx *ctx)
{
	__u64 *cur;

	if (!retisc_stack_tracking)
		return;
	cur = bpf_map_lookup_elem(&stack_tracking_map, &ctx->stack_base);

	if (cur)
		*cur = 0;
}

/*
 * §3 step 5: publish the packet's id in the context so that every hook of
 * this hit reports the same one. The entry's loss count moves into this
 * event (the submit stage puts it back if this event is lost too).
 */
static __always_inline void trk_publish(struct retisc_ctx *ctx, struct retisc_tracking_info *ti)
{
	ctx->tracked = 1;
	ctx->trk_orig_head = ti->orig_head;
	ctx->trk_timestamp = ti->timestamp;
	ctx->trk_lost = ti->lost;
	ti->lost = 0;
}

/* Point this stack at val (0: no skb), without inserting a 0. */
static __always_inline void trk_stack_set(struct retisc_ctx *ctx, __u64 val)
{
	__u64 *cur;

	if (!retisc_stack_tracking)
		return;
	cur = bpf_map_lookup_elem(&stack_tracking_map, &ctx->stack_base);

	if (cur)
		*cur = val;
	else if (val)
		bpf_map_update_elem(&stack_tracking_map, &ctx->stack_base, &val, BPF_NOEXIST);
}

/* Publish an entry that is not (or not yet) in the map. */
static __always_inline void trk_publish_new(struct retisc_ctx *ctx,
					    const struct retisc_tracking_info *ti, __u32 lost)
{
	ctx->tracked = 1;
	ctx->trk_orig_head = ti->orig_head;
	ctx->trk_timestamp = ti->timestamp;
	ctx->trk_lost = lost;
}

/*
 * The loss count an entry moved from another key carries into this event;
 * the entry itself starts again from 0 (the submit stage adds this event's
 * loss back if it is lost too).
 */
static __always_inline __u32 trk_lost_take(struct retisc_tracking_info *ti)
{
	__u32 lost = ti->lost;

	ti->lost = 0;
	return lost;
}

/*
 * Insert new_ti (a new entry, or one moved from another key) under head and
 * publish it with the loss count it carried. At a race, another CPU
 * inserted this head first and its entry wins: this event reports that id.
 * Returns 1 when new_ti went into the map.
 */
static __always_inline int trk_insert_publish(struct retisc_ctx *ctx, __u64 *head,
					      struct retisc_tracking_info *new_ti,
					      struct retisc_tracking_info *at_head, __u32 carried,
					      int created)
{
	if (trk_ti_insert(head, new_ti, at_head)) {
		struct retisc_tracking_info *won = trk_ti_get(head);

		if (won)
			trk_publish(ctx, won);
		else
			trk_stat(TRK_INSERT_FAILED);
		return 0;
	}
	if (created)
		trk_stat(TRK_CREATED);
	trk_publish_new(ctx, new_ti, carried);
	return 1;
}

/* track_start for trackable hits in kprobe mode (§4.2). */
static __always_inline void track_start_kp(struct retisc_ctx *ctx, struct retisc_scratch *ev,
					   struct trk_ident *id, __u8 cfg)
{
	struct retisc_tracking_info *ti, new_ti = {};
	struct retisc_tracking_skb *v2;
	__u64 skb = ctx->skb, head, key = 0;
	__u8 cloned;
	/* What goes into the map under head: nothing new, a moved entry, a new one. */
	enum { TRK_INS_NONE, TRK_INS_RELINK, TRK_INS_NEW } insert = TRK_INS_NONE;
	int stale;

	head = trk_skb_head(ctx);
	if (!head)
		return;
	cloned = trk_skb_cloned(ctx);
	ti = trk_lookup(skb, head, cloned, &key, &v2, &stale);

	if (ti && key == skb) {
		/* §4.2 step 3: relink the temporary skb-address key. */
		new_ti = *ti;
		bpf_map_delete_elem(&tracking_map, &skb);
		new_ti.flags &= ~RETISC_TI_INV_PENDING;
		ti = NULL;
		insert = TRK_INS_RELINK;
		trk_stat(TRK_V2);
	} else if (ti && (ti->flags & RETISC_TI_INV_PENDING) && ti->last_skb == skb &&
		   !(cfg & (RETISC_TRK_INV_HEAD | RETISC_TRK_FREE))) {
		/*
		 * §10: pskb_expand_head failed, the head did not change. Not
		 * at a free probe: a successful pskb_expand_head frees the old
		 * head through skb_free_head() while skb->head still points
		 * to it, so this state is also the one of a success, whose
		 * skb-address key must live until the new head is seen.
		 */
		bpf_map_delete_elem(&tracking_map, &skb);
		ti->flags &= ~RETISC_TI_INV_PENDING;
	}
	if (ti && !(ti->flags & RETISC_TI_INV_PENDING) && !(cfg & RETISC_TRK_FREE) &&
	    trk_guard_differs(ctx, ev, id, ti, 0)) {
		/*
		 * §9.11: a safety net here; correct kprobe tracking never gets
		 * here (the VM lane asserts a zero count). Not at free probes:
		 * the entry ends there anyway.
		 */
		bpf_map_delete_elem(&tracking_map, &head);
		trk_stat(TRK_GUARD);
		ti = NULL;
	}
	if (!ti && insert == TRK_INS_NONE) {
		if (ctx->cfg.probe_type == RETISC_PROBE_KRETPROBE || (cfg & RETISC_TRK_NO_TRACKING))
			return;
		new_ti.timestamp = ctx->timestamp;
		new_ti.orig_head = head;
		new_ti.ident = trk_ident_new(ctx, ev, id);
		insert = TRK_INS_NEW;
	}

	if (ti) {
		trk_touch(ti, ctx, skb, cloned);
		trk_publish(ctx, ti);
		if (cfg & RETISC_TRK_INV_HEAD) {
			ti->flags |= RETISC_TI_INV_PENDING;
			bpf_map_update_elem(&tracking_map, &skb, ti, BPF_NOEXIST);
		}
	} else {
		__u32 carried = trk_lost_take(&new_ti);

		trk_touch(&new_ti, ctx, skb, cloned);
		if (cfg & RETISC_TRK_INV_HEAD) {
			/* §4.2 step 7: new head unknown until the next sighting. */
			new_ti.flags |= RETISC_TI_INV_PENDING;
			bpf_map_update_elem(&tracking_map, &skb, &new_ti, BPF_NOEXIST);
		}
		trk_insert_publish(ctx, &head, &new_ti, NULL, carried, insert == TRK_INS_NEW);
	}
	trk_stack_set(ctx, (cfg & RETISC_TRK_INV_HEAD) ? skb : head);
}

/*
 * track_start in tracepoint mode (§9.6), which also runs the end of life of
 * free tracepoints (§9.7) instead of leaving it to the submit stage: hooks
 * read the id from the context, never from the entry, so the entry can end
 * before they run, and the entries this function already holds need no
 * second lookup. `trackable` is 0 for hits the filters rejected: those only
 * get the end of life.
 */
static __always_inline void track_start_tp(struct retisc_ctx *ctx, struct retisc_scratch *ev,
					   struct trk_ident *id, int trackable, __u8 cfg,
					   __u8 n_hooks)
{
	struct retisc_tracking_info *ti, new_ti = {};
	struct retisc_tracking_skb *v2;
	struct trk_seen seen = {};
	__u64 skb = ctx->skb, head, key = 0;
	/*
	 * Initialised for the 6.1 verifier: it does not carry the head == 0
	 * test over to head's spilled copy, so it walks the head == 0 path
	 * with head set and refuses the narrow spill of an unset `cloned`
	 * ("invalid size of register spill"; found in the VM lane). The
	 * 6.18 verifier, which tracks the ranges of spilled scalars, does
	 * not walk that path.
	 */
	__u8 cloned = 0;
	int stale, created = 0, ending = 0;
	/* Free tracepoints: the sk_buff itself ends here, its buffer maybe. */
	int is_free = (cfg & RETISC_TRK_FREE) && (cfg & RETISC_TRK_RELEASE_CHECK);

	if (!trackable && !is_free)
		return;
	head = trk_skb_head(ctx);
	if (!head)
		goto skb_ent;
	cloned = trk_skb_cloned(ctx);
	ti = trk_lookup_seen(skb, head, cloned, &key, &v2, &stale, &seen);
	if (is_free)
		ending = trk_released(ctx, head);

	if (!trackable) {
		/*
		 * A release is a fact about the buffer whatever the filters
		 * said. An untracked skb has no entry of its own: one under
		 * its head belongs to another skb (V1 stale).
		 */
		struct retisc_tracking_info *e = seen.at_head;

		if (ending && e && e->timestamp) {
			if (e->stack_ref == ctx->stack_base)
				trk_stack_set(ctx, 0);
			trk_ti_end(&head, e);
			trk_stat(TRK_RELEASED);
		}
		goto skb_ent;
	}
	if (stale) {
		/* V1: the entry under head belonged to another skb. */
		trk_ti_end(&head, seen.at_head);
		trk_stat(TRK_V1);
	} else if (ti && (v2 || !(is_free && !n_hooks)) &&
		   trk_guard_differs(ctx, ev, id, ti, !!v2)) {
		/*
		 * §9.11: another packet under this address (its buffer was
		 * freed unseen). Through V2 the old entry may still be its
		 * clones': leave it. A free tracepoint without hooks reports
		 * nothing, and ends the entry if the buffer goes.
		 */
		if (!v2)
			trk_ti_end(&head, ti);
		v2 = NULL;
		ti = NULL;
		trk_stat(TRK_GUARD);
	}
	if (ti && v2) {
		/* V2: the packet's head changed; move its entry to head. */
		struct retisc_tracking_info *old = ti;
		__u64 old_head = v2->head;

		new_ti = *old;
		if (!new_ti.timestamp) {
			/* Dead since kmem saw the old buffer freed: revive its id. */
			new_ti.timestamp = old->freed_timestamp;
			old->freed_timestamp = 0;
		} else if (!v2->cloned) {
			trk_ti_end(&old_head, old);
		}
		new_ti.freed_timestamp = 0;
		ti = NULL;
		trk_stat(TRK_V2);
	} else if (!ti) {
		if (cfg & RETISC_TRK_NO_TRACKING)
			goto skb_ent;
		/* A free tracepoint without hooks has nobody to report to. */
		if (is_free && !n_hooks)
			goto skb_ent;
		new_ti.timestamp = ctx->timestamp;
		new_ti.orig_head = head;
		new_ti.ident = trk_ident_new(ctx, ev, id);
		created = 1;
	}

	if (ti) {
		trk_touch(ti, ctx, skb, cloned);
		trk_publish(ctx, ti);
		if (ending) {
			trk_ti_end(&head, ti);
			trk_stat(TRK_RELEASED);
		} else {
			trk_kmem_watch(head);
		}
	} else {
		__u32 carried = trk_lost_take(&new_ti);

		trk_touch(&new_ti, ctx, skb, cloned);
		if (ending) {
			/* First and last sighting at once: no entry needed. */
			trk_publish_new(ctx, &new_ti, carried);
			if (created)
				trk_stat(TRK_CREATED);
			trk_stat(TRK_RELEASED);
		} else if (trk_insert_publish(ctx, &head, &new_ti, seen.at_head, carried,
					      created)) {
			trk_kmem_watch(head);
		}
	}
	trk_stack_set(ctx, ending ? 0 : head);
skb_ent:
	if (is_free) {
		struct retisc_tracking_skb *ent =
			seen.skb_looked ? seen.skb_ent
					: bpf_map_lookup_elem(&tracking_skb_map, &skb);

		if (ent)
			ent->head = 0;
	} else if (head && trackable) {
		trk_skb_record(skb, head, cloned, ctx->timestamp, &seen);
	}
}

/*
 * track_start for a hit on an skb (§3 step 4): trackable hits create or
 * follow the packet's entry and publish its id; others only do the blind
 * clean-up (and, in tracepoint mode, end of life). The probe program passes
 * its tracking flags and hook count from its rodata and `trackable` straight
 * from the filters: as constants, they let the verifier skip the paths a
 * probe cannot take (the probe program took 5x the instructions to verify
 * when they came back from the context map).
 */
static __always_inline void track_start(struct retisc_ctx *ctx, struct retisc_scratch *ev,
					struct trk_ident *id, int trackable, __u8 cfg, __u8 n_hooks)
{
	/* The caller has cleared ctx->tracked and ctx->trk_lost. */
	if (retisc_tracking_mode == RETISC_TRACKING_TRACEPOINT) {
		if (!trackable)
			/* §3 step 4: blind clean-up. */
			trk_stack_clear(ctx);
		track_start_tp(ctx, ev, id, trackable, cfg, n_hooks);
	} else if (trackable) {
		track_start_kp(ctx, ev, id, cfg);
	} else {
		trk_stack_clear(ctx);
	}
}

/* The event of a tracked packet could not be written: remember it. */
static __always_inline void track_lost(struct retisc_ctx *ctx)
{
	struct retisc_tracking_info *ti;
	struct retisc_tracking_skb *v2;
	__u64 head, key = 0;
	int stale;

	if (!ctx->tracked)
		return;
	head = trk_skb_head(ctx);
	ti = trk_lookup(ctx->skb, head, trk_skb_cloned(ctx), &key, &v2, &stale);
	if (ti)
		__sync_fetch_and_add(&ti->lost, ctx->trk_lost + 1);
}

/*
 * End of life in kprobe mode, after the hooks (§4.3). Tracepoint mode ends
 * entries in track_start_tp().
 */
static __always_inline void track_end(struct retisc_ctx *ctx, int trackable)
{
	struct retisc_tracking_info *ti;
	__u8 cfg = ctx->cfg.tracking;
	__u64 head;

	if (retisc_tracking_mode != RETISC_TRACKING_KPROBE || !(cfg & RETISC_TRK_FREE) ||
	    !ctx->skb || !trackable)
		return;
	head = trk_skb_head(ctx);
	if (!head)
		return;
	/* kfree_skb_partial(skb, head_stolen): arg #1. */
	if ((cfg & RETISC_TRK_PARTIAL_FREE) && !(ctx->args[1] & 0xff))
		return;
	if ((cfg & RETISC_TRK_RELEASE_CHECK) && !trk_released(ctx, head))
		return;
	ti = trk_ti_get(&head);
	if (!ti)
		return;
	if (ti->stack_ref == ctx->stack_base)
		trk_stack_clear(ctx);
	trk_ti_end(&head, ti);
	trk_stat(TRK_RELEASED);
}

#endif /* __RETISC_TRACKING_BPF_H */
