/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading the probe's struct sk_buff from a hook or the core.
 *
 * The core copies the struct, from skb->len on, into the context
 * (retisc_ctx.skb_snap) with one probe read per hit. A
 * bpf_probe_read_kernel() per field costs a helper call and a fault-protected
 * copy each; the skb hook alone read ten fields per hit. Fields are read
 * from the copy with CO-RE relocated offsets:
 *
 *	__u32 len = RETISC_SKB(h->ctx, len);
 *	__u8 cloned = RETISC_SKB_BITFIELD(h->ctx, cloned);
 *
 * Memory the sk_buff points to (packet, shinfo, device, socket, conntrack)
 * still needs probe reads. Fields before the copy, and every field on a
 * kernel whose struct sk_buff does not fit it (RETISC_SKB_SNAP_MAX), are
 * probe-read by the same macros: the test is a load-time constant, so the
 * verifier only sees one of the two ways.
 */
#ifndef __RETISC_SKB_BPF_H
#define __RETISC_SKB_BPF_H

#include "ctx.h"

#define RETISC_SKB_SNAP_FITS (bpf_core_type_size(struct sk_buff) <= RETISC_SKB_SNAP_MAX)

/*
 * The copy starts at skb->len: what comes before (list links, dev, sk, the
 * 48-byte cb, dst, destructor, conntrack) is rarely read and copying it made
 * the copy twice as long. The copy sits at the same offsets as in the
 * struct; fields before the start are probe-read. Both sides compute the
 * bounds from the running kernel's BTF, so they always agree.
 */
#define RETISC_SKB_SNAP_LO bpf_core_field_offset(struct sk_buff, len)
#define RETISC_SKB_SNAP_HI bpf_core_type_size(struct sk_buff)

/* Field f of struct type t (sk_buff or a flavor of it) is in the copy. */
#define RETISC_SKB_SNAP_HAS_T(t, f)                                                                \
	(RETISC_SKB_SNAP_FITS && bpf_core_field_offset(t, f) >= RETISC_SKB_SNAP_LO)
#define RETISC_SKB_SNAP_HAS(f) RETISC_SKB_SNAP_HAS_T(struct sk_buff, f)

static __always_inline struct sk_buff *retisc_skb_snap(const struct retisc_ctx *ctx)
{
	return (struct sk_buff *)ctx->skb_snap;
}

#define RETISC_SKB(ctx, field)                                                                     \
	({                                                                                         \
		const struct retisc_ctx *__rs_c = (ctx);                                           \
		typeof(((struct sk_buff *)0)->field) __rs_v;                                       \
		if (RETISC_SKB_SNAP_HAS(field)) {                                                  \
			__rs_v = retisc_skb_snap(__rs_c)->field;                                   \
		} else {                                                                           \
			struct sk_buff *__rs_p = (struct sk_buff *)__rs_c->skb;                    \
			__rs_v = BPF_CORE_READ(__rs_p, field);                                     \
		}                                                                                  \
		__rs_v;                                                                            \
	})

#define RETISC_SKB_BITFIELD(ctx, field)                                                            \
	({                                                                                         \
		const struct retisc_ctx *__rs_c = (ctx);                                           \
		unsigned long long __rs_b;                                                         \
		if (RETISC_SKB_SNAP_HAS(field)) {                                                  \
			struct sk_buff *__rs_s = retisc_skb_snap(__rs_c);                          \
			__rs_b = BPF_CORE_READ_BITFIELD(__rs_s, field);                            \
		} else {                                                                           \
			struct sk_buff *__rs_p = (struct sk_buff *)__rs_c->skb;                    \
			__rs_b = BPF_CORE_READ_BITFIELD_PROBED(__rs_p, field);                     \
		}                                                                                  \
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
	return bpf_probe_read_kernel(ctx->skb_snap + RETISC_SKB_SNAP_LO,
				     RETISC_SKB_SNAP_HI - RETISC_SKB_SNAP_LO,
				     (const void *)(ctx->skb + RETISC_SKB_SNAP_LO));
}

#endif /* __RETISC_SKB_BPF_H */
