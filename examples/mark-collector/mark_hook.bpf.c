// SPDX-License-Identifier: GPL-2.0-only
/*
 * mark hook: skb->mark and skb->priority of every packet a probe sees. Both
 * fields are read with CO-RE, so the object loads on kernels whose
 * struct sk_buff layout differs from the one it was built against.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include <retisc/hook.bpf.h>

#include "mark.h"

RETISC_HOOK(mark_hook)
{
	struct sk_buff *skb = (struct sk_buff *)h->ctx->skb;
	struct mark_raw *s;

	/* Probes without an skb argument, and packets the filters rejected. */
	if (!skb || !retisc_gate_all(h))
		return 0;
	s = retisc_section_add(h, MARK_DATA_TYPE, sizeof(*s));
	if (!s)
		return 0;
	s->mark = BPF_CORE_READ(skb, mark);
	s->priority = BPF_CORE_READ(skb, priority);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
