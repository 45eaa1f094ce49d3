/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Raw sections of the skb collector (owner 6, doc/collectors.md §1.4, §3),
 * shared by skb_hook.bpf.c and skb.c. Fixed-width types only; natural
 * alignment, sizes include tail padding.
 */
#ifndef __RETISC_SKB_H
#define __RETISC_SKB_H

/* Data types, also the bit numbers of skb_sections (1 << type). */
#define RETISC_SKB_PACKET 1
#define RETISC_SKB_VLAN 2
#define RETISC_SKB_META 3
#define RETISC_SKB_DATA_REF 4
#define RETISC_SKB_GSO 5

/* Packet capture and VLAN-offload data are always collected (§3.1). */
#define RETISC_SKB_SECTIONS_DEFAULT ((1ULL << RETISC_SKB_PACKET) | (1ULL << RETISC_SKB_VLAN))

#define RETISC_SKB_CAPTURE_MAX 255
#define RETISC_SKB_ETH_HLEN 14

/*
 * Type 1. The hook trims the section to the bytes captured: its size is
 * 8 + capture_len, at most 264 (the full struct). Decoders accept any size
 * from 8 + capture_len up to the full struct.
 */
struct retisc_skb_packet {
	__u32 len;	   /* from the Ethernet header (synthetic one included) */
	__u32 capture_len; /* <= RETISC_SKB_CAPTURE_MAX */
	__u8 packet[RETISC_SKB_CAPTURE_MAX];
};

/* Type 2, only when a tag is present. */
struct retisc_skb_vlan {
	__u16 proto; /* host order */
	__u8 pcp;
	__u8 dei;
	__u16 vid;
};

/* Type 3. */
struct retisc_skb_meta {
	__u32 len;
	__u32 data_len;
	__u32 hash;
	__u8 ip_summed;
	__u32 csum;
	__u8 csum_level;
	__u32 priority;
};

/* Type 4; users and dataref are truncated to 8 bits. */
struct retisc_skb_data_ref {
	__u8 nohdr;
	__u8 cloned;
	__u8 fclone;
	__u8 users;
	__u8 dataref;
};

/* Type 5, only when gso_size != 0. */
struct retisc_skb_gso {
	__u8 flags;
	__u8 nr_frags;
	__u32 gso_size;
	__u32 gso_segs;
	__u32 gso_type;
};

#endif /* __RETISC_SKB_H */
