/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading the probe's struct sk_buff from a hook or the core.
 *
 * The core copies the whole struct into the context (retisc_ctx.skb_snap)
 * with one probe read per hit. A bpf_probe_read_kernel() per field costs a
 * helper call and a fault-protected copy each; the skb hook alone read ten
 * fields per hit. Fields of the struct itself are read from the copy with
 * CO-RE relocated offsets:
 *
 *	__u32 len = RETISC_SKB(h->ctx, len);
 *	__u8 cloned = RETISC_SKB_BITFIELD(h->ctx, cloned);
 *
 * Memory the sk_buff points to (head, shinfo, dev, sk, _nfct) still needs
 * probe reads. On a kernel whose struct sk_buff does not fit the copy
 * (RETISC_SKB_SNAP_MAX), both macros fall back to probe reads: the test is
 * a load-time constant, so the verifier only sees one of the two.
 */
#ifndef __RETISC_SKB_BPF_H
#define __RETISC_SKB_BPF_H

#include "ctx.h"

#define RETISC_SKB_SNAP_FITS (bpf_core_type_size(struct sk_buff) <= RETISC_SKB_SNAP_MAX)

static __always_inline struct sk_buff *retisc_skb_snap(const struct retisc_ctx *ctx)
{
	return (struct sk_buff *)ctx->skb_snap;
}

#define RETISC_SKB(ctx, field)                                                                     \
	({                                                                                         \
		typeof(((struct sk_buff *)0)->field) __rs_v;                                       \
		if (RETISC_SKB_SNAP_FITS)                                                          \
			__rs_v = retisc_skb_snap(ctx)->field;                                      \
		else                                                                               \
			__rs_v = BPF_CORE_READ((struct sk_buff *)(ctx)->skb, field);               \
		__rs_v;                                                                            \
	})

#define RETISC_SKB_BITFIELD(ctx, field)                                                            \
	({                                                                                         \
		unsigned long long __rs_b;                                                         \
		if (RETISC_SKB_SNAP_FITS)                                                          \
			__rs_b = BPF_CORE_READ_BITFIELD(retisc_skb_snap(ctx), field);              \
		else                                                                               \
			__rs_b = BPF_CORE_READ_BITFIELD_PROBED((struct sk_buff *)(ctx)->skb,       \
							       field);                             \
		__rs_b;                                                                            \
	})

/*
 * Take the copy; the core calls it once per hit before tracking and hooks.
 * Returns 0, or a negative errno when the struct could not be read (the
 * hit is then treated as having no sk_buff).
 */
static __always_inline int retisc_skb_snap_take(struct retisc_ctx *ctx)
{
	if (!RETISC_SKB_SNAP_FITS)
		return 0;
	return bpf_probe_read_kernel(ctx->skb_snap, bpf_core_type_size(struct sk_buff),
				     (const void *)ctx->skb);
}

#endif /* __RETISC_SKB_BPF_H */
