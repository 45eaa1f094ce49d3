// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovs recv_upcall hook (doc/collectors.md §8.5), targeted on the USDT
 * probe dpif_recv:recv_upcall of ovs-vswitchd (--ovs-track): a handler
 * thread received an upcall. Arguments (the probe program reads them into
 * ctx->args): 1 upcall type, 2 packet data (user pointer), 3 packet size,
 * 5 key length. USDT events have no skb, hence no filter: with the kernel
 * side, an upcall whose upcall_enqueue this collection did not see (the
 * packet was filtered out) is recorded in the batch but not reported.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "ovs_usdt.bpf.h"

RETISC_HOOK(ovs_recv)
{
	__u64 now = h->ctx->timestamp, batch_ts = 0;
	struct retisc_ovs_recv_upcall *s;
	struct ovs_upcall_batch *b;
	__u8 skip = 0, idx = 0;
	__u32 qid;

	qid = ovs_queue_id_user((const void *)h->ctx->args[2], h->ctx->args[3]);
	if (retisc_ovs_track == RETISC_OVS_TRACK_ON)
		skip = !ovs_tracking_take(&upcall_tracking, qid, now);
	b = ovs_batch();
	if (b) {
		if (b->processing) {
			/* The previous batch's operations are over. */
			b->processing = 0;
			b->leader_ts = 0;
			b->current_upcall = 0;
			b->total = 0;
		}
		if (b->total >= OVS_BATCH_LIMIT)
			return RETISC_VETO;
		idx = b->total & (OVS_BATCH_MAX - 1);
		b->upcalls[idx].queue_id = qid;
		b->upcalls[idx].skip_event = skip;
		b->upcalls[idx].processed_ops = 0;
		b->total++;
		if (b->total == 1)
			b->leader_ts = now;
		batch_ts = b->leader_ts;
		/* Still 0 while the batch fills, as in Retis. */
		idx = b->current_upcall;
	}
	if (skip)
		return RETISC_VETO;
	s = retisc_section_add(h, RETISC_OVS_TYPE_RECV_UPCALL, sizeof(*s));
	if (!s)
		return 0;
	__builtin_memset(s, 0, sizeof(*s));
	s->key_size = h->ctx->args[5];
	s->batch_ts = batch_ts;
	s->pkt_size = (__u32)h->ctx->args[3];
	s->queue_id = qid;
	s->type = (__u32)h->ctx->args[1];
	s->batch_idx = idx;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
