// SPDX-License-Identifier: GPL-2.0-only
/*
 * tc egress program for the skb live tests: tag every packet with VLAN 100,
 * PCP 5, DEI set, the way a VLAN device would (this kernel has no 802.1Q
 * module). bpf_skb_vlan_push() sets the offloaded tag; the stack writes it
 * into the packet before the driver when the device has tx-vlan offload off.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define VLAN_TCI (5 << 13 | 1 << 12 | 100)

SEC("tc")
int vlan_push(struct __sk_buff *skb)
{
	bpf_skb_vlan_push(skb, bpf_htons(0x8100), VLAN_TCI);
	return 0; /* TC_ACT_OK */
}

char LICENSE[] SEC("license") = "GPL";
