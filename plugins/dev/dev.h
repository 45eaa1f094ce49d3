/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Raw section of the dev collector (owner 10, type 1, doc/collectors.md §5.1),
 * shared by dev_hook.bpf.c and dev.c. Fixed-width types only.
 */
#ifndef __RETISC_DEV_H
#define __RETISC_DEV_H

#define RETISC_DEV_TYPE 1
#define RETISC_DEV_NAME_LEN 16 /* IFNAMSIZ */

struct retisc_dev_raw {
	__u8 dev_name[RETISC_DEV_NAME_LEN]; /* as the kernel holds it, maybe unterminated */
	__u32 ifindex;
	__u32 iif; /* skb->skb_iif (an int), 0 without an skb */
};

#endif /* __RETISC_DEV_H */
