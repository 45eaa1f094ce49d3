// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovs upcall hook (doc/collectors.md §8.3), targeted on the raw tracepoint
 * openvswitch:ovs_dp_upcall (gate ALL): the packet goes to ovs-vswitchd.
 * Emits the upcall section and remembers the upcall for its return.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "ovs_hook.bpf.h"

RETISC_HOOK(ovs_upcall)
{
	const struct dp_upcall_info___retisc *info;
	struct ovs_upcall_ctx up = {};
	struct retisc_ovs_upcall *s;

	if (!retisc_gate_all(h))
		return 0;
	info = (const void *)retisc_arg(h, retisc_ovs_args.upcall_info);
	if (!info)
		return 0;
	s = retisc_section_add(h, RETISC_OVS_TYPE_UPCALL, sizeof(*s));
	if (!s)
		return 0;
	__builtin_memset(s, 0, sizeof(*s));
	s->port = BPF_CORE_READ(info, portid);
	s->cmd = BPF_CORE_READ(info, cmd);
	s->cpu = bpf_get_smp_processor_id();
	/* upcall_return (and upcall_enqueue) carry this upcall's (cpu, ts). */
	up.ts = h->ctx->timestamp;
	up.cpu = s->cpu;
	bpf_map_update_elem(&inflight_upcalls, &h->ctx->stack_base, &up, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
