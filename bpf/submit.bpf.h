/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * End of a probe hit: write the event (only the bytes used) unless no hook
 * added a section or a hook vetoed it, account losses per probe and per
 * packet, run tracking's end of life, and pop the nesting level. Used by the
 * submit program at the end of every chain and inline by probes without
 * hooks or whose first tail call failed.
 */
#ifndef __RETISC_SUBMIT_BPF_H
#define __RETISC_SUBMIT_BPF_H

#include "tracking.bpf.h"

/*
 * Wake the consumer once this CPU has written this many bytes since its
 * last wake-up (userspace: a share of the ring per CPU). A wake-up per event
 * costs an irq_work (a self-IPI, a VM exit in a guest) per packet. The
 * consumer never sleeps while data is waiting (poll reports it) and polls
 * with a short timeout, so quiet periods still flush within that timeout.
 */
const volatile __u64 retisc_wakeup_bytes = 0;

static __always_inline void retisc_end_stage(struct retisc_ctx *ctx, struct retisc_scratch *ev)
{
	__u32 used = ev->used;
	__u32 *nest;

	if (!ctx->veto && used > ctx->core_used && used <= RETISC_EVENT_MAX) {
		__u64 flags = 0;

		if (retisc_wakeup_bytes) {
			/*
			 * A per-CPU count rather than bpf_ringbuf_query(): the
			 * ring's positions share a cache line with the consumer,
			 * on another CPU, and cost a cache miss per event.
			 */
			__u32 zero = 0;
			__u64 *pending = bpf_map_lookup_elem(&retisc_rb_pending, &zero);

			flags = BPF_RB_NO_WAKEUP;
			if (pending) {
				*pending += used;
				if (*pending >= retisc_wakeup_bytes) {
					*pending = 0;
					flags = BPF_RB_FORCE_WAKEUP;
				}
			}
		}
		if (bpf_ringbuf_output(&retisc_events, ev->data, used, flags)) {
			struct retisc_probe_stats *st = retisc_probe_stats(ctx->cfg.probe_id);

			if (st)
				st->lost++;
			track_lost(ctx);
		}
	}
	if (ctx->cfg.tracking_on)
		track_end(ctx, (ctx->flags & RETISC_F_TRACKABLE) == RETISC_F_TRACKABLE);
	nest = retisc_nest_ptr();
	if (nest && *nest)
		(*nest)--;
}

static __always_inline int retisc_submit(void)
{
	struct retisc_scratch *ev;
	struct retisc_ctx *ctx;
	__u32 *nest = retisc_nest_ptr();
	__u32 level;

	if (!nest || *nest == 0 || *nest > RETISC_NEST_MAX)
		return 0;
	level = *nest - 1;
	ctx = bpf_map_lookup_elem(&retisc_ctx_map, &level);
	ev = bpf_map_lookup_elem(&retisc_scratch_map, &level);
	if (!ctx || !ev) {
		(*nest)--;
		return 0;
	}
	retisc_end_stage(ctx, ev);
	return 0;
}

#endif
