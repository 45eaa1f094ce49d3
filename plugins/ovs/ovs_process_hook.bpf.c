// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovs process hook (doc/collectors.md §8.3), targeted and exclusive on the
 * kprobe of ovs_dp_process_packet (gate ALL): a filtered packet enters the
 * datapath. Its sk_buff is remembered for the stack, for the flow lookup
 * (which has no sk_buff argument) and the actions. Emits nothing.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "ovs_hook.bpf.h"

RETISC_HOOK(ovs_process)
{
	struct ovs_exec_ctx e = {};

	if (!retisc_gate_all(h) || !h->ctx->skb)
		return 0;
	e.skb = h->ctx->skb;
	bpf_map_update_elem(&inflight_exec, &h->ctx->stack_base, &e, BPF_ANY);
	retisc_stack_skb_set(h, e.skb);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
