// SPDX-License-Identifier: GPL-2.0-only
/*
 * Packet identity of the tracking guard (bpf/include/retisc/pkt_ident.h,
 * doc/tracking.md §9.11): what makes two sightings one packet or two.
 * Packets are built here byte by byte; the dissector's corpus is run
 * through the same function at every truncation in test_packet.c.
 */
#include "testutil.h"

#include <stdint.h>
#include <string.h>

#include <retisc/pkt_ident.h>

struct pkt {
	uint8_t b[RETISC_IDENT_BUF];
	uint32_t len;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void eth(struct pkt *p, uint16_t et)
{
	memset(p->b + p->len, 0x02, 12);
	put16(p->b + p->len + 12, et);
	p->len += 14;
}

/* IPv4 header of total length tot (header included), checksum left 0. */
static uint32_t ip4(struct pkt *p, uint8_t proto, uint16_t tot, uint16_t id, uint32_t src,
		    uint32_t dst)
{
	uint32_t off = p->len;
	uint8_t *h = p->b + off;

	memset(h, 0, 20);
	h[0] = 0x45;
	put16(h + 2, tot);
	put16(h + 4, id);
	put16(h + 6, 0x4000);
	h[8] = 64;
	h[9] = proto;
	put32(h + 12, src);
	put32(h + 16, dst);
	p->len += 20;
	return off;
}

static void tcp(struct pkt *p, uint32_t seq, uint32_t ack, uint8_t flags)
{
	uint8_t *t = p->b + p->len;

	memset(t, 0, 20);
	put16(t, 40000);
	put16(t + 2, 8080);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = 5 << 4;
	t[13] = flags;
	p->len += 20;
}

static uint32_t sum16(const uint8_t *d, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)d[i] << 8 | d[i + 1];
	if (n & 1)
		s += (uint32_t)d[n - 1] << 8;
	return s;
}

/* UDP header + payload at l4 with a real checksum (IPv4 pseudo header). */
static void udp(struct pkt *p, uint32_t l3, uint16_t sport, uint16_t dport, const char *payload)
{
	uint32_t l4 = p->len, s;
	uint16_t ulen = (uint16_t)(8 + strlen(payload));
	uint8_t *u = p->b + l4;

	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, ulen);
	put16(u + 6, 0);
	memcpy(u + 8, payload, strlen(payload));
	p->len += ulen;
	s = sum16(p->b + l3 + 12, 8, 17 + ulen);
	s = sum16(u, ulen, s);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	put16(u + 6, (uint16_t)~s ? (uint16_t)~s : 0xffff);
}

/* Rewrite 16 bits at off and fix the checksum at csum as NAT does (RFC 1624). */
static void nat16(struct pkt *p, uint32_t off, uint16_t v, uint32_t csum)
{
	uint16_t old = (uint16_t)(p->b[off] << 8 | p->b[off + 1]);
	uint16_t c = (uint16_t)(p->b[csum] << 8 | p->b[csum + 1]);
	uint32_t s = (uint16_t)~c + (uint16_t)~old + v;

	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	put16(p->b + off, v);
	put16(p->b + csum, (uint16_t)~s);
}

static uint64_t ident_mac(const struct pkt *p, uint32_t flags)
{
	struct retisc_ident_buf b;

	memcpy(b.b, p->b, sizeof(b.b));
	return retisc_pkt_ident(&b, p->len, flags | RETISC_IDENT_AT_MAC);
}

static uint64_t ident_net(const struct pkt *p, uint32_t skip, uint16_t et)
{
	struct retisc_ident_buf b;

	memset(&b, 0, sizeof(b));
	memcpy(b.b, p->b + skip, p->len - skip);
	return retisc_pkt_ident(&b, p->len - skip, (uint32_t)et << RETISC_IDENT_ETYPE_SHIFT);
}

static void tcp_pkt(struct pkt *p, uint16_t ipid, uint32_t seq, uint32_t ack, uint8_t flags,
		    uint16_t payload)
{
	memset(p, 0, sizeof(*p));
	eth(p, 0x0800);
	ip4(p, 6, (uint16_t)(40 + payload), ipid, 0x0a000001, 0x0a000002);
	tcp(p, seq, ack, flags);
	p->len += payload;
	if (p->len > RETISC_IDENT_BUF)
		p->len = RETISC_IDENT_BUF;
}

