// SPDX-License-Identifier: GPL-2.0-only
/*
 * skb-drop hook, generic: reports the drop reason of any probe that has a
 * drop-reason argument (skb:kfree_skb, and user probes on functions taking
 * one of the four reason enums). Kernels without drop reasons are served by
 * skb_drop_noreason_hook.bpf.c instead.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include <retisc/hook.bpf.h>

#include "skb_drop.h"

RETISC_HOOK(skb_drop)
{
	struct retisc_raw_skb_drop *s;
	__s8 idx = h->ctx->cfg.arg_drop_reason;

	if (!retisc_gate_all(h))
		return 0;
	/*
	 * enum skb_drop_reason came with kfree_skb_reason() (commit
	 * c504e5c2f964, v5.17); without it the targeted hook reports the
	 * kfree_skb events, and this one must stay silent.
	 */
	if (!bpf_core_type_exists(enum skb_drop_reason))
		return 0;
	/* Only arguments the probe captured are meaningful (kprobes: 5). */
	if (idx < 0 || idx >= h->ctx->cfg.nargs)
		return 0;
	s = retisc_section_add(h, RETISC_SKB_DROP_TYPE_REASON, sizeof(*s));
	if (!s)
		return 0;
	s->drop_reason = (__s32)retisc_arg(h, idx);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
