/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Packet identity for the tracking guard (doc/tracking.md, "Identity
 * guard"), shared by the core BPF programs and by userspace (unit tests over
 * the dissector's packet corpus). Plain C over a byte buffer: fixed-width
 * types, byte loads, every offset checked against the buffer before use, so
 * that the verifier accepts it as it is.
 *
 * A tracking entry keeps the identity of its packet's first sighting. A
 * later sighting under the same data buffer whose identity differs is
 * another packet that reuses the address of a buffer freed unseen. The
 * identity is made of fields that NAT, clones, retransmissions and head
 * reallocation leave alone:
 *
 *	TCP	sequence number, SYN/FIN/RST, payload length; a pure ACK
 *		(no payload, no SYN/FIN/RST): sequence and ack numbers, window,
 *		IPv4 id, header length
 *	UDP	length, IPv4 id, checksum less the addresses and ports (NAT
 *		adjusts the checksum by exactly what it rewrites), unless the
 *		checksum is partial (offloaded: only the pseudo header is there)
 *	ICMP	echo: type, id, sequence; others: type, IPv4 id, length
 *	other	IPv4 id and length, or IPv6 flow label and payload length
 *	fragment  IPv4 id, fragment offset, length
 *
 * Addresses and ports are left out (NAT rewrites them); the IPv4 id is left
 * out of TCP (every transmission of a segment gets a new one) and the ack
 * number of a segment that carries data or SYN/FIN/RST too (a
 * retransmission acknowledges more). A pure ACK is never retransmitted (TCP
 * builds a new one each time), and all the pure ACKs of a receiver have one
 * sequence number: the ack number and the window tell them apart, and the
 * IPv4 id and the header length (SACK blocks) tell duplicate ACKs apart. One
 * level of encapsulation (VXLAN, Geneve, GRE, IP in IP) is looked through,
 * so that a packet keeps its identity when a tunnel wraps it in place.
 */
#ifndef __RETISC_PKT_IDENT_H
#define __RETISC_PKT_IDENT_H

#ifndef __BPF__
#include <linux/types.h>
#define RETISC_IDENT_INLINE static inline
#else
#define RETISC_IDENT_INLINE static __always_inline
#endif

/* Bytes read from the packet: outer Ethernet + VLAN + IPv6 + UDP + Geneve
 * (8) + inner Ethernet + IPv4 + TCP fits with room to spare. */
#define RETISC_IDENT_BUF 128

/*
 * Identity layout (0: unknown, the guard does not compare):
 *	bits 56-63	kind (RETISC_IDENT_*)
 *	bits 48-55	flags: TCP FIN/SYN/RST or pure ACK (0x08, with the
 *			header length in words in bits 4-7), ICMP type, UDP csum
 *			known (0x80)
 *	bits 32-47	length (payload or datagram); TCP pure ACK: window
 *	bits  0-31	key: TCP seq (pure ACK: seq ^ ack ^ IPv4 id << 16),
 *			ICMP id << 16 | seq,
 *			UDP IPv4 id << 16 | csum
 */
#define RETISC_IDENT_TCP 1
#define RETISC_IDENT_UDP 2
#define RETISC_IDENT_ICMP 3
#define RETISC_IDENT_OTHER 4
#define RETISC_IDENT_FRAG 5
#define RETISC_IDENT_UDP_CSUM 0x80
#define RETISC_IDENT_TCP_PURE_ACK 0x08

#define RETISC_IDENT_KIND(id) ((__u8)((id) >> 56))

RETISC_IDENT_INLINE __u64 retisc_ident__make(__u8 kind, __u8 flags, __u16 len, __u32 key)
{
	return (__u64)kind << 56 | (__u64)flags << 48 | (__u64)len << 32 | key;
}

/*
 * Loads. Every byte load checks its offset right before the access, behind
 * a compiler barrier, so that the check and the access use one register:
 * older verifiers (6.1) lose a bound that was checked on a copy of an
 * offset reloaded from the stack. The logic checks elsewhere still decide
 * what is read; these only keep the verifier convinced.
 */
RETISC_IDENT_INLINE __u8 retisc_ident__u8(const __u8 *b, __u32 off)
{
	asm volatile("" : "+r"(off));
	if (off >= RETISC_IDENT_BUF)
		return 0;
	return b[off];
}

/*
 * 16 and 32-bit big-endian loads, one check each. BPF loads the word at
 * once (unaligned loads are fine on the architectures whose verifier does
 * not enforce alignment, x86-64 and arm64) and swaps it: half the
 * instructions of byte loads on the packet path. Userspace assembles bytes.
 */
RETISC_IDENT_INLINE __u16 retisc_ident__u16(const __u8 *b, __u32 off)
{
	asm volatile("" : "+r"(off));
	if (off > RETISC_IDENT_BUF - 2)
		return 0;
#ifdef __BPF__
	return __builtin_bswap16(*(const __u16 *)(b + off));
#else
	return (__u16)(b[off] << 8 | b[off + 1]);
#endif
}

RETISC_IDENT_INLINE __u32 retisc_ident__u32(const __u8 *b, __u32 off)
{
	asm volatile("" : "+r"(off));
	if (off > RETISC_IDENT_BUF - 4)
		return 0;
#ifdef __BPF__
	return __builtin_bswap32(*(const __u32 *)(b + off));
#else
	return (__u32)b[off] << 24 | (__u32)b[off + 1] << 16 | (__u32)b[off + 2] << 8 | b[off + 3];
#endif
}

#define RETISC_IDENT_U16(b, off) retisc_ident__u16(b, off)
#define RETISC_IDENT_U32(b, off) retisc_ident__u32(b, off)

/* Ones' complement sum of 16-bit words, folded (two folds: < 2^20 in). */
RETISC_IDENT_INLINE __u32 retisc_ident__fold(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return s;
}

/* The packet bytes given to retisc_pkt_ident(). */
struct retisc_ident_buf {
	__u8 b[RETISC_IDENT_BUF];
};

/* Flags of retisc_pkt_ident(). */
#define RETISC_IDENT_AT_MAC 0x1	      /* b starts with the Ethernet header */
#define RETISC_IDENT_CSUM_PARTIAL 0x2 /* CHECKSUM_PARTIAL: UDP csum not final */
#define RETISC_IDENT_ETYPE_SHIFT 16   /* else: ethertype of the network header */

/* Complement of the 16-bit word at off (0 past the buffer, never reached). */
#define RETISC_IDENT_NW(b, off)                                                                    \
	((off) + 2 <= RETISC_IDENT_BUF ? (__u16)~RETISC_IDENT_U16(b, off) : 0)

/*
 * The UDP checksum with the addresses and ports taken out: NAT adds to the
 * checksum what it changes, so this stays. 0 for "no checksum"; both ones'
 * complement zeros read as 0. The caller checked l4 + 8 and the addresses
 * (l3 + 40 for IPv6) against the buffer.
 */
RETISC_IDENT_INLINE __u16 retisc_ident__udp_csum(const __u8 *b, __u32 l3, __u32 l4, int v6)
{
	__u16 csum = RETISC_IDENT_U16(b, l4 + 6);
	__u32 s, a;

	if (!csum)
		return 0;
	s = (__u16)~csum;
	s += RETISC_IDENT_NW(b, l4) + RETISC_IDENT_NW(b, l4 + 2);
	/* IPv4 addresses at l3 + 12 (8 bytes), IPv6 at l3 + 8 (32 bytes). */
	a = l3 + (v6 ? 8 : 12);
	s += RETISC_IDENT_NW(b, a) + RETISC_IDENT_NW(b, a + 2) + RETISC_IDENT_NW(b, a + 4) +
	     RETISC_IDENT_NW(b, a + 6);
	if (v6) {
		s = retisc_ident__fold(s);
		s += RETISC_IDENT_NW(b, a + 8) + RETISC_IDENT_NW(b, a + 10) +
		     RETISC_IDENT_NW(b, a + 12) + RETISC_IDENT_NW(b, a + 14) +
		     RETISC_IDENT_NW(b, a + 16) + RETISC_IDENT_NW(b, a + 18) +
		     RETISC_IDENT_NW(b, a + 20) + RETISC_IDENT_NW(b, a + 22) +
		     RETISC_IDENT_NW(b, a + 24) + RETISC_IDENT_NW(b, a + 26) +
		     RETISC_IDENT_NW(b, a + 28) + RETISC_IDENT_NW(b, a + 30);
	}
	s = retisc_ident__fold(s);
	return s == 0xffff ? 0 : (__u16)s;
}

/* Ethernet at *off: the ethertype after up to two VLAN tags, *off moved to
 * what follows; 0 when the buffer ends first. */
RETISC_IDENT_INLINE __u16 retisc_ident__eth(const __u8 *b, __u32 avail, __u32 *off)
{
	__u32 o = *off;
	__u16 et;
	int i;

	if (o > RETISC_IDENT_BUF - 22 || o + 14 > avail)
		return 0;
	et = RETISC_IDENT_U16(b, o + 12);
	o += 14;
	for (i = 0; i < 2 && (et == 0x8100 || et == 0x88a8); i++) {
		if (o + 4 > avail)
			return 0;
		et = RETISC_IDENT_U16(b, o + 2);
		o += 4;
	}
	*off = o;
	return et;
}

/* What the network header at off says about the packet. */
struct retisc_ident_l3 {
	__u32 l4;  /* offset of the transport header */
	__u32 len; /* bytes after the network header(s) */
	__u16 id;  /* IPv4 id */
	__u8 proto;
	__u8 v6;
	__u64 frag; /* identity of an IPv4 fragment, 0 if not one */
};

/* Parse IPv4/IPv6 at off; 0 on success. */
RETISC_IDENT_INLINE int retisc_ident__l3(const __u8 *b, __u32 avail, __u16 et, __u32 off,
					 struct retisc_ident_l3 *r)
{
	__u32 hl, tot;
	__u16 frag;

	if (off > RETISC_IDENT_BUF - 40)
		return -1;
	if (et == 0x0800) {
		if (off + 20 > avail || retisc_ident__u8(b, off) >> 4 != 4)
			return -1;
		hl = (retisc_ident__u8(b, off) & 0x0f) * 4;
		tot = RETISC_IDENT_U16(b, off + 2);
		frag = RETISC_IDENT_U16(b, off + 6);
		if (hl < 20 || tot < hl)
			return -1;
		r->id = RETISC_IDENT_U16(b, off + 4);
		r->proto = retisc_ident__u8(b, off + 9);
		r->v6 = 0;
		r->l4 = off + hl;
		r->len = tot - hl;
		/* A fragment: its transport header, if any, is not the packet's. */
		r->frag = frag & 0x3fff ? retisc_ident__make(RETISC_IDENT_FRAG, 0, (__u16)tot,
							     (__u32)r->id << 16 | (frag & 0x1fff))
					: 0;
		return 0;
	}
	if (et == 0x86dd) {
		if (off + 40 > avail || retisc_ident__u8(b, off) >> 4 != 6)
			return -1;
		r->id = 0;
		r->proto = retisc_ident__u8(b, off + 6);
		r->v6 = 1;
		r->l4 = off + 40;
		r->len = RETISC_IDENT_U16(b, off + 4);
		r->frag = 0;
		return 0;
	}
	return -1;
}

/*
 * The tunnel a UDP datagram or an IP protocol carries: sets *off to the
 * inner header and returns its ethertype (0x6558: Ethernet), 0 when the
 * packet is no tunnel, RETISC_IDENT_TUNNEL_CUT when it is one whose header
 * the buffer does not hold (its outer identity would not be the packet's).
 */
#define RETISC_IDENT_TUNNEL_CUT 0xffff

RETISC_IDENT_INLINE __u16 retisc_ident__tunnel(const __u8 *b, __u32 avail,
					       const struct retisc_ident_l3 *r, __u32 *off)
{
	__u32 l4 = r->l4, o;
	__u16 port, flags, et;

	if (r->frag || (r->proto != 4 && r->proto != 41 && r->proto != 47 && r->proto != 17))
		return 0;
	if (l4 > RETISC_IDENT_BUF - 16)
		return RETISC_IDENT_TUNNEL_CUT;
	if (r->proto == 4 || r->proto == 41) {
		*off = l4;
		return r->proto == 4 ? 0x0800 : 0x86dd;
	}
	if (r->proto == 47) {
		if (l4 + 4 > avail)
			return RETISC_IDENT_TUNNEL_CUT;
		/* GRE version 0: checksum, key and sequence words follow. */
		flags = RETISC_IDENT_U16(b, l4);
		et = RETISC_IDENT_U16(b, l4 + 2);
		o = l4 + 4 + (flags & 0x8000 ? 4 : 0) + (flags & 0x2000 ? 4 : 0) +
		    (flags & 0x1000 ? 4 : 0);
		if (flags & 0x4fff)
			return RETISC_IDENT_TUNNEL_CUT;
		*off = o;
		return et;
	}
	if (l4 + 4 > avail)
		/* Not even the ports: the UDP identity is unknown as well. */
		return RETISC_IDENT_TUNNEL_CUT;
	port = RETISC_IDENT_U16(b, l4 + 2);
	if (port != 4789 && port != 8472 && port != 6081)
		return 0;
	if (l4 + 16 > avail)
		return RETISC_IDENT_TUNNEL_CUT;
	if (port == 6081) {
		/* Geneve: options in 4-byte words, then the protocol. */
		*off = l4 + 16 + (retisc_ident__u8(b, l4 + 8) & 0x3f) * 4;
		return RETISC_IDENT_U16(b, l4 + 10);
	}
	/* VXLAN: 8-byte header with the I flag. */
	if (!(retisc_ident__u8(b, l4 + 8) & 0x08))
		return RETISC_IDENT_TUNNEL_CUT;
	*off = l4 + 16;
	return 0x6558;
}

/* Identity from the transport header described by r (network header at l3). */
RETISC_IDENT_INLINE __u64 retisc_ident__l4(const __u8 *b, __u32 avail, __u32 l3,
					   const struct retisc_ident_l3 *r, int csum_partial)
{
	__u32 l4 = r->l4, hl;
	__u16 usum;
	__u8 type, tflags;

	if (r->frag)
		return r->frag;
	if (l4 > RETISC_IDENT_BUF - 20 || l3 > RETISC_IDENT_BUF - 40)
		return 0;
	switch (r->proto) {
	case 6:
		if (l4 + 14 > avail)
			return 0;
		hl = (retisc_ident__u8(b, l4 + 12) >> 4) * 4;
		if (hl < 20 || r->len < hl)
			return 0;
		tflags = retisc_ident__u8(b, l4 + 13) & 0x07;
		if (r->len > hl || tflags)
			return retisc_ident__make(RETISC_IDENT_TCP, tflags, (__u16)(r->len - hl),
						  RETISC_IDENT_U32(b, l4 + 4));
		/* A pure ACK: never retransmitted, each is a new segment, with
		 * an IPv4 id of its own (a duplicate ACK repeats everything
		 * else, SACK blocks aside: their room, hl, is in the flags). */
		if (l4 + 16 > avail)
			return 0;
		return retisc_ident__make(RETISC_IDENT_TCP,
					  (__u8)(RETISC_IDENT_TCP_PURE_ACK | (hl / 4) << 4),
					  RETISC_IDENT_U16(b, l4 + 14),
					  RETISC_IDENT_U32(b, l4 + 4) ^
						  RETISC_IDENT_U32(b, l4 + 8) ^ (__u32)r->id << 16);
	case 17:
		if (l4 + 8 > avail)
			return 0;
		usum = csum_partial || l3 + (r->v6 ? 40 : 20) > avail
			       ? 0
			       : retisc_ident__udp_csum(b, l3, l4, r->v6);
		return retisc_ident__make(RETISC_IDENT_UDP, usum ? RETISC_IDENT_UDP_CSUM : 0,
					  RETISC_IDENT_U16(b, l4 + 4), (__u32)r->id << 16 | usum);
	case 1:
	case 58:
		if (l4 + 8 > avail)
			return 0;
		type = retisc_ident__u8(b, l4);
		/* Echo request/reply, v4 and v6. */
		if (type == 0 || type == 8 || type == 128 || type == 129)
			return retisc_ident__make(RETISC_IDENT_ICMP, type, (__u16)r->len,
						  RETISC_IDENT_U32(b, l4 + 4));
		return retisc_ident__make(RETISC_IDENT_ICMP, type, (__u16)r->len, r->id);
	}
	if (r->v6)
		return retisc_ident__make(RETISC_IDENT_OTHER, r->proto, (__u16)r->len,
					  RETISC_IDENT_U32(b, l3) & 0xfffff);
	return retisc_ident__make(RETISC_IDENT_OTHER, r->proto, (__u16)r->len, r->id);
}

/*
 * Identity of the packet in buf->b[0..avail) (0: unknown). flags: see
 * RETISC_IDENT_AT_MAC and friends. In BPF programs this is a global
 * function, verified once for any input rather than at every call site.
 */
#ifdef __BPF__
__attribute__((noinline))
#else
static inline
#endif
__u64 retisc_pkt_ident(const struct retisc_ident_buf *buf, __u32 avail, __u32 flags)
{
	struct retisc_ident_l3 r = {};
	__u32 off = 0, l3, inner = 0;
	__u16 et = (__u16)(flags >> RETISC_IDENT_ETYPE_SHIFT), iet;
	const __u8 *b;

	if (!buf)
		return 0;
	b = buf->b;
	if (avail > RETISC_IDENT_BUF)
		avail = RETISC_IDENT_BUF;
	if (flags & RETISC_IDENT_AT_MAC) {
		et = retisc_ident__eth(b, avail, &off);
		if (!et)
			return 0;
	}
	if (retisc_ident__l3(b, avail, et, off, &r))
		return 0;
	l3 = off;
	/* One level of encapsulation is looked through. */
	iet = retisc_ident__tunnel(b, avail, &r, &inner);
	if (iet == RETISC_IDENT_TUNNEL_CUT)
		return 0;
	if (iet) {
		off = inner;
		if (iet == 0x6558) {
			iet = retisc_ident__eth(b, avail, &off);
			if (!iet)
				return 0;
		}
		if (retisc_ident__l3(b, avail, iet, off, &r))
			return 0;
		l3 = off;
	}
	return retisc_ident__l4(b, avail, l3, &r, flags & RETISC_IDENT_CSUM_PARTIAL);
}

/*
 * Whether two identities are two different packets. Unknown identities and
 * a change of kind (a tunnel that is not looked through, encryption in
 * place, reassembly) are not evidence. A UDP checksum is compared only when
 * both sides have it.
 */
RETISC_IDENT_INLINE int retisc_pkt_ident__differs(__u64 a, __u64 b)
{
	if (!a || !b || RETISC_IDENT_KIND(a) != RETISC_IDENT_KIND(b))
		return 0;
	if (RETISC_IDENT_KIND(a) == RETISC_IDENT_UDP &&
	    !(a & b & ((__u64)RETISC_IDENT_UDP_CSUM << 48))) {
		__u64 mask = ~((__u64)RETISC_IDENT_UDP_CSUM << 48 | 0xffff);

		return (a & mask) != (b & mask);
	}
	return a != b;
}

#endif /* __RETISC_PKT_IDENT_H */