static void test_tcp(void **state)
{
	struct pkt a, b;
	uint64_t id;

	(void)state;
	tcp_pkt(&a, 7, 0x01020304, 99, 0x18 | 0x01, 10);
	id = ident_mac(&a, 0);
	assert_true(id == retisc_ident__make(RETISC_IDENT_TCP, 0x01, 10, 0x01020304));
	/* From the network header, as on receive after eth_type_trans(). */
	assert_true(ident_net(&a, 14, 0x0800) == id);
	/* A retransmission: new IPv4 id, larger ack, other addresses (NAT). */
	tcp_pkt(&b, 8, 0x01020304, 5000, 0x18 | 0x01, 10);
	b.b[14 + 15] = 9;
	assert_true(ident_mac(&b, 0) == id);
	assert_false(retisc_pkt_ident__differs(id, ident_mac(&b, 0)));
	/* The next segment, a pure ACK, a SYN: other packets. */
	tcp_pkt(&b, 7, 0x01020304 + 10, 99, 0x10, 10);
	assert_true(retisc_pkt_ident__differs(id, ident_mac(&b, 0)));
	tcp_pkt(&b, 7, 0x01020304, 99, 0x10, 0);
	assert_true(retisc_pkt_ident__differs(id, ident_mac(&b, 0)));
	tcp_pkt(&b, 7, 0x01020304, 99, 0x02, 10);
	assert_true(retisc_pkt_ident__differs(id, ident_mac(&b, 0)));
	/* Large GSO payloads: the length is the header's, not the buffer's. */
	tcp_pkt(&b, 7, 1, 1, 0x10, 30000);
	assert_true(ident_mac(&b, 0) == retisc_ident__make(RETISC_IDENT_TCP, 0, 30000, 1));
}

/* TCP window of a packet built by tcp_pkt(). */
static void tcp_window(struct pkt *p, uint16_t win)
{
	put16(p->b + 14 + 20 + 14, win);
}

/*
 * Pure ACKs (no payload, no SYN/FIN/RST): a receiver's ACKs all carry its
 * one sequence number, so the ack number and the window tell them apart;
 * TCP never retransmits one, so nothing on the way changes them either.
 */
