// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovs upcall return hook (doc/collectors.md §8.3), targeted on the
 * kretprobe of ovs_dp_upcall (gate ALL): the end of an upcall this
 * collection saw, with ovs_dp_upcall's return value (-ENOTCONN when no
 * netlink port listens, -ENOSPC/-ECONNREFUSED... when queueing failed).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "ovs_hook.bpf.h"

RETISC_HOOK(ovs_upcall_ret)
{
	struct retisc_ovs_upcall_return *s;
	struct ovs_upcall_ctx *up;

	if (!retisc_gate_all(h))
		return 0;
	up = bpf_map_lookup_elem(&inflight_upcalls, &h->ctx->stack_base);
	if (!up)
		return 0;
	s = retisc_section_add(h, RETISC_OVS_TYPE_UPCALL_RETURN, sizeof(*s));
	if (s) {
		s->upcall_ts = up->ts;
		s->upcall_cpu = up->cpu;
		s->ret = (__s32)h->ctx->retval;
	}
	bpf_map_delete_elem(&inflight_upcalls, &h->ctx->stack_base);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
