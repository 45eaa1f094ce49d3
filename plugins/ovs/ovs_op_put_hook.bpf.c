// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovs op_flow_put hook (doc/collectors.md §8.5), targeted on the USDT
 * probe dpif_netlink_operate__:op_flow_put of ovs-vswitchd
 * (--ovs-track): the handler thread issues a flow put for an upcall of
 * its batch (ovs_usdt.bpf.h). No argument is read.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "ovs_usdt.bpf.h"

RETISC_HOOK(ovs_op_put)
{
	return ovs_operation(h, RETISC_OVS_OP_PUT);
}

char LICENSE[] SEC("license") = "GPL";
