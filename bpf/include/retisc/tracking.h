/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * skb tracking map values (doc/tracking.md §2), shared by BPF and userspace (the
 * GC thread and --tracking-report read them).
 */
#ifndef __RETISC_TRACKING_H
#define __RETISC_TRACKING_H

#ifndef __BPF__
#include <linux/types.h>
#endif

enum retisc_tracking_mode {
	RETISC_TRACKING_KPROBE = 1,
	RETISC_TRACKING_TRACEPOINT = 2,
};

/*
 * Which sightings the identity guard checks (doc/tracking.md §9.11): none;
 * those of page-fragment heads (head_frag), the only buffers whose release
 * the other ends of life can miss when kmem or kprobe ends of life run;
 * all of them (tracepoint mode without the kmem end of life).
 */
enum retisc_trk_guard {
	RETISC_TRK_GUARD_OFF = 0,
	RETISC_TRK_GUARD_FRAG = 1,
	RETISC_TRK_GUARD_ALL = 2,
};

#define RETISC_TI_CLONED 0x1
#define RETISC_TI_INV_PENDING 0x2

/* Value of tracking_map: Retis's 32 bytes, then retisc's additions. */
struct retisc_tracking_info {
	__u64 timestamp; /* first seen: id part 1, never changes */
	__u64 last_seen; /* latest track_start, for the GC */
	__u64 orig_head; /* id part 2, never changes */
	__u64 stack_ref; /* stack base of the latest hit */
	__u64 last_skb;	 /* skb address of the latest hit */
	__u32 lost;	 /* events of this packet lost since the last one written */
	__u8 flags;	 /* RETISC_TI_* */
	__u8 pad[3];
	__u64 ident; /* identity at first sighting (pkt_ident.h), 0: unknown */
	/*
	 * Tracepoint mode: the id timestamp of an entry that the kmem end of
	 * life ended (timestamp is then 0), so that the head change which
	 * freed the buffer can still be followed (doc/tracking.md §9.10).
	 */
	__u64 freed_timestamp;
};

/* Value of tracking_skb_map (tracepoint mode): where an skb was last seen. */
struct retisc_tracking_skb {
	__u64 head;
	__u64 last_seen;
	__u8 cloned;
	__u8 pad[7];
};

/* Counters of the tracking code, PERCPU_ARRAY retisc_trk_stats[0]. */
struct retisc_tracking_stats {
	__u64 created;
	__u64 released;	     /* entries deleted at end of life */
	__u64 v1_stale;	     /* entries replaced by the exclusive-owner rule */
	__u64 v2_relinked;   /* head changes followed by skb continuity */
	__u64 insert_failed; /* tracking_map inserts that failed */
	__u64 reused;	     /* inserts that took over a dead entry in place */
	__u64 kmem_ended;    /* entries ended by kmem:kfree / kmem:kmem_cache_free */
	__u64 guard_split;   /* sightings the identity guard made a new packet */
};

#define RETISC_TRACKING_MAP_SIZE_TP 65536
#define RETISC_TRACKING_MAP_SIZE_KPROBE 8192
#define RETISC_TRACKING_SKB_MAP_SIZE 65536
#define RETISC_STACK_TRACKING_MAP_SIZE 8192
#define RETISC_SKB_DATAREF_SHIFT 16
/*
 * The kmem pre-filter (tracking_kmem_filter, doc/tracking.md §9.10): the
 * addresses of live tracked buffers and sk_buff structs in buckets of four,
 * chosen by a hash of the address, so that a free of anything else costs
 * one array load and four compares: 16384 buckets, 65536 addresses.
 */
#define RETISC_KMEM_FILTER_BITS 14
#define RETISC_KMEM_FILTER_SIZE (1u << RETISC_KMEM_FILTER_BITS)
#define RETISC_KMEM_WAYS 4

struct retisc_kmem_bucket {
	__u64 addr[RETISC_KMEM_WAYS];
};

#endif /* __RETISC_TRACKING_H */
