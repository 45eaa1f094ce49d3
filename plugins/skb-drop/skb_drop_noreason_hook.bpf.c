// SPDX-License-Identifier: GPL-2.0-only
/*
 * skb-drop hook for kernels without drop reasons, targeted on skb:kfree_skb:
 * every kfree_skb event says "dropped" with reason -1 (decoded as
 * NOT_SPECIFIED). Targeted, because on any other probe such a section
 * would be a fake reason (doc/collectors.md §4.1).
 *
 * It is loaded on every kernel; where drop reasons exist the CO-RE check
 * below is true and the verifier drops the rest of the body, so it costs a
 * tail call on skb:kfree_skb only.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include <retisc/hook.bpf.h>

#include "skb_drop.h"

RETISC_HOOK(skb_drop_noreason)
{
	struct retisc_raw_skb_drop *s;

	if (!retisc_gate_all(h))
		return 0;
	/*
	 * Kernels since c504e5c2f964 ("net: skb: introduce
	 * kfree_skb_reason()", v5.17) pass the reason: the generic hook
	 * reports it.
	 */
	if (bpf_core_type_exists(enum skb_drop_reason))
		return 0;
	s = retisc_section_add(h, RETISC_SKB_DROP_TYPE_REASON, sizeof(*s));
	if (!s)
		return 0;
	s->drop_reason = -1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
