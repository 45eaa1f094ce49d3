// SPDX-License-Identifier: GPL-2.0-only
/*
 * dev hook (doc/collectors.md §5.1): the packet's device, or the probe's
 * struct net_device * argument when the probe has no skb. Generic hook
 * without gate: an skb must be tracked (it passed the filters once), a
 * device argument alone is reported unfiltered.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include <retisc/hook.bpf.h>

#include "dev.h"

RETISC_HOOK(dev_hook)
{
	struct sk_buff *skb = (void *)h->ctx->skb;
	__s8 arg = h->ctx->cfg.arg_netdev;
	struct retisc_dev_raw *d;
	struct net_device *dev;
	int ifindex, iif = 0;

	if (skb) {
		if (!h->ctx->tracked)
			return 0;
		/*
		 * skb->dev shares its storage with dev_scratch and list links:
		 * on some paths it is no device. The ifindex check below and
		 * the name check of the decoder are the safety net.
		 */
		dev = RETISC_SKB(h->ctx, dev);
		iif = RETISC_SKB(h->ctx, skb_iif);
	} else {
		/* Slots past nargs hold no argument (kretprobes have none). */
		if (arg < 0 || arg >= h->ctx->cfg.nargs)
			return 0;
		dev = (void *)retisc_arg(h, arg);
	}
	if (!dev)
		return 0;
	ifindex = BPF_CORE_READ(dev, ifindex);
	if (!ifindex)
		return 0;
	d = retisc_section_add(h, RETISC_DEV_TYPE, sizeof(*d));
	if (!d)
		return 0;
	/* A failed read zeroes the buffer: an empty name. */
	bpf_core_read(d->dev_name, sizeof(d->dev_name), &dev->name);
	d->ifindex = (__u32)ifindex;
	d->iif = (__u32)iif;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
