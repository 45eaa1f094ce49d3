/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Raw sections of the ct collector (owner 9, doc/collectors.md §6.2), shared by
 * ct_hook.bpf.c and ct.c. Fixed-width types only; natural alignment, sizes
 * include tail padding.
 */
#ifndef __RETISC_CT_H
#define __RETISC_CT_H

/* Data types. */
#define RETISC_CT_META 0
#define RETISC_CT_BASE 1
#define RETISC_CT_PARENT 2

/* struct retisc_ct_conn.flags */
#define RETISC_CT_DIR_ORIG (1U << 0)  /* 1 << IP_CT_DIR_ORIGINAL */
#define RETISC_CT_DIR_REPLY (1U << 1) /* 1 << IP_CT_DIR_REPLY */
#define RETISC_CT_IPV4 (1U << 2)
#define RETISC_CT_IPV6 (1U << 3)
#define RETISC_CT_TCP (1U << 4)
#define RETISC_CT_UDP (1U << 5)
#define RETISC_CT_ICMP (1U << 6)
#define RETISC_CT_SCTP (1U << 7)

/*
 * One end of a tuple. data: the port (network order) for TCP, UDP and
 * SCTP; for ICMP the id (network order) at the source and
 * type << 8 | code (host order) at the destination.
 */
struct retisc_ct_addr {
	union {
		__u32 ipv4;    /* network order */
		__u8 ipv6[16]; /* network order */
	} addr;
	__u16 data;
};

struct retisc_ct_tuple {
	struct retisc_ct_addr src;
	struct retisc_ct_addr dst;
};

/* Types 1 (base connection) and 2 (parent connection), 128 bytes. */
struct retisc_ct_conn {
	struct retisc_ct_tuple orig;
	struct retisc_ct_tuple reply;
	__u64 status;
	__u32 flags;
	__u32 mark;
	__u8 labels[16]; /* struct nf_conn_labels bits, as the kernel holds them */
	__u16 zone_id;
	__u8 proto_state; /* TCP or SCTP conntrack state */
	struct {
		__u32 vtag[2]; /* SCTP, network order, [orig, reply] */
	} proto;
};

/* Type 0: enum ip_conntrack_info of the packet. */
struct retisc_ct_meta {
	__u8 state;
};

#endif /* __RETISC_CT_H */
