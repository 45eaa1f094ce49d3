/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * skb-drop raw section (doc/collectors.md §4.2), shared by the hooks and the
 * plugin: owner RETISC_OWNER_SKB_DROP, data type 1, 4 bytes (Retis's
 * layout). Fixed-width types only.
 */
#ifndef __RETISC_SKB_DROP_H
#define __RETISC_SKB_DROP_H

#define RETISC_SKB_DROP_TYPE_REASON 1

struct retisc_raw_skb_drop {
	/*
	 * The probe's drop-reason argument as the kernel passed it (its enum
	 * is 32 bits wide), or -1 on a kernel without drop reasons.
	 */
	__s32 drop_reason;
};

#endif /* __RETISC_SKB_DROP_H */