static void test_tcp_pure_ack(void **state)
{
	struct pkt a, b;
	uint64_t id;

	(void)state;
	tcp_pkt(&a, 1, 0x11223344, 0x55667788, 0x10, 0);
	tcp_window(&a, 501);
	id = ident_mac(&a, 0);
	assert_true(id == retisc_ident__make(RETISC_IDENT_TCP, RETISC_IDENT_TCP_PURE_ACK | 5 << 4,
					     501, 0x11223344 ^ 0x55667788 ^ 1 << 16));
	assert_true(ident_net(&a, 14, 0x0800) == id);
	/* The receiver's next ACK: same sequence number, more acknowledged. */
	tcp_pkt(&b, 2, 0x11223344, 0x55667788 + 1448, 0x10, 0);
	tcp_window(&b, 501);
	assert_true(retisc_pkt_ident__differs(id, ident_mac(&b, 0)));
	/* A window update: same sequence and ack numbers, another window. */
	tcp_pkt(&b, 2, 0x11223344, 0x55667788, 0x10, 0);
	tcp_window(&b, 1002);
	assert_true(retisc_pkt_ident__differs(id, ident_mac(&b, 0)));
	/* The same ACK after NAT (addresses, ports). */
	tcp_pkt(&b, 1, 0x11223344, 0x55667788, 0x10, 0);
	tcp_window(&b, 501);
	b.b[14 + 15] = 9;
	put16(b.b + 14 + 20, 40001);
	put16(b.b + 14 + 20 + 2, 80);
	assert_true(ident_mac(&b, 0) == id);
	assert_false(retisc_pkt_ident__differs(id, ident_mac(&b, 0)));
	/* A duplicate ACK: everything the same but its IPv4 id (seen from a
	 * QEMU guest, two received into one recycled buffer). */
	tcp_pkt(&b, 2, 0x11223344, 0x55667788, 0x10, 0);
	tcp_window(&b, 501);
	assert_true(retisc_pkt_ident__differs(id, ident_mac(&b, 0)));
	/* The ACK's bytes end before its window: unknown, not another ACK. */
	a.len = 14 + 20 + 15;
	assert_true(ident_mac(&a, 0) == 0);
	a.len = 14 + 20 + 16;
	assert_true(ident_mac(&a, 0) == id);
	/* With options (timestamps): still a pure ACK; with a SACK block
	 * more, another one, even with the same IPv4 id. */
	tcp_pkt(&a, 1, 0x11223344, 0x55667788, 0x10, 12);
	a.b[14 + 20 + 12] = 8 << 4;
	tcp_window(&a, 501);
	id = ident_mac(&a, 0);
	assert_true(id == retisc_ident__make(RETISC_IDENT_TCP, RETISC_IDENT_TCP_PURE_ACK | 8 << 4,
					     501, 0x11223344 ^ 0x55667788 ^ 1 << 16));
	tcp_pkt(&b, 1, 0x11223344, 0x55667788, 0x10, 24);
	b.b[14 + 20 + 12] = 11 << 4;
	tcp_window(&b, 501);
	assert_true(retisc_pkt_ident__differs(id, ident_mac(&b, 0)));

	/* Data: a retransmission acknowledges more and advertises another
	 * window, and is the same segment. */
	tcp_pkt(&a, 1, 0x11223344, 0x55667788, 0x18, 100);
	tcp_window(&a, 501);
	id = ident_mac(&a, 0);
	assert_true(id == retisc_ident__make(RETISC_IDENT_TCP, 0, 100, 0x11223344));
	tcp_pkt(&b, 2, 0x11223344, 0x55667788 + 5000, 0x18, 100);
	tcp_window(&b, 2000);
	assert_true(ident_mac(&b, 0) == id);
	assert_false(retisc_pkt_ident__differs(id, ident_mac(&b, 0)));
	/* A FIN without data is retransmitted too: its ack number is left out. */
	tcp_pkt(&a, 1, 0x11223344, 0x55667788, 0x11, 0);
	id = ident_mac(&a, 0);
	assert_true(id == retisc_ident__make(RETISC_IDENT_TCP, 0x01, 0, 0x11223344));
	tcp_pkt(&b, 2, 0x11223344, 0x55667788 + 1, 0x11, 0);
	tcp_window(&b, 64);
	assert_false(retisc_pkt_ident__differs(id, ident_mac(&b, 0)));
	/* A pure ACK is another packet than the data segment of its sequence. */
	tcp_pkt(&a, 1, 0x11223344, 0x55667788, 0x18, 100);
	tcp_pkt(&b, 1, 0x11223344, 0x55667788, 0x10, 0);
	assert_true(retisc_pkt_ident__differs(ident_mac(&a, 0), ident_mac(&b, 0)));
}

static void udp_pkt(struct pkt *p, uint32_t *l3, const char *payload, uint16_t ipid)
{
	memset(p, 0, sizeof(*p));
	eth(p, 0x0800);
	*l3 = ip4(p, 17, (uint16_t)(28 + strlen(payload)), ipid, 0x0a000001, 0x0a000002);
	udp(p, *l3, 5000, 9999, payload);
}

