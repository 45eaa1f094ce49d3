/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Maps shared by every retisc BPF object. The core creates them once and
 * every other object (probe instances, collector hooks) reuses their file
 * descriptors by name, so the names below are ABI.
 */
#ifndef __RETISC_MAPS_BPF_H
#define __RETISC_MAPS_BPF_H

#include "ctx.h"
#include "event.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RETISC_NEST_MAX);
	__type(key, __u32);
	__type(value, struct retisc_ctx);
} retisc_ctx_map SEC(".maps");

/* Current nesting depth of this CPU: the running chain uses depth - 1. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} retisc_nest SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RETISC_NEST_MAX);
	__type(key, __u32);
	__type(value, struct retisc_scratch);
} retisc_scratch_map SEC(".maps");

/* Tail-call chains; one array per program type (a PROG_ARRAY only holds
 * programs of its owner's type). Slot probe_id * RETISC_CHAIN_SLOTS + i. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, RETISC_PROG_ARRAY_SIZE);
	__type(key, __u32);
	__type(value, __u32);
} retisc_progs_tp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, RETISC_PROG_ARRAY_SIZE);
	__type(key, __u32);
	__type(value, __u32);
} retisc_progs_kp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RETISC_MAX_PROBES);
	__type(key, __u32);
	__type(value, struct retisc_probe_stats);
} retisc_stats SEC(".maps");

/*
 * The sk_buff a collector's hook stored for a kernel stack (key: the stack
 * base, doc/tracking.md §7), for the probes whose targeted hook asks for it
 * (RETISC_HOOK_STACK_SKB, plugin.h) and which have no sk_buff argument:
 * the probe program takes it before filtering (doc/collectors.md §1.3).
 * Written and removed by hooks only (retisc_stack_skb_set/_clear,
 * hook.bpf.h); one execution context works on one packet at a time.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RETISC_STACK_SKB_MAX);
	__type(key, __u64);
	__type(value, __u64);
} retisc_stack_skb SEC(".maps");

static __always_inline struct retisc_probe_stats *retisc_probe_stats(__u32 probe_id)
{
	return bpf_map_lookup_elem(&retisc_stats, &probe_id);
}

/* Depth of the chain running on this CPU (0: none), or a NULL map slot. */
static __always_inline __u32 *retisc_nest_ptr(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&retisc_nest, &zero);
}

#endif /* __RETISC_MAPS_BPF_H */
