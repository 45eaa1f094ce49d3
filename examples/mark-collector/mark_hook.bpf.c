// SPDX-License-Identifier: GPL-2.0-only
/*
 * mark hook: skb->mark and skb->priority of every packet a probe sees. Both
 * fields are read with CO-RE from the core's copy of the sk_buff
 * (RETISC_SKB, retisc/skb.bpf.h), so the object loads on kernels whose
 * struct sk_buff layout differs from the one it was built against and pays
 * no probe read per field.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include <retisc/hook.bpf.h>

#include "mark.h"

/* --mark-mask (mark.c): the bits of skb->mark to report. */
const volatile __u32 mark_mask = 0xffffffff;

RETISC_HOOK(mark_hook)
{
	struct mark_raw *s;

	/* Probes without an skb argument, and packets the filters rejected. */
	if (!h->ctx->skb || !retisc_gate_all(h))
		return 0;
	s = retisc_section_add(h, MARK_DATA_TYPE, sizeof(*s));
	if (!s)
		return 0;
	s->mark = RETISC_SKB(h->ctx, mark) & mark_mask;
	s->priority = RETISC_SKB(h->ctx, priority);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
