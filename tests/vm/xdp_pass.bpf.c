// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attached to the receiving veth of the VM lane's TCP test: with an XDP
 * program, veth copies every cloned (TCP) skb into a page-backed one built
 * by build_skb(), whose head TCP receive coalescing can steal, which is the
 * only way to reach kfree_skb_partial(skb, head_stolen = true) over veth.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
