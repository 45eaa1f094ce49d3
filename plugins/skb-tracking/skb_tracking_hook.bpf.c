// SPDX-License-Identifier: GPL-2.0-only
/*
 * skb-tracking hook: reports the tracking id the core resolved for this
 * probe hit (doc/tracking.md §8). Tracking itself is core code.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include <retisc/hook.bpf.h>

RETISC_HOOK(skb_tracking)
{
	struct retisc_raw_skb_tracking *s;

	if (!retisc_gate_all(h) || !h->ctx->tracked)
		return 0;
	s = retisc_section_add(h, 1, sizeof(*s));
	if (!s)
		return 0;
	s->orig_head = h->ctx->trk_orig_head;
	s->timestamp = h->ctx->trk_timestamp;
	s->skb = h->ctx->skb;
	s->lost = h->ctx->trk_lost;
	s->pad = 0;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
