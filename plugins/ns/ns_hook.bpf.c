// SPDX-License-Identifier: GPL-2.0-only
/*
 * ns hook (doc/collectors.md §5.2): the network namespace of a tracked skb,
 * from its device, else its socket, else the probe's struct net * or
 * struct net_device * argument. Generic hook without gate: nothing without
 * a tracked skb.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include <retisc/hook.bpf.h>

#include "ns.h"

/*
 * net_cookie appeared as an atomic64_t set on first use (5.7, "bpf: add
 * netns cookie and enable it for bpf cgroup hooks") and became a plain u64
 * set at netns creation in 5.12 ("net: initialize net->net_cookie at netns
 * setup"). CO-RE matches a field only with a compatible type, hence two
 * flavors.
 */
struct net___cookie_atomic {
	atomic64_t net_cookie;
} __attribute__((preserve_access_index));

/* Without CONFIG_NET_NS possible_net_t is empty: everything is init_net,
 * which has no pointer to read, so no section. */
static __always_inline struct net *dev_net_of(struct net_device *dev)
{
	if (!dev || !bpf_core_field_exists(dev->nd_net.net))
		return NULL;
	return BPF_CORE_READ(dev, nd_net.net);
}

static __always_inline struct net *sk_net_of(struct sock *sk)
{
	if (!sk || !bpf_core_field_exists(sk->__sk_common.skc_net.net))
		return NULL;
	return BPF_CORE_READ(sk, __sk_common.skc_net.net);
}

static __always_inline __u64 arg_of(struct retisc_hook_ctx *h, __s8 idx)
{
	/* Slots past nargs hold no argument (kretprobes have none). */
	if (idx < 0 || idx >= h->ctx->cfg.nargs)
		return 0;
	return retisc_arg(h, idx);
}

RETISC_HOOK(ns_hook)
{
	struct net___cookie_atomic *old;
	struct sk_buff *skb = (void *)h->ctx->skb;
	struct retisc_ns_raw *n;
	struct net *net;

	if (!skb || !h->ctx->tracked)
		return 0;
	net = dev_net_of(RETISC_SKB(h->ctx, dev));
	if (!net)
		net = sk_net_of(RETISC_SKB(h->ctx, sk));
	if (!net)
		net = (void *)arg_of(h, h->ctx->cfg.arg_net);
	if (!net)
		net = dev_net_of((void *)arg_of(h, h->ctx->cfg.arg_netdev));
	if (!net)
		return 0;
	n = retisc_section_add(h, RETISC_NS_TYPE, sizeof(*n));
	if (!n)
		return 0;
	__builtin_memset(n, 0, sizeof(*n));
	n->inum = BPF_CORE_READ(net, ns.inum);
	old = (void *)net;
	if (bpf_core_field_exists(net->net_cookie)) {
		n->cookie = BPF_CORE_READ(net, net_cookie);
		n->has_cookie = 1;
	} else if (bpf_core_field_exists(old->net_cookie)) {
		n->cookie = BPF_CORE_READ(old, net_cookie.counter);
		n->has_cookie = 1;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
