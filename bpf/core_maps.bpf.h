/* SPDX-License-Identifier: GPL-2.0-only */
/* Maps only the core's own objects (probe instances, submit) use. */
#ifndef __RETISC_CORE_MAPS_BPF_H
#define __RETISC_CORE_MAPS_BPF_H

#include <retisc/tracking.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 * 1024 * 1024); /* resized by userspace */
} retisc_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct retisc_global);
} retisc_global_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 4096);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 127 * sizeof(__u64));
} retisc_stack_map SEC(".maps");

/* doc/tracking.md §2.1. Type and size are adjusted by userspace per mode. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, RETISC_TRACKING_MAP_SIZE_TP);
	__type(key, __u64);
	__type(value, struct retisc_tracking_info);
} tracking_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, RETISC_TRACKING_SKB_MAP_SIZE);
	__type(key, __u64);
	__type(value, struct retisc_tracking_skb);
} tracking_skb_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, RETISC_STACK_TRACKING_MAP_SIZE);
	__type(key, __u64);
	__type(value, __u64);
} stack_tracking_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct retisc_tracking_stats);
} retisc_trk_stats SEC(".maps");

/*
 * kmem end of life (tracepoint mode): the addresses that are keys of
 * tracking_map or tracking_skb_map, in the bucket of their hash. A kmem
 * free whose pointer is not in its bucket is not ours; one that is ends the
 * entry. A full bucket gives a way up: that entry then depends on the other
 * ends of life until its next sighting writes it back (doc/tracking.md §9.10).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RETISC_KMEM_FILTER_SIZE);
	__type(key, __u32);
	__type(value, struct retisc_kmem_bucket);
} tracking_kmem_filter SEC(".maps");

/* Set by userspace before load (doc/tracking.md §9.1). */
const volatile __u8 retisc_tracking_mode = RETISC_TRACKING_TRACEPOINT;
/* Some probe has no sk_buff argument, so stack tracking is read (§7). */
const volatile __u8 retisc_stack_tracking = 1;
/* Tracepoint mode: the kmem programs are attached, keep their filter. */
const volatile __u8 retisc_trk_kmem = 1;
/*
 * The identity guard (pkt_ident.h, doc/tracking.md §9.11): RETISC_TRK_GUARD_*,
 * which sightings it checks.
 */
const volatile __u8 retisc_trk_guard = RETISC_TRK_GUARD_FRAG;

/* Ring buffer bytes this CPU wrote since it last woke the consumer. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} retisc_rb_pending SEC(".maps");

#endif
