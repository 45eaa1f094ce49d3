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
 * Wake the consumer only once this many bytes wait in the ring buffer: a
 * wake-up per event costs an irq_work per packet. Userspace polls with a
 * short timeout, so quiet periods still flush within that timeout.
 */
const volatile __u64 retisc_wakeup_bytes = 0;

static __always_inline void retisc_end_stage(struct retisc_ctx *ctx, struct retisc_scratch *ev)
{
	__u32 used = ev->used;
	__u32 *nest;

	if (!ctx->veto && used > ctx->core_used && used <= RETISC_EVENT_MAX) {
		__u64 flags = 0;

		if (retisc_wakeup_bytes) {
			__u64 avail = bpf_ringbuf_query(&retisc_events, BPF_RB_AVAIL_DATA);

			/*
			 * Only the event that crosses the mark wakes: the consumer
			 * never sleeps while data is waiting (poll reports it), so
			 * it is awake whenever the ring stays above the mark, and
			 * a wake-up per event then (an irq_work each, a VM exit in
			 * a guest) made every hit several times dearer.
			 */
			flags = avail < retisc_wakeup_bytes && avail + used >= retisc_wakeup_bytes
					? BPF_RB_FORCE_WAKEUP
					: BPF_RB_NO_WAKEUP;
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
