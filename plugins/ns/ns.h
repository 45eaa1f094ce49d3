/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Raw section of the ns collector (owner 11, type 0, doc/collectors.md §5.2),
 * shared by ns_hook.bpf.c and ns.c. Fixed-width types only.
 */
#ifndef __RETISC_NS_H
#define __RETISC_NS_H

#define RETISC_NS_TYPE 0

struct retisc_ns_raw {
	__u64 cookie;
	__u32 inum;
	/*
	 * retisc: 1 when the running kernel's struct net has net_cookie (the
	 * hook's CO-RE field check against kernel BTF), so that the decoder
	 * emits "cookie" exactly on those kernels. Lives in Retis's tail
	 * padding: the section stays 16 bytes.
	 */
	__u8 has_cookie;
	__u8 pad[3];
};

#endif /* __RETISC_NS_H */
