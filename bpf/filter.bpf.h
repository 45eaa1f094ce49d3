/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Filter evaluation at first sight of an skb (doc/filters.md §1.2-§1.4). The
 * three stages are placeholders, `call <magic>` to a function that does not
 * exist, replaced at load time by the code compiled from -f and -m
 * (core/filters/filter_splice.c). Without filters the calls are pruned through
 * rodata and never reach the verifier as live code.
 */
#ifndef __RETISC_FILTER_BPF_H
#define __RETISC_FILTER_BPF_H

/* doc/filters.md §1.4; layout known by core/filters/filter_pcap.c. */
struct retisc_packet_filter_ctx {
	__u64 data;
	__u32 len;
	__u32 linear;
};

/*
 * One placeholder per stage. The asm keeps the argument in r1 and takes the
 * result from r0; the generated code may use every register and 80 bytes
 * of this function's frame.
 */
#define RETISC_FILTER_STAGE(name, magic)                                                           \
	static __noinline __u64 name(__u64 arg)                                                    \
	{                                                                                          \
		register __u64 r1 asm("r1") = arg;                                                 \
		register __u64 r0 asm("r0");                                                       \
		asm volatile("call " #magic                                                        \
			     : "=r"(r0), "+r"(r1)                                                  \
			     :                                                                     \
			     : "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "memory");          \
		return r0;                                                                         \
	}

RETISC_FILTER_STAGE(retisc_filter_l2, 0xdeadbeef)
RETISC_FILTER_STAGE(retisc_filter_l3, 0xdeadc0de)
RETISC_FILTER_STAGE(retisc_filter_meta, 0xdeadbeed)

const volatile __u8 retisc_filter_packet = 0;  /* -f given */
const volatile __u8 retisc_filter_meta_on = 0; /* -m given */

#define RETISC_U16_UNSET 0xffff

/* PACKET|META flags of an untracked skb (doc/filters.md §1.2 steps 3-5). */
static __always_inline __u8 retisc_filters_eval(const struct retisc_ctx *ctx)
{
	struct retisc_packet_filter_ctx fctx = {};
	__u16 mac = RETISC_SKB(ctx, mac_header);
	__u16 net = RETISC_SKB(ctx, network_header);
	__u16 mac_len = RETISC_SKB(ctx, mac_len);
	__u64 head = (__u64)RETISC_SKB(ctx, head);
	__u64 data = (__u64)RETISC_SKB(ctx, data);
	__u32 len = RETISC_SKB(ctx, len), data_len = RETISC_SKB(ctx, data_len);
	int mac_ok = mac != RETISC_U16_UNSET, net_ok = net != 0 && net != RETISC_U16_UNSET;
	__s64 pkt, lin;
	__u16 start;
	__u8 flags = 0;
	__u64 res;

	if (mac_ok && !(net_ok && net == mac && mac_len == 0))
		start = mac;
	else if (net_ok && !(mac_ok && mac == net && mac_len != 0))
		start = net;
	else
		return 0;
	pkt = (__s64)len + (__s64)(data - head) - start;
	lin = (__s64)(len - data_len) + (__s64)(data - head) - start;
	fctx.data = head + start;
	fctx.len = pkt > 0 ? (__u32)pkt : 0;
	fctx.linear = lin > 0 ? (__u32)lin : 0;

	if (!retisc_filter_packet)
		res = 1;
	else if (start == mac)
		res = retisc_filter_l2((__u64)&fctx);
	else
		res = retisc_filter_l3((__u64)&fctx);
	if ((__u32)res)
		flags |= RETISC_F_PACKET;
	res = retisc_filter_meta_on ? retisc_filter_meta(ctx->skb) : 1;
	if ((__u32)res)
		flags |= RETISC_F_META;
	return flags;
}

#endif
