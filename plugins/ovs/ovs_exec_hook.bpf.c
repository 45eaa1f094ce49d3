// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovs execute hook (doc/collectors.md §8.3), targeted and exclusive on the
 * kprobe of ovs_execute_actions, gated on the packet filter only: a packet
 * ovs-vswitchd sends back for execution is a new sk_buff without the
 * original's metadata, so the meta filter cannot match it. Puts the packet
 * in flight for the actions that follow (keeping the context
 * ovs_dp_process_packet made, with this sk_buff), and with --ovs-track
 * recognises a re-injected upcall by its queue id. Emits nothing.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "ovs_hook.bpf.h"

RETISC_HOOK(ovs_exec)
{
	struct ovs_exec_ctx *e, fresh = {};
	__u64 skb = h->ctx->skb;

	if (!skb || !(h->ctx->flags & RETISC_F_PACKET))
		return 0;
	if (retisc_ovs_track) {
		__u32 qid = ovs_queue_id(RETISC_SKB(h->ctx, data), RETISC_SKB(h->ctx, len),
					 RETISC_SKB(h->ctx, data_len));

		if (ovs_tracking_take(&flow_exec_tracking, qid, h->ctx->timestamp)) {
			fresh.command = 1;
			fresh.queue_id = qid;
		}
	}
	e = bpf_map_lookup_elem(&inflight_exec, &h->ctx->stack_base);
	if (e) {
		/* The fast path's own packet, or a clone of it. */
		e->skb = skb;
		if (fresh.command) {
			e->command = 1;
			e->queue_id = fresh.queue_id;
		}
		return 0;
	}
	fresh.skb = skb;
	bpf_map_update_elem(&inflight_exec, &h->ctx->stack_base, &fresh, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
