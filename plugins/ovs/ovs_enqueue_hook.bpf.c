// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovs enqueue hook (doc/collectors.md §8.3), targeted on the kretprobe of
 * queue_userspace_packet, with --ovs-track only: a packet of an upcall
 * this collection saw (an inflight_upcalls entry on this stack) was
 * queued, or failed to be queued, to ovs-vswitchd's netlink socket. Emits
 * upcall_enqueue with the packet's queue id and registers the id for the
 * recv_upcall USDT hook. GSO packets are queued segment by segment: one
 * event each.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "ovs_hook.bpf.h"

RETISC_HOOK(ovs_enqueue)
{
	const struct dp_upcall_info___retisc *info;
	struct retisc_ovs_upcall_enqueue *s;
	struct ovs_upcall_ctx *up;
	__u32 qid;

	up = bpf_map_lookup_elem(&inflight_upcalls, &h->ctx->stack_base);
	if (!up || !h->ctx->skb)
		return 0;
	qid = ovs_queue_id(RETISC_SKB(h->ctx, data), RETISC_SKB(h->ctx, len),
			   RETISC_SKB(h->ctx, data_len));
	s = retisc_section_add(h, RETISC_OVS_TYPE_UPCALL_ENQUEUE, sizeof(*s));
	if (!s)
		return 0;
	__builtin_memset(s, 0, sizeof(*s));
	s->upcall_ts = up->ts;
	s->upcall_cpu = up->cpu;
	s->queue_id = qid;
	s->ret = (__s32)h->ctx->retval;
	info = (const void *)retisc_arg(h, retisc_ovs_args.enqueue_upcall_info);
	if (info) {
		s->port = BPF_CORE_READ(info, portid);
		s->cmd = BPF_CORE_READ(info, cmd);
	}
	/* Only a queued packet can reach ovs-vswitchd's recv_upcall. */
	if (!s->ret)
		ovs_tracking_add(&upcall_tracking, qid, h->ctx->timestamp);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
