// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovs flow lookup hook (doc/collectors.md §8.3), targeted on the kretprobe
 * of ovs_flow_tbl_lookup_stats, whose probe takes the packet's sk_buff from
 * the stack (RETISC_HOOK_STACK_SKB) so that generic hooks see it. For a
 * packet in flight (ovs_dp_process_packet saw it): the flow found (or the
 * miss, after which an upcall follows), its actions and UFID, and the mask
 * and cache hit counters. The counters' pointers are the call's own
 * arguments, which the kretprobe gets from the core's entry stash (Retis
 * saves them with a kprobe on the function).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "ovs_hook.bpf.h"

RETISC_HOOK(ovs_lookup)
{
	const struct sw_flow___retisc *flow;
	struct retisc_ovs_flow_lookup *s;
	const __u32 *mask_hit, *cache_hit;
	__s8 idx = retisc_ovs_args.n_mask_hit;

	if (!bpf_map_lookup_elem(&inflight_exec, &h->ctx->stack_base))
		return 0;
	s = retisc_section_add(h, RETISC_OVS_TYPE_FLOW_LOOKUP, sizeof(*s));
	if (!s)
		return 0;
	__builtin_memset(s, 0, sizeof(*s));
	/* n_cache_hit follows n_mask_hit (both u32 *). */
	mask_hit = (const void *)retisc_arg(h, idx);
	cache_hit = idx >= 0 ? (const void *)retisc_arg(h, idx + 1) : NULL;
	if (mask_hit)
		bpf_probe_read_kernel(&s->n_mask_hit, sizeof(s->n_mask_hit), mask_hit);
	if (cache_hit)
		bpf_probe_read_kernel(&s->n_cache_hit, sizeof(s->n_cache_hit), cache_hit);
	flow = (const void *)h->ctx->retval;
	if (!flow) {
		/* A miss: the packet leaves the fast path (an upcall follows). */
		bpf_map_delete_elem(&inflight_exec, &h->ctx->stack_base);
		retisc_stack_skb_clear(h);
		return 0;
	}
	s->flow = (__u64)flow;
	s->sf_acts = (__u64)BPF_CORE_READ(flow, sf_acts);
	/* A flow installed without a UFID has the unmasked key's pointer in
	 * the union: that is no UFID, which stays zero. */
	if (BPF_CORE_READ(flow, id.ufid_len))
		bpf_core_read(s->ufid, sizeof(s->ufid), &flow->id.ufid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
