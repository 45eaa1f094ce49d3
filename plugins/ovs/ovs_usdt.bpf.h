/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the ovs USDT hooks share (--ovs-track, doc/collectors.md §8.5): the
 * handler threads of ovs-vswitchd and their upcall batches. A handler
 * thread reads up to 64 upcalls (recv_upcall each), then issues their
 * operations in the same order, per upcall at most a flow put then an
 * execute (op_flow_put, op_flow_execute): the batch matches each operation
 * to its upcall, hence to its queue id. Include after vmlinux.h and the
 * libbpf BPF headers.
 */
#ifndef __RETISC_OVS_USDT_BPF_H
#define __RETISC_OVS_USDT_BPF_H

#include "ovs_hook.bpf.h"

/* Handler thread ids (ovs.c lists them at start-up). */
const volatile struct retisc_ovs_handlers retisc_ovs_handlers = {};

/* Retis's upcall_batch layout (528 bytes). */
#define OVS_BATCH_MAX 64
#define OVS_BATCH_LIMIT 63 /* upcalls recorded per batch, as Retis */

struct ovs_batch_upcall {
	__u32 queue_id;
	__u8 skip_event;    /* its upcall_enqueue was not seen: no events */
	__u8 processed_ops; /* 1 << RETISC_OVS_OP_* seen for it */
	__u8 pad[2];
};

struct ovs_upcall_batch {
	__u64 leader_ts; /* the first recv_upcall's timestamp */
	__u8 processing; /* operations started: the next recv_upcall starts anew */
	__u8 pad[3];
	struct ovs_batch_upcall upcalls[OVS_BATCH_MAX];
	__u8 current_upcall;
	__u8 total;
	__u8 pad2[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RETISC_OVS_MAX_HANDLERS);
	__type(key, __u32);
	__type(value, struct ovs_upcall_batch);
} upcall_batches SEC(".maps");

/* The batch of the current thread, NULL when it is not a known handler. */
static __always_inline struct ovs_upcall_batch *ovs_batch(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), n = retisc_ovs_handlers.n;

	for (__u32 i = 0; i < RETISC_OVS_MAX_HANDLERS; i++) {
		if (i >= n)
			break;
		if (retisc_ovs_handlers.tid[i] == tid)
			return bpf_map_lookup_elem(&upcall_batches, &i);
	}
	return NULL;
}

/* op_flow_put / op_flow_execute: match the operation to its upcall. */
static __always_inline int ovs_operation(struct retisc_hook_ctx *h, __u8 type)
{
	struct retisc_ovs_operation *s;
	struct ovs_batch_upcall *info;
	struct ovs_upcall_batch *b;
	__u8 cur, total;

	b = ovs_batch();
	if (!b || !b->total)
		return RETISC_VETO; /* a revalidator's put, or an unknown thread */
	if (!b->processing) {
		b->processing = 1;
		b->current_upcall = 0;
	}
	cur = b->current_upcall;
	total = b->total;
	if (cur >= OVS_BATCH_LIMIT)
		return RETISC_VETO;
	info = &b->upcalls[cur & (OVS_BATCH_MAX - 1)];
	if (info->processed_ops & (1 << type)) {
		/* This upcall had its operation of this type: the next upcall's. */
		if (cur + 1 >= total || cur + 1 >= OVS_BATCH_LIMIT)
			return RETISC_VETO;
		cur++;
		b->current_upcall = cur;
		info = &b->upcalls[cur & (OVS_BATCH_MAX - 1)];
	}
	info->processed_ops |= 1 << type;
	if (info->skip_event)
		return RETISC_VETO;
	s = retisc_section_add(h, RETISC_OVS_TYPE_OPERATION, sizeof(*s));
	if (!s)
		return 0;
	__builtin_memset(s, 0, sizeof(*s));
	s->batch_ts = b->leader_ts;
	s->queue_id = info->queue_id;
	s->batch_idx = cur;
	s->type = type;
	/* The packet comes back to ovs_execute_actions (ovs_exec_hook). */
	if (type == RETISC_OVS_OP_EXEC)
		ovs_tracking_add(&flow_exec_tracking, info->queue_id, h->ctx->timestamp);
	return 0;
}

#endif
