// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovs execute return hook (doc/collectors.md §8.3), targeted and exclusive
 * on the kretprobe of ovs_execute_actions: the packet's actions are done,
 * so the stack's in-flight context and sk_buff go. Emits nothing.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "ovs_hook.bpf.h"

RETISC_HOOK(ovs_exec_ret)
{
	bpf_map_delete_elem(&inflight_exec, &h->ctx->stack_base);
	retisc_stack_skb_clear(h);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