static void test_udp_nat(void **state)
{
	struct pkt a, b;
	uint32_t l3;
	uint64_t id, partial;

	(void)state;
	udp_pkt(&a, &l3, "hello, world", 3);
	id = ident_mac(&a, 0);
	assert_int_equal(RETISC_IDENT_KIND(id), RETISC_IDENT_UDP);
	assert_true(id >> 48 & RETISC_IDENT_UDP_CSUM);
	/* DNAT to another address and port, SNAT of the source port. */
	b = a;
	nat16(&b, l3 + 16, 0xc0a8, 34 + 6);
	nat16(&b, l3 + 18, 0x0102, 34 + 6);
	nat16(&b, 34 + 2, 80, 34 + 6);
	nat16(&b, 34, 40001, 34 + 6);
	assert_true(memcmp(a.b, b.b, a.len));
	assert_true(ident_mac(&b, 0) == id);
	/* Same length and IPv4 id, other payload: another datagram. */
	udp_pkt(&b, &l3, "hello, World", 3);
	assert_true(retisc_pkt_ident__differs(id, ident_mac(&b, 0)));
	/* Offloaded checksum: only length and id count, on either side. */
	partial = ident_mac(&b, RETISC_IDENT_CSUM_PARTIAL);
	assert_false(partial >> 48 & RETISC_IDENT_UDP_CSUM);
	assert_false(retisc_pkt_ident__differs(id, partial));
	assert_false(retisc_pkt_ident__differs(partial, id));
	udp_pkt(&b, &l3, "hello, world", 4);
	assert_true(retisc_pkt_ident__differs(id, ident_mac(&b, RETISC_IDENT_CSUM_PARTIAL)));
	/* No checksum at all (0): unknown, compared like a partial one. */
	b = a;
	put16(b.b + 34 + 6, 0);
	assert_false(ident_mac(&b, 0) >> 48 & RETISC_IDENT_UDP_CSUM);
}

static void icmp_pkt(struct pkt *p, uint8_t type, uint16_t id, uint16_t seq)
{
	memset(p, 0, sizeof(*p));
	eth(p, 0x0800);
	ip4(p, 1, 84, 1, 0x0a000001, 0x0a000002);
	p->b[p->len] = type;
	put16(p->b + p->len + 4, id);
	put16(p->b + p->len + 6, seq);
	p->len += 64;
}

static void test_icmp(void **state)
{
	struct pkt a, b;
	uint64_t id;

	(void)state;
	icmp_pkt(&a, 8, 0x1234, 7);
	id = ident_mac(&a, 0);
	assert_true(id == retisc_ident__make(RETISC_IDENT_ICMP, 8, 64, 0x12340007));
	icmp_pkt(&b, 8, 0x1234, 8);
	assert_true(retisc_pkt_ident__differs(id, ident_mac(&b, 0)));
	/* The reply to it is another packet. */
	icmp_pkt(&b, 0, 0x1234, 7);
	assert_true(retisc_pkt_ident__differs(id, ident_mac(&b, 0)));
}

/* VLAN tags, VXLAN, Geneve, GRE and IP in IP around one ICMP echo. */
static void test_encapsulation(void **state)
{
	struct pkt in, p;
	uint64_t id;
	uint32_t l3;

	(void)state;
	icmp_pkt(&in, 8, 0x42, 1);
	id = ident_mac(&in, 0);

	/* 802.1ad + 802.1Q. */
	memset(&p, 0, sizeof(p));
	eth(&p, 0x88a8);
	put16(p.b + 14 + 2, 0x8100);
	put16(p.b + 18 + 2, 0x0800);
	p.len = 22;
	memcpy(p.b + p.len, in.b + 14, in.len - 14);
	p.len += in.len - 14;
	assert_true(ident_mac(&p, 0) == id);

	/* VXLAN: outer Ethernet + IPv4 + UDP to 4789 + 8 bytes, then the frame. */
	memset(&p, 0, sizeof(p));
	eth(&p, 0x0800);
	l3 = ip4(&p, 17, 20 + 8 + 8 + 98, 77, 0x0b000001, 0x0b000002);
	put16(p.b + p.len, 50000);
	put16(p.b + p.len + 2, 4789);
	put16(p.b + p.len + 4, 8 + 8 + 98);
	p.b[p.len + 8] = 0x08;
	p.len += 16;
	memcpy(p.b + p.len, in.b, RETISC_IDENT_BUF - p.len);
	p.len = RETISC_IDENT_BUF;
	assert_true(ident_mac(&p, 0) == id);
	/* The buffer ends inside the VXLAN header: unknown, not the outer UDP. */
	for (p.len = 14 + 20; p.len < 14 + 20 + 16 + 14 + 20 + 8; p.len++)
		assert_true(ident_mac(&p, 0) == 0);
	/* A VXLAN header without its I flag is not trusted: unknown. */
	p.len = RETISC_IDENT_BUF;
	p.b[l3 + 20 + 8] = 0;
	assert_true(ident_mac(&p, 0) == 0);

	/* Geneve with 8 bytes of options, protocol Ethernet. */
	memset(&p, 0, sizeof(p));
	eth(&p, 0x0800);
	ip4(&p, 17, 120, 77, 0x0b000001, 0x0b000002);
	put16(p.b + p.len + 2, 6081);
	p.b[p.len + 8] = 2;
	put16(p.b + p.len + 10, 0x6558);
	p.len += 8 + 8 + 8;
	memcpy(p.b + p.len, in.b, RETISC_IDENT_BUF - p.len);
	p.len = RETISC_IDENT_BUF;
	assert_true(ident_mac(&p, 0) == id);

	/* GRE with a key, carrying IPv4. */
	memset(&p, 0, sizeof(p));
	eth(&p, 0x0800);
	ip4(&p, 47, 120, 77, 0x0b000001, 0x0b000002);
	put16(p.b + p.len, 0x2000);
	put16(p.b + p.len + 2, 0x0800);
	p.len += 8;
	memcpy(p.b + p.len, in.b + 14, RETISC_IDENT_BUF - p.len);
	p.len = RETISC_IDENT_BUF;
	assert_true(ident_mac(&p, 0) == id);

	/* IP in IP. */
	memset(&p, 0, sizeof(p));
	eth(&p, 0x0800);
	ip4(&p, 4, 120, 77, 0x0b000001, 0x0b000002);
	memcpy(p.b + p.len, in.b + 14, RETISC_IDENT_BUF - p.len);
	p.len = RETISC_IDENT_BUF;
	assert_true(ident_mac(&p, 0) == id);
}

static void test_ipv6_and_fragments(void **state)
{
	struct pkt p;
	uint64_t id;

	(void)state;
	/* IPv6 TCP SYN, seq 0xb2101dc0, no payload. */
	memset(&p, 0, sizeof(p));
	eth(&p, 0x86dd);
	p.b[14] = 0x60;
	put16(p.b + 14 + 4, 20);
	p.b[14 + 6] = 6;
	p.len += 40;
	tcp(&p, 0xb2101dc0, 0, 0x02);
	id = ident_mac(&p, 0);
	assert_true(id == retisc_ident__make(RETISC_IDENT_TCP, 0x02, 0, 0xb2101dc0));
	assert_true(ident_net(&p, 14, 0x86dd) == id);

	/* A middle IPv4 fragment: id and offset, not its (absent) L4 header. */
	memset(&p, 0, sizeof(p));
	eth(&p, 0x0800);
	ip4(&p, 17, 100, 0x99, 1, 2);
	put16(p.b + 14 + 6, 0x2000 | 185);
	p.len += 80;
	id = ident_mac(&p, 0);
	assert_true(id == retisc_ident__make(RETISC_IDENT_FRAG, 0, 100, 0x99u << 16 | 185));
	/* Not IP at all: unknown. */
	memset(&p, 0, sizeof(p));
	eth(&p, 0x0806);
	p.len += 28;
	assert_true(ident_mac(&p, 0) == 0);
}

static void test_differs(void **state)
{
	uint64_t t1 = retisc_ident__make(RETISC_IDENT_TCP, 0, 10, 1);
	uint64_t t2 = retisc_ident__make(RETISC_IDENT_TCP, 0, 10, 2);
	uint64_t u = retisc_ident__make(RETISC_IDENT_UDP, 0, 10, 1);

	(void)state;
	assert_true(retisc_pkt_ident__differs(t1, t2));
	assert_false(retisc_pkt_ident__differs(t1, t1));
	/* Unknown on either side, or another kind: no evidence. */
	assert_false(retisc_pkt_ident__differs(0, t1));
	assert_false(retisc_pkt_ident__differs(t1, 0));
	assert_false(retisc_pkt_ident__differs(t1, u));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp),	      cmocka_unit_test(test_tcp_pure_ack),
		cmocka_unit_test(test_udp_nat),	      cmocka_unit_test(test_icmp),
		cmocka_unit_test(test_encapsulation), cmocka_unit_test(test_ipv6_and_fragments),
		cmocka_unit_test(test_differs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
