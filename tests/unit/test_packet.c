// SPDX-License-Identifier: GPL-2.0-only
/*
 * Packet one-liner (doc/events.md §6) and base64 (doc/events.md §4.7).
 *
 * Packets are written by hand as hex, one layer per line, and every expected
 * string comes from the spec. Each packet is also cut at every length from 0
 * to its full size: the cut copy lives in a heap block of exactly that size,
 * so under AddressSanitizer any read past the capture is reported.
 */
#include "testutil.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <retisc/base64.h>
#include <retisc/strbuf.h>

#include "packet_fmt.h"

#include <retisc/pkt_ident.h>

#define TRUNC "... (truncated or incomplete packet)"
#define NOSUP(what) "... (" what " not supported, use 'retis pcap')"

/* --- helpers -------------------------------------------------------------- */

/* Hex digits to bytes; spaces and newlines are ignored. */
static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v = 0;

		if (*s == ' ' || *s == '\n')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			fail_msg("bad hex character '%c'", *s);
		if (hi < 0) {
			hi = v;
			continue;
		}
		assert_true(n < cap);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	assert_int_equal(hi, -1);
	return n;
}

static size_t unb64(const char *s, uint8_t *out, size_t cap)
{
	ssize_t n = retisc_base64__decode(s, strlen(s), out, cap);

	assert_true(n >= 0);
	return (size_t)n;
}

/* Format the first n bytes of d from an exactly sized heap copy. */
static char *format(const uint8_t *d, size_t n, bool ll)
{
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;
	uint8_t *copy = NULL;
	char *out;

	if (n) {
		copy = malloc(n);
		assert_non_null(copy);
		memcpy(copy, d, n);
	}
	assert_int_equal(retisc_packet__format(&sb, copy, n, ll), 0);
	free(copy);
	out = strdup(retisc_strbuf__str(&sb));
	assert_non_null(out);
	retisc_strbuf__release(&sb);
	return out;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

struct pkt_case {
	const char *name;
	const char *hex;
	const char *b64;
	bool ll;
	const char *want;
	/*
	 * Every cut shorter than this ends with the truncated suffix (a value
	 * above the packet size includes the full packet).
	 */
	size_t trunc_below;
	/* Every cut at least this long prints want (0: full length only). */
	size_t stable_from;
};

/* Report a mismatch without leaking the text (LeakSanitizer runs too). */
#define FAIL_FREE(text, ...)                                                                       \
	do {                                                                                       \
		print_error(__VA_ARGS__);                                                          \
		free(text);                                                                        \
		fail();                                                                            \
	} while (0)

/* Identity of the first n bytes with the rest of the buffer set to fill. */
static uint64_t ident_cut(const uint8_t *pkt, size_t n, uint8_t fill)
{
	struct retisc_ident_buf b;

	memset(&b, fill, sizeof(b));
	memcpy(b.b, pkt, n < sizeof(b.b) ? n : sizeof(b.b));
	return retisc_pkt_ident(&b, (uint32_t)n, RETISC_IDENT_AT_MAC);
}

/*
 * The tracking guard's identity (pkt_ident.h) of every cut of a corpus
 * packet is unknown (0) or the identity of the whole packet, never another
 * one, and nothing past the cut changes it: a packet read short on one
 * sighting must not look like another packet.
 */
static void ident_cuts(const struct pkt_case *t, const uint8_t *pkt, size_t len)
{
	uint64_t full = ident_cut(pkt, len, 0), prev = 0;

	for (size_t cut = 0; cut <= len; cut++) {
		uint64_t a = ident_cut(pkt, cut, 0x00), b = ident_cut(pkt, cut, 0xff);

		if (a != b)
			fail_msg("%s cut at %zu: identity read past the cut (%#llx, %#llx)",
				 t->name, cut, (unsigned long long)a, (unsigned long long)b);
		if (a && a != full)
			fail_msg("%s cut at %zu: identity %#llx, whole packet %#llx", t->name, cut,
				 (unsigned long long)a, (unsigned long long)full);
		if (prev && !a)
			fail_msg("%s cut at %zu: identity lost", t->name, cut);
		prev = a;
	}
}

static void run_case(void **state)
{
	const struct pkt_case *t = *state;
	uint8_t pkt[512];
	size_t len, cut;
	char *out;

	len = t->hex ? unhex(t->hex, pkt, sizeof(pkt)) : unb64(t->b64, pkt, sizeof(pkt));
	ident_cuts(t, pkt, len);

	out = format(pkt, len, t->ll);
	if (strcmp(out, t->want))
		FAIL_FREE(out, "%s (%zu bytes%s):\n got: %s\nwant: %s\n", t->name, len,
			  t->ll ? ", -e" : "", out, t->want);
	free(out);

	for (cut = 0; cut <= len; cut++) {
		out = format(pkt, cut, t->ll);
		if (strstr(out, "(null)") || !*out)
			FAIL_FREE(out, "%s cut at %zu: '%s'\n", t->name, cut, out);
		if (cut < 14 && strcmp(out, TRUNC))
			FAIL_FREE(out, "%s cut at %zu: %s\n", t->name, cut, out);
		if (cut < t->trunc_below && !ends_with(out, TRUNC))
			FAIL_FREE(out, "%s cut at %zu: no truncated suffix: %s\n", t->name, cut,
				  out);
		if (t->stable_from && cut >= t->stable_from && strcmp(out, t->want))
			FAIL_FREE(out, "%s cut at %zu:\n got: %s\nwant: %s\n", t->name, cut, out,
				  t->want);
		free(out);

		/* The other -e mode only has to stay in bounds. */
		out = format(pkt, cut, !t->ll);
		if (strstr(out, "(null)") || !*out)
			FAIL_FREE(out, "%s cut at %zu (other mode): '%s'\n", t->name, cut, out);
		free(out);
	}
}

/* --- test packets ----------------------------------------------------------- */

#define MAC1 "02:00:00:00:00:01"
#define MAC2 "02:00:00:00:00:02"
#define ETH(et) "020000000002 020000000001 " et "\n"
#define LL_ETH(name) MAC1 " > " MAC2 " ethertype " name " "
#define LL_IPV4 LL_ETH("IPv4 (0x0800)")
#define IP4_ADDRS "0a000001 0a000002\n"
/* 10.0.0.1 > 10.0.0.2 ICMP echo request, 28 bytes. */
#define IP4_ICMP "4500 001c 0001 4000 4001 0000 " IP4_ADDRS "0800 0000 0001 0001\n"
#define IP4_ICMP_TXT                                                                               \
	"10.0.0.1 > 10.0.0.2 tos 0x0 ttl 64 id 1 off 0 [DF] len 28 proto ICMP (1) type 8 code 0"
/* 192.168.0.1 > 192.168.0.2 ICMP echo reply, 28 bytes: tunnel payloads. */
#define INNER_ICMP "4500 001c 0002 0000 4001 0000 c0a80001 c0a80002 0000 0000 0000 0000\n"
#define INNER_ICMP_TXT                                                                             \
	"192.168.0.1 > 192.168.0.2 tos 0x0 ttl 64 id 2 off 0 len 28 proto ICMP (1) type 0 code 0"
#define INNER_ETH "0a0000000002 0a0000000001 0800\n"
#define LL_INNER "0a:00:00:00:00:01 > 0a:00:00:00:00:02 ethertype IPv4 (0x0800) "
#define ARP_REQ                                                                                    \
	"0001 0800 0604 0001\n"                                                                    \
	"020000000001 0a000001 000000000000 0a000002\n"
/* IPv6 header with an 8-byte ICMPv6 echo request after it. */
#define IP6_ICMP(src, dst) "6000 0000 0008 3a40\n" src "\n" dst "\n8000 0000 0001 0001\n"
#define IP6_ICMP_TXT(src, dst)                                                                     \
	src " > " dst " ttl 64 label 0x0 len 8 proto ICMPv6 (58) type 128 code 0"
#define IP6_1 "00000000000000000000000000000001"
#define IP6_2 "00000000000000000000000000000002"

#define EX1_B64                                                                                    \
	"+ly9jswBpsIRcVlFCABFAABUo/"                                                               \
	"lAAEABG0nAqH0KwKh9CwgAQFpxTAAB7f3ZZwAAAACzHw0AAAAAABAREhMUFRYXGBk"                        \
	"aGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc="
#define EX1_TXT                                                                                    \
	"192.168.125.10 > 192.168.125.11 tos 0x0 ttl 64 id 41977 off 0 [DF] len 84 proto ICMP "    \
	"(1) "                                                                                     \
	"type 8 code 0"
#define EX3_B64                                                                                    \
	"rrBKar+"                                                                                  \
	"vnh09MZ47ht1gBvSKACgGQBERAAAAAAAAAAAAAAAAAAEREQAAAAAAAAAAAAAAAAAC22QAULIRwcAAAAAAoAL"     \
	"9ICJTAAACBAWgBAIIClP9HoIAAAAAAQMDBw=="
#define EX3_TXT                                                                                    \
	"1111::1.56164 > 1111::2.80 ttl 64 label 0x6f48a len 40 proto TCP (6) flags [S] seq "      \
	"2987508160 win 64800 [mss 1440,sackOK,TS val 1409097346 ecr 0,nop,wscale 7]"

static const struct pkt_case cases[] = {
	/* §7 examples and the §6.5 SCTP example. */
	{"example1", NULL, EX1_B64, false, EX1_TXT, 38, 38},
	{"example1 -e", NULL, EX1_B64, true,
	 "a6:c2:11:71:59:45 > fa:5c:bd:8e:cc:01 ethertype IPv4 (0x0800) " EX1_TXT, 38, 38},
	{"example3", NULL, EX3_B64, false, EX3_TXT, 74, 0},
	{"example3 -e", NULL, EX3_B64, true,
	 "9e:1d:3d:31:9e:3b > ae:b0:4a:6a:bf:af ethertype IPv6 (0x86dd) " EX3_TXT, 74, 0},
	{"sctp init (§6.5)", NULL,
	 "Oh7dUvtE6h3Fhm4TCABFAgBEAABAAECE0jEKACoBCgAqAoVME8QAAAAAAAAAAAEAACTFizMuAAGgAAAK///40kCc"
	 "AAwABgAFAACAAAAEwAAABA==",
	 false,
	 "10.0.42.1.34124 > 10.0.42.2.5060 tos 0x0 ECT(0) ttl 64 id 0 off 0 [DF] len 68 proto SCTP "
	 "(132) vtag 0x0 [INIT init_tag 0xc58b332e rwnd 106496 OS 10 MIS 65535 init_TSN "
	 "4174528668]",
	 66, 66},
	{"geneve teb, no options", NULL,
	 "ukoiHKOOzikYufsvCABFAACGORIAAEAR2VIKACoBCgAqAkL5F8EAcmiGAABlWAAAAQAO2mLRzBfW99tozRgIAEUAA"
	 "F"
	 "RH90AAQAGIrwoAKwEKACsCCAA5rgUFAAE5cv5nAAAAAL+"
	 "eAwAAAAAAEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkq"
	 "KywtLi8wMTIzNDU2Nw==",
	 false,
	 "10.0.42.1.17145 > 10.0.42.2.6081 tos 0x0 ttl 64 id 14610 off 0 len 134 proto UDP (17) "
	 "len "
	 "106 geneve [] vni 0x1 10.0.43.1 > 10.0.43.2 tos 0x0 ttl 64 id 18423 off 0 [DF] len 84 "
	 "proto ICMP (1) type 8 code 0",
	 88, 88},

	/* §6.1 Ethernet and VLAN. */
	{"vlan", ETH("8100") "b064 0800\n" IP4_ICMP, NULL, false, IP4_ICMP_TXT, 42, 42},
	{"vlan -e", ETH("8100") "b064 0800\n" IP4_ICMP, NULL, true,
	 LL_ETH("802.1Q (0x8100)") "vlan 100 p 5 DEI ethertype IPv4 (0x0800) " IP4_ICMP_TXT, 42,
	 42},
	{"qinq", ETH("88a8") "2064 8100\n00c8 0800\n" IP4_ICMP, NULL, false, IP4_ICMP_TXT, 46, 46},
	{"qinq -e", ETH("88a8") "2064 8100\n00c8 0800\n" IP4_ICMP, NULL, true,
	 LL_ETH("802.1Q-QinQ (0x88a8)") "vlan 100 p 1 ethertype 802.1Q (0x8100) vlan 200 p 0 "
					"ethertype IPv4 (0x0800) " IP4_ICMP_TXT,
	 46, 46},
	{"vlan 0x9100, unnamed inner -e", ETH("9100") "0005 1234\n00000000", NULL, true,
	 LL_ETH("802.1Q-9100 (0x9100)") "vlan 5 p 0 ethertype (0x1234) " NOSUP("ethertype 0x1234"),
	 18, 18},
	{"vlan 0x9100, unnamed inner", ETH("9100") "0005 1234\n00000000", NULL, false,
	 NOSUP("ethertype 0x1234"), 18, 18},
	{"unnamed ethertype -e", ETH("1234") "00000000", NULL, true, NOSUP("ethertype 0x1234"), 14,
	 14},
	{"named, unhandled ethertype -e", ETH("8847") "00001140", NULL, true,
	 LL_ETH("MPLS unicast (0x8847)") NOSUP("ethertype 0x8847"), 14, 14},
	{"named, unhandled ethertype", ETH("8847") "00001140", NULL, false,
	 NOSUP("ethertype 0x8847"), 14, 14},

	/* §6.2 ARP. */
	{"arp request -e", "ffffffffffff 020000000001 0806\n" ARP_REQ, NULL, true,
	 MAC1 " > ff:ff:ff:ff:ff:ff ethertype ARP (0x0806) request who-has 10.0.0.2 tell 10.0.0.1",
	 42, 42},
	{"arp request with tha",
	 ETH("0806") "0001 0800 0604 0001\n020000000001 0a000001 020000000009 0a000002", NULL,
	 false, "request who-has 10.0.0.2 (02:00:00:00:00:09) tell 10.0.0.1", 42, 42},
	{"arp reply, padded",
	 ETH("0806") "0001 0800 0604 0002\n020000000002 0a000002 020000000001 0a000001\n"
		     "000000000000000000000000000000000000",
	 NULL, false, "reply 10.0.0.2 is-at 02:00:00:00:00:02", 42, 42},
	{"rarp request",
	 ETH("8035") "0001 0800 0604 0003\n020000000001 00000000 020000000005 00000000", NULL,
	 false, NOSUP("ethertype 0x8035"), 14, 14},
	{"arp reverse request",
	 ETH("0806") "0001 0800 0604 0003\n020000000001 00000000 020000000005 00000000", NULL,
	 false, "reverse request who-is 02:00:00:00:00:05 tell 02:00:00:00:00:01", 42, 42},
	{"arp reverse reply",
	 ETH("0806") "0001 0800 0604 0004\n020000000002 0a000002 020000000005 0a000005", NULL,
	 false, "reverse reply 02:00:00:00:00:05 at 10.0.0.5", 42, 42},
	{"arp unknown op",
	 ETH("0806") "0001 0800 0604 0009\n020000000002 0a000002 020000000005 0a000005", NULL,
	 false, NOSUP("ARP operation 9"), 42, 42},

	/* §6.3 IPv4. */
	{"ipv4 router alert",
	 ETH("0800") "4600 0020 0001 0000 0102 0000 0a000001 e0000016\n"
		     "9404 0000\n"
		     "1600 0000 e0000016",
	 NULL, false,
	 "10.0.0.1 > 224.0.0.22 tos 0x0 ttl 1 id 1 off 0 len 32 opts [Ipv4OptionNumber(20)] "
	 "proto IGMP (2)" NOSUP("protocol 0x2"),
	 34, 35},
	{"ipv4 nop, option, eol",
	 ETH("0800") "4700 0024 0001 4000 4011 0000 " IP4_ADDRS "01 9404 0000 00 0000\n"
		     "0400 0401 0008 0000",
	 NULL, false,
	 "10.0.0.1.1024 > 10.0.0.2.1025 tos 0x0 ttl 64 id 1 off 0 [DF] len 36 "
	 "opts [Ipv4OptionNumber(1),Ipv4OptionNumber(20),Ipv4OptionNumber(0)] proto UDP (17) len 0",
	 50, 50},
	{"ipv4 leading eol",
	 ETH("0800") "4600 0020 0001 4000 4001 0000 " IP4_ADDRS "0000 0000\n0800 0000 0001 0001",
	 NULL, false,
	 "10.0.0.1 > 10.0.0.2 tos 0x0 ttl 64 id 1 off 0 [DF] len 32 proto ICMP (1) type 8 code 0",
	 42, 42},
	{"ipv4 option without length byte",
	 ETH("0800") "4600 0020 0001 4000 4001 0000 " IP4_ADDRS "0101 0107\n0800 0000 0001 0001",
	 NULL, false,
	 "10.0.0.1 > 10.0.0.2 tos 0x0 ttl 64 id 1 off 0 [DF] len 32 opts [Ipv4OptionNumber(1),"
	 "Ipv4OptionNumber(1),Ipv4OptionNumber(1),Ipv4OptionNumber(7)] proto ICMP (1) type 8 code "
	 "0",
	 42, 42},
	{"ipv4 dscp, ect(1), flags +,rsvd, offset",
	 ETH("0800") "45b9 0024 0001 a003 4011 0000 " IP4_ADDRS "1234 0035 0010 0000\n"
		     "0001 0100 0000 0000",
	 NULL, false,
	 "10.0.0.1.4660 > 10.0.0.2.53 tos 0x2e ECT(1) ttl 64 id 1 off 24 [+,rsvd] len 36 proto UDP "
	 "(17) len 8",
	 42, 42},
	{"ipv4 ce, all flags",
	 ETH("0800") "4503 001c 0001 ffff 4001 0000 " IP4_ADDRS "0800 0000 0001 0001", NULL, false,
	 "10.0.0.1 > 10.0.0.2 tos 0x0 CE ttl 64 id 1 off 65528 [+,DF,rsvd] len 28 proto ICMP (1) "
	 "type 8 code 0",
	 38, 38},
	{"ipv4 total length 0",
	 ETH("0800") "4500 0000 0001 4000 4001 0000 " IP4_ADDRS "0800 0000 0001 0001", NULL, false,
	 "10.0.0.1 > 10.0.0.2 tos 0x0 ttl 64 id 1 off 0 [DF] proto ICMP (1)" TRUNC, 100, 34},
	{"ipv4 gre", ETH("0800") "4500 0018 0001 4000 402f 0000 " IP4_ADDRS "0000 0800", NULL,
	 false,
	 "10.0.0.1 > 10.0.0.2 tos 0x0 ttl 64 id 1 off 0 [DF] len 24 proto GRE (47)" NOSUP(
		 "protocol 0x2f"),
	 34, 34},
	{"ipv4 unnamed protocol",
	 ETH("0800") "4500 0018 0001 4000 40c8 0000 " IP4_ADDRS "0000 0000", NULL, false,
	 "10.0.0.1 > 10.0.0.2 tos 0x0 ttl 64 id 1 off 0 [DF] len 24 proto (200)" NOSUP(
		 "protocol 0xc8"),
	 34, 34},
	{"ipv4 ihl below 5",
	 ETH("0800") "4100 001c 0001 4000 4001 0000 " IP4_ADDRS "0800 0000 0001 0001", NULL, false,
	 IP4_ICMP_TXT, 38, 38},
	{"ipv4 ihl past the capture",
	 ETH("0800") "4f00 0040 0001 4000 4006 0000 " IP4_ADDRS "0101 0101", NULL, false,
	 "10.0.0.1 > 10.0.0.2 tos 0x0 ttl 64 id 1 off 0 [DF] len 64 opts [Ipv4OptionNumber(1),"
	 "Ipv4OptionNumber(1),Ipv4OptionNumber(1),Ipv4OptionNumber(1)] proto TCP (6)" TRUNC,
	 100, 0},

	/* §6.5 ESP and AH. */
	{"ipv4 esp",
	 ETH("0800") "4500 0024 0001 4000 4032 0000 " IP4_ADDRS "0000 1234 0000 0007\n"
		     "dead beef cafe babe",
	 NULL, false,
	 "10.0.0.1 > 10.0.0.2 tos 0x0 ttl 64 id 1 off 0 [DF] len 36 proto ESP (50) spi 0x00001234 "
	 "seq 0x7",
	 42, 42},
	{"ipv4 ah, icmp",
	 ETH("0800") "4500 0034 0001 4000 4033 0000 " IP4_ADDRS
		     "0104 0000 0000 0100 0000 0005 0102030405060708090a0b0c\n"
		     "0800 0000 0000 0000",
	 NULL, false,
	 "10.0.0.1 > 10.0.0.2 tos 0x0 ttl 64 id 1 off 0 [DF] len 52 proto AH (51) spi 0x00000100 "
	 "seq 0x5 icv 0x0102030405060708090a0b0c proto ICMP (1) type 8 code 0",
	 62, 62},
	{"ipv4 ah, empty icv, tcp with data",
	 ETH("0800") "4500 0039 0001 4000 4033 0000 " IP4_ADDRS "0601 0000 0000 0200 0000 0001\n"
		     "0050 1f90 0000 0001 0000 0001 5010 0200 0000 0000\n"
		     "6162636465",
	 NULL, false,
	 "10.0.0.1 > 10.0.0.2 tos 0x0 ttl 64 id 1 off 0 [DF] len 57 proto AH (51) spi 0x00000200 "
	 "seq 0x1 icv 0x proto TCP (6) flags [.] seq 1:6 ack 1 win 512",
	 66, 66},
	{"ipv4 ah chain, payload len 0",
	 ETH("0800") "4500 0030 0001 4000 4033 0000 " IP4_ADDRS "3300 0000 0000 0001 0000 0001\n"
		     "0100 0000 0000 0002 0000 0002\n"
		     "0800 0000",
	 NULL, false,
	 "10.0.0.1 > 10.0.0.2 tos 0x0 ttl 64 id 1 off 0 [DF] len 48 proto AH (51) spi 0x00000001 "
	 "seq 0x1 icv 0x proto AH (51) spi 0x00000002 seq 0x2 icv 0x proto ICMP (1) type 8 code 0",
	 62, 62},

	/* §6.5 TCP. */
	{"tcp ts, sack, sequence wrap",
	 ETH("0800") "4500 0052 0001 4000 4006 0000 " IP4_ADDRS
		     "1f90 c350 ffff fffa 0000 0064 d018 01f5 0000 0000\n"
		     "0101 080a 0000 0001 0000 0002\n"
		     "0101 0512 0000 0064 0000 00c8 0000 012c 0000 0190\n"
		     "00000000000000000000",
	 NULL, false,
	 "10.0.0.1.8080 > 10.0.0.2.50000 tos 0x0 ttl 64 id 1 off 0 [DF] len 82 proto TCP (6) flags "
	 "[P.] seq 4294967290:4 ack 100 win 501 [nop,nop,TS val 1 ecr 2,nop,nop,sack 2 "
	 "{100:200}{300:400}]",
	 54, 86},
	{"tcp tfo and named options",
	 ETH("0800") "4500 0050 0001 4000 4006 0000 " IP4_ADDRS
		     "0016 d431 0000 0001 0000 0000 f002 ffff 0000 0000\n"
		     "2206 abcd 0102 2202 0204 05b4 0303 07 0402 1e04 0000 fe04 0000\n"
		     "6302 1302 1402 1c04 0000 1d02 0503 00",
	 NULL, false,
	 "10.0.0.1.22 > 10.0.0.2.54321 tos 0x0 ttl 64 id 1 off 0 [DF] len 80 proto TCP (6) flags "
	 "[S] seq 1 win 65535 [tfo cookie 0xab0xcd0x10x2,tfo cookiereq,mss 1460,wscale 7,sackOK,"
	 "mptcp,exp,?,md5,scps,uto,tcp-ao,sack invalid]",
	 54, 0},
	{"tcp all flags, echo/cc options, cut tfo cookie",
	 ETH("0800") "4500 0050 0001 4000 4006 0000 " IP4_ADDRS
		     "0016 d431 0000 0001 0000 0002 f1ff 0400 0000 0000\n"
		     "0606 0000 0005 0706 0000 0006 0b06 0000 0007 0c06 0000 0008\n"
		     "0d06 0000 0009 0502 00 010101 2206 aabb",
	 NULL, false,
	 "10.0.0.1.22 > 10.0.0.2.54321 tos 0x0 ttl 64 id 1 off 0 [DF] len 80 proto TCP (6) flags "
	 "[FSRP.UEWe] seq 1 ack 2 win 1024 [echo 5,echoreply 6,cc 7,ccnew 8,ccecho 9,sack 0 ,eol,"
	 "nop,nop,nop,tfo cookie 0xaa0xbb????]",
	 54, 0},
	{"tcp option without its value",
	 ETH("0800") "4500 002c 0001 4000 4006 0000 " IP4_ADDRS
		     "0016 d431 0000 0001 0000 0000 6000 0000 0000 0000\n"
		     "0101 0102",
	 NULL, false,
	 "10.0.0.1.22 > 10.0.0.2.54321 tos 0x0 ttl 64 id 1 off 0 [DF] len 44 proto TCP (6) flags "
	 "[] seq 1 win 0 [nop,nop,nop,mss]",
	 54, 0},
	{"tcp data offset below 5",
	 ETH("0800") "4500 0028 0001 4000 4006 0000 " IP4_ADDRS
		     "0016 d431 0000 0001 0000 0000 2002 ffff 0000 0000",
	 NULL, false,
	 "10.0.0.1.22 > 10.0.0.2.54321 tos 0x0 ttl 64 id 1 off 0 [DF] len 40 proto TCP (6) flags "
	 "[S] seq 1:13 win 65535",
	 54, 54},

	/* §6.5 UDP. */
	{"udp length below 8",
	 ETH("0800") "4500 001c 0001 4000 4011 0000 " IP4_ADDRS "0035 0035 0004 0000", NULL, false,
	 "10.0.0.1.53 > 10.0.0.2.53 tos 0x0 ttl 64 id 1 off 0 [DF] len 28 proto UDP (17) len 0", 42,
	 42},

	/* §6.4 IPv6 and §6.8 addresses. */
	{"ipv6 :: and ::1", ETH("86dd") IP6_ICMP("00000000000000000000000000000000", IP6_1), NULL,
	 false, IP6_ICMP_TXT("::", "::1"), 58, 58},
	{"ipv6 zero-prefixed vs ipv4-mapped",
	 ETH("86dd")
		 IP6_ICMP("0000000000000000000000000a000001", "00000000000000000000ffff0a000001"),
	 NULL, false, IP6_ICMP_TXT("::a00:1", "::ffff:10.0.0.1"), 58, 58},
	{"ipv6 first and longest zero runs",
	 ETH("86dd")
		 IP6_ICMP("20010db8000000000001000000000001", "00010000000000020000000000000003"),
	 NULL, false, IP6_ICMP_TXT("2001:db8::1:0:0:1", "1:0:0:2::3"), 58, 58},
	{"ipv6 single zero group, trailing run",
	 ETH("86dd")
		 IP6_ICMP("20010DB8000000010001000100010001", "00010000000000000000000000000000"),
	 NULL, false, IP6_ICMP_TXT("2001:db8:0:1:1:1:1:1", "1::"), 58, 58},
	{"ipv6 link-local, multicast",
	 ETH("86dd")
		 IP6_ICMP("fe80000000000000abcdef0100020003", "ff0200000000000000000001ff000001"),
	 NULL, false, IP6_ICMP_TXT("fe80::abcd:ef01:2:3", "ff02::1:ff00:1"), 58, 58},
	{"ipv6 no run, nat64",
	 ETH("86dd")
		 IP6_ICMP("00010000000200000003000000040000", "0064ff9b0000000000000000c0000201"),
	 NULL, false, IP6_ICMP_TXT("1:0:2:0:3:0:4:0", "64:ff9b::c000:201"), 58, 58},
	{"ipv6 ecn and flow label",
	 ETH("86dd") "6b9a bcde 0008 3a40\n" IP6_1 IP6_2 "8000 0000 0001 0001", NULL, false,
	 "::1 > ::2 ECT(1) ttl 64 label 0xabcde len 8 proto ICMPv6 (58) type 128 code 0", 58, 58},
	{"ipv6 no next header", ETH("86dd") "6000 0000 0000 3b40\n" IP6_1 IP6_2, NULL, false,
	 "::1 > ::2 ttl 64 label 0x0", 54, 54},
	{"ipv6 no next header, payload", ETH("86dd") "6000 0000 0004 3b40\n" IP6_1 IP6_2 "01020304",
	 NULL, false, "::1 > ::2 ttl 64 label 0x0 len 4", 54, 54},
	{"ipv6 extension headers",
	 ETH("86dd") "6000 0000 003c 0040\n"
		     "20010db8000000000000000000000001 20010db8000000000000000000000002\n"
		     "2b00 0104 0000 0000\n"
		     "2c02 0001 0000 0000 20010db8000000000000000000000003\n"
		     "3c00 0000 0000 0001\n"
		     "1100 0104 0000 0000\n"
		     "1234 0035 000c 0000 deadbeef",
	 NULL, false,
	 "2001:db8::1 > 2001:db8::2 ttl 64 label 0x0 len 60 exts [Hopopt,Ipv6Route,Ipv6Frag,"
	 "Ipv6Opts] proto UDP (17) len 4",
	 54, 110},
	{"ipv6 ah as extension",
	 ETH("86dd") "6000 0000 0020 3340\n" IP6_1 IP6_2
		     "3a02 0000 0000 0100 0000 0001 0000000000000000 00000000\n"
		     "8000 0000 0001 0001",
	 NULL, false,
	 "::1 > ::2 ttl 64 label 0x0 len 32 exts [Ah] proto ICMPv6 (58) type 128 code 0", 54, 0},
	{"ipv6 esp as extension, then no next header",
	 ETH("86dd") "6000 0000 0010 3240\n" IP6_1 IP6_2 "3b00 0102 0000 0001 0000000000000000",
	 NULL, false,
	 "::1 > ::2 ttl 64 label 0x0 len 16 exts [Esp] proto (59)" NOSUP("protocol 0x3b"), 54, 56},
	{"ipv6 extension past the capture",
	 ETH("86dd") "6000 0000 0008 0040\n" IP6_1 IP6_2 "06ff 0000 0000 0000", NULL, false,
	 "::1 > ::2 ttl 64 label 0x0 len 8 exts [Hopopt] proto TCP (6)" TRUNC, 54, 56},
	{"ipv6 extension shorter than 2 bytes",
	 ETH("86dd") "6000 0000 0001 0040\n" IP6_1 IP6_2 "06", NULL, false,
	 "::1 > ::2 ttl 64 label 0x0 len 1 proto (0)" NOSUP("protocol 0x0"), 54, 54},
	{"ipv6 payload length 0",
	 ETH("86dd") "6000 0000 0000 0640\n" IP6_1 IP6_2
		     "0016 d431 0000 0001 0000 0000 5002 ffff 0000 0000",
	 NULL, false, "::1 > ::2 ttl 64 label 0x0 proto TCP (6)" TRUNC, 100, 54},
	{"ipv6 sctp",
	 ETH("86dd") "6000 0000 0010 8440\n" IP6_1 IP6_2 "0050 0051 0000 0001 0000 0000 0b00 0004",
	 NULL, false,
	 "::1.80 > ::2.81 ttl 64 label 0x0 len 16 proto SCTP (132) vtag 0x1 [COOKIE_ACK]", 70, 70},

	/* §6.5 VXLAN and Geneve. */
	{"vxlan",
	 ETH("0800") "4500 004e 0001 4000 4011 0000 " IP4_ADDRS "d431 12b5 003a 0000\n"
		     "0800 0000 0000 0100\n" INNER_ETH INNER_ICMP,
	 NULL, false,
	 "10.0.0.1.54321 > 10.0.0.2.4789 tos 0x0 ttl 64 id 1 off 0 [DF] len 78 proto UDP (17) len "
	 "50 vxlan [I] vni 0x1 " INNER_ICMP_TXT,
	 88, 88},
	{"vxlan -e",
	 ETH("0800") "4500 004e 0001 4000 4011 0000 " IP4_ADDRS "d431 12b5 003a 0000\n"
		     "0800 0000 0000 0100\n" INNER_ETH INNER_ICMP,
	 NULL, true,
	 LL_IPV4 "10.0.0.1.54321 > 10.0.0.2.4789 tos 0x0 ttl 64 id 1 off 0 [DF] len 78 proto UDP "
		 "(17) len 50 vxlan [I] vni 0x1 " LL_INNER INNER_ICMP_TXT,
	 88, 88},
	{"vxlan 8472, no I flag, inner arp",
	 ETH("0800") "4500 004e 0001 4000 4011 0000 " IP4_ADDRS "d431 2118 003a 0000\n"
		     "0000 0000 abcd ef00\n"
		     "ffffffffffff 0a0000000001 0806\n"
		     "0001 0800 0604 0001\n"
		     "0a0000000001 c0a80001 000000000000 c0a80002",
	 NULL, false,
	 "10.0.0.1.54321 > 10.0.0.2.8472 tos 0x0 ttl 64 id 1 off 0 [DF] len 78 proto UDP (17) len "
	 "50 vxlan [] vni 0xabcdef request who-has 192.168.0.2 tell 192.168.0.1",
	 92, 92},
	{"geneve options, gro hint",
	 ETH("0800") "4500 005a 0001 4000 4011 0000 " IP4_ADDRS "d431 17c1 0046 0000\n"
		     "03c0 6558 0000 6400\n"
		     "0102 8000 0100 0101 050e 2236\n" INNER_ETH INNER_ICMP,
	 NULL, false,
	 "10.0.0.1.54321 > 10.0.0.2.6081 tos 0x0 ttl 64 id 1 off 0 [DF] len 90 proto UDP (17) len "
	 "62 geneve [OC] vni 0x64 [class 0x102 type 0x80(C) len 0,class 0x100 type 0x1 len 4 "
	 "(proto 1 v6 nh 14 tp 34 hlen 54)] " INNER_ICMP_TXT,
	 100, 100},
	{"geneve options, gro hint -e",
	 ETH("0800") "4500 005a 0001 4000 4011 0000 " IP4_ADDRS "d431 17c1 0046 0000\n"
		     "03c0 6558 0000 6400\n"
		     "0102 8000 0100 0101 050e 2236\n" INNER_ETH INNER_ICMP,
	 NULL, true,
	 LL_IPV4 "10.0.0.1.54321 > 10.0.0.2.6081 tos 0x0 ttl 64 id 1 off 0 [DF] len 90 proto UDP "
		 "(17) len 62 geneve [OC] vni 0x64 proto TEB (0x6558) [class 0x102 type 0x80(C) "
		 "len 0,class 0x100 type 0x1 len 4 (proto 1 v6 nh 14 tp 34 hlen 54)] " LL_INNER
			 INNER_ICMP_TXT,
	 100, 100},
	{"geneve ipv4 payload",
	 ETH("0800") "4500 0040 0001 4000 4011 0000 " IP4_ADDRS "d431 17c1 002c 0000\n"
		     "0000 0800 0000 0500\n" INNER_ICMP,
	 NULL, false,
	 "10.0.0.1.54321 > 10.0.0.2.6081 tos 0x0 ttl 64 id 1 off 0 [DF] len 64 proto UDP (17) len "
	 "36 geneve [] vni 0x5 " INNER_ICMP_TXT,
	 74, 74},
	{"geneve ipv4 payload -e",
	 ETH("0800") "4500 0040 0001 4000 4011 0000 " IP4_ADDRS "d431 17c1 002c 0000\n"
		     "0000 0800 0000 0500\n" INNER_ICMP,
	 NULL, true,
	 LL_IPV4 "10.0.0.1.54321 > 10.0.0.2.6081 tos 0x0 ttl 64 id 1 off 0 [DF] len 64 proto UDP "
		 "(17) len 36 geneve [] vni 0x5 proto IPv4 (0x0800)  " INNER_ICMP_TXT,
	 74, 74},
	{"geneve oversized option, unnamed protocol -e",
	 ETH("0800") "4500 002c 0001 4000 4011 0000 " IP4_ADDRS "d431 17c1 0018 0000\n"
		     "0100 1234 0000 0700\n"
		     "0100 011f\n"
		     "0000 0000",
	 NULL, true,
	 LL_IPV4 "10.0.0.1.54321 > 10.0.0.2.6081 tos 0x0 ttl 64 id 1 off 0 [DF] len 44 proto UDP "
		 "(17) len 16 geneve [] vni 0x7 proto (0x1234) [class 0x100 type 0x1 len 124]  "
		 "" NOSUP("ethertype 0x1234"),
	 50, 54},
	{"geneve oversized option, unnamed protocol",
	 ETH("0800") "4500 002c 0001 4000 4011 0000 " IP4_ADDRS "d431 17c1 0018 0000\n"
		     "0100 1234 0000 0700\n"
		     "0100 011f\n"
		     "0000 0000",
	 NULL, false,
	 "10.0.0.1.54321 > 10.0.0.2.6081 tos 0x0 ttl 64 id 1 off 0 [DF] len 44 proto UDP (17) len "
	 "16 geneve [] vni 0x7 [class 0x100 type 0x1 len 124] " NOSUP("ethertype 0x1234"),
	 50, 54},

	/* §6.6 MACsec. */
	{"macsec with sci -e",
	 ETH("88e5") "2100 0000 0005 0200000000010001 0800\n" IP4_ICMP
		     "11111111111111111111111111111111",
	 NULL, true,
	 LL_ETH("802.1AE MACsec (0x88e5)") "an 1 pn 5 flags [I] sci "
					   "0x0200000000010001 " IP4_ICMP_TXT,
	 54, 54},
	{"macsec with sci",
	 ETH("88e5") "2100 0000 0005 0200000000010001 0800\n" IP4_ICMP
		     "11111111111111111111111111111111",
	 NULL, false, IP4_ICMP_TXT, 54, 54},
	{"macsec encrypted",
	 ETH("88e5") "0c2a 0000 0001\n"
		     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		     "aaa"
		     "aaaa",
	 NULL, false, "802.1AE MACsec frame", 20, 20},
	{"macsec encrypted -e",
	 ETH("88e5") "0c2a 0000 0001\n"
		     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		     "aaa"
		     "aaaa",
	 NULL, true, LL_ETH("802.1AE MACsec (0x88e5)") "an 0 pn 1 flags [EC] sl 42", 20, 20},
	{"macsec all flags -e", ETH("88e5") "7f00 ffff ffff 0102030405060708\naaaa", NULL, true,
	 LL_ETH("802.1AE MACsec (0x88e5)") "an 3 pn 4294967295 flags [ECSBI] sci "
					   "0x0102030405060708",
	 20, 28},
	{"macsec changed only", ETH("88e5") "0400 0000 0001\n0800" IP4_ICMP, NULL, false,
	 "802.1AE MACsec frame", 20, 20},
	{"macsec, vlan inside -e", ETH("88e5") "0000 0000 0002\n8100 0007 0806\n" ARP_REQ, NULL,
	 true,
	 LL_ETH("802.1AE MACsec (0x88e5)") "an 0 pn 2 flags [] vlan 7 p 0 ethertype ARP (0x0806) "
					   "request who-has 10.0.0.2 tell 10.0.0.1",
	 54, 54},
	{"macsec, vlan inside", ETH("88e5") "0000 0000 0002\n8100 0007 0806\n" ARP_REQ, NULL, false,
	 "request who-has 10.0.0.2 tell 10.0.0.1", 54, 54},
	{"macsec, sci cut by the capture -e", ETH("88e5") "2000 0000 0001 01020304", NULL, true,
	 LL_ETH("802.1AE MACsec (0x88e5)") "an 0 pn 1 flags [I] sci 0x01020304" TRUNC, 100, 0},

	/* §6.5 SCTP. */
	{"sctp chunks",
	 ETH("0800") "4500 0068 0001 4000 4084 0000 " IP4_ADDRS "1388 1389 0000 abcd 0000 0000\n"
		     "0003 0013 0000 0001 0002 0003 0000 0004 616263 00\n"
		     "0300 0010 0000 0005 0001 0000 0000 0000\n"
		     "0400 0008 0102 0304\n"
		     "0b00 0004\n"
		     "c000 0004\n"
		     "0e00 0004\n"
		     "0004 0010 0000 0007 0000 0000 0000 0000",
	 NULL, false,
	 "10.0.0.1.5000 > 10.0.0.2.5001 tos 0x0 ttl 64 id 1 off 0 [DF] len 104 proto SCTP (132) "
	 "vtag 0xabcd [DATA (BE) TSN 1 SID 2 SSEQ 3 PPID 0x4] [SACK cum_ack 5 a_rwnd 65536 "
	 "#gap_acks 0 #dup_tsns 0] [HEARTBEAT] [COOKIE_ACK] [UNKNOWN:192] [SHUTDOWN_COMPLETE] "
	 "[DATA (U) TSN 7 SID 0 SSEQ 0 PPID 0x0]",
	 118, 0},
	{"sctp other chunk types",
	 ETH("0800") "4500 0070 0001 4000 4084 0000 " IP4_ADDRS "1388 1389 0000 abcd 0000 0000\n"
		     "0200 0014 0102 0304 0001 0000 0005 0006 0000 0007\n"
		     "0500 0004 0600 0004 0700 0008 0000 0001 0800 0004 0900 0004 0a00 0004\n"
		     "0c00 0008 0000 0001 0d00 0008 0000 0001\n"
		     "0000 0010 0000 0009 0001 0002 0000 0003",
	 NULL, false,
	 "10.0.0.1.5000 > 10.0.0.2.5001 tos 0x0 ttl 64 id 1 off 0 [DF] len 112 proto SCTP (132) "
	 "vtag 0xabcd [INIT_ACK init_tag 0x1020304 rwnd 65536 OS 5 MIS 6 init_TSN 7] "
	 "[HEARTBEAT_ACK] [ABORT] [SHUTDOWN] [SHUTDOWN_ACK] [ERROR] [COOKIE_ECHO] [ECNE] [CWR] "
	 "[DATA TSN 9 SID 1 SSEQ 2 PPID 0x3]",
	 126, 0},
	{"sctp zero-length chunks",
	 ETH("0800") "4500 0028 0001 4000 4084 0000 " IP4_ADDRS "1388 1389 0000 abcd 0000 0000\n"
		     "0400 0000 0400 0000",
	 NULL, false,
	 "10.0.0.1.5000 > 10.0.0.2.5001 tos 0x0 ttl 64 id 1 off 0 [DF] len 40 proto SCTP (132) "
	 "vtag 0xabcd [HEARTBEAT] [HEARTBEAT]" TRUNC,
	 100, 0},
	{"sctp init shorter than its fields",
	 ETH("0800") "4500 0028 0001 4000 4084 0000 " IP4_ADDRS "1388 1389 0000 abcd 0000 0000\n"
		     "0100 0008 0000 0001",
	 NULL, false,
	 "10.0.0.1.5000 > 10.0.0.2.5001 tos 0x0 ttl 64 id 1 off 0 [DF] len 40 proto SCTP (132) "
	 "vtag 0xabcd" TRUNC,
	 100, 0},
};

/* --- packet tests that are not a table row ---------------------------------- */

static void test_empty_and_short(void **state)
{
	static const uint8_t eth[13];
	char *out;

	(void)state;
	out = format(NULL, 0, false);
	assert_str_eq(out, TRUNC);
	free(out);
	out = format(NULL, 0, true);
	assert_str_eq(out, TRUNC);
	free(out);
	out = format(eth, sizeof(eth), true);
	assert_str_eq(out, TRUNC);
	free(out);
}

/* The one-liner is appended: what the buffer held stays in front. */
static void test_appends(void **state)
{
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;
	uint8_t pkt[128];
	size_t len = unhex(ETH("0800") IP4_ICMP, pkt, sizeof(pkt));

	(void)state;
	assert_int_equal(retisc_strbuf__puts(&sb, "pkt: "), 0);
	assert_int_equal(retisc_packet__format(&sb, pkt, len, false), 0);
	assert_str_eq(retisc_strbuf__str(&sb), "pkt: " IP4_ICMP_TXT);
	assert_int_equal(retisc_packet__format(&sb, pkt, 10, false), 0);
	assert_str_eq(retisc_strbuf__str(&sb), "pkt: " IP4_ICMP_TXT TRUNC);
	retisc_strbuf__release(&sb);
}

/* Nested tunnels recurse once per level; a long chain must still be fine. */
static void test_nested_vxlan(void **state)
{
	static const char *level = "020000000002 020000000001 0800\n"
				   "4500 ffff 0001 4000 4011 0000 0a000001 0a000002\n"
				   "d431 12b5 0000 0000 0800 0000 0000 0100\n";
	static uint8_t pkt[65536];
	size_t len = 0, i;
	char *out;

	(void)state;
	for (i = 0; i < sizeof(pkt) / 50; i++)
		len += unhex(level, pkt + len, sizeof(pkt) - len);
	out = format(pkt, len, true);
	assert_true(ends_with(out, TRUNC));
	free(out);
}

/* xorshift: deterministic noise for the fuzz test. */
static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/*
 * Random bytes behind plausible headers: every layer sees garbage lengths,
 * offsets and option sizes. Only memory safety and a sane text are checked
 * (ASan/UBSan do the real work).
 */
static void test_fuzz(void **state)
{
	static const char *const prefixes[] = {
		"",
		ETH("0800"),
		ETH("86dd"),
		ETH("8100"),
		ETH("88e5"),
		ETH("88e5") "0000 0000 0001 0800",
		ETH("0806"),
		ETH("0800") "4500 0100 0001 4000 4006 0000 " IP4_ADDRS,
		ETH("0800") "4f00 0100 0001 4000 4006 0000 " IP4_ADDRS,
		ETH("0800") "4500 0100 0001 4000 4011 0000 " IP4_ADDRS "d431 12b5 00ec 0000",
		ETH("0800") "4500 0100 0001 4000 4011 0000 " IP4_ADDRS "d431 17c1 00ec 0000",
		ETH("0800") "4500 0100 0001 4000 4084 0000 " IP4_ADDRS
			    "0001 0002 0000 0000 0000 0000",
		ETH("0800") "4500 0100 0001 4000 4033 0000 " IP4_ADDRS,
		ETH("86dd") "6000 0000 00d8 0040\n" IP6_1 IP6_2,
		ETH("86dd") "6000 0000 00d8 0640\n" IP6_1 IP6_2,
		ETH("86dd") "6000 0000 00d8 1140\n" IP6_1 IP6_2
			    "d431 17c1 00d8 0000 3f00 6558 0000 0100",
	};
	uint32_t seed = 0x12345678;
	uint8_t pkt[300];
	int iter;

	(void)state;
	for (iter = 0; iter < 200000; iter++) {
		const char *prefix =
			prefixes[rnd(&seed) % (sizeof(prefixes) / sizeof(prefixes[0]))];
		size_t plen = unhex(prefix, pkt, sizeof(pkt)), len, i;
		char *out;

		len = plen + rnd(&seed) % (sizeof(pkt) - plen + 1);
		for (i = plen; i < len; i++) {
			uint32_t r = rnd(&seed);

			/* Bias towards small values and the interesting ones. */
			pkt[i] = r & 0x100 ? (uint8_t)(r >> 24) : (uint8_t)(r % 8);
		}
		out = format(pkt, len, iter & 1);
		if (strstr(out, "(null)") || !*out)
			FAIL_FREE(out, "fuzz iteration %d: '%s'\n", iter, out);
		free(out);
	}
}

/* --- base64 ------------------------------------------------------------------ */

static char *b64(const uint8_t *d, size_t n)
{
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;
	char *out;

	assert_int_equal(retisc_base64__encode(&sb, d, n), 0);
	assert_int_equal(sb.len, retisc_base64__encoded_len(n));
	out = strdup(retisc_strbuf__str(&sb));
	retisc_strbuf__release(&sb);
	return out;
}

static void test_base64_vectors(void **state)
{
	static const char *const vec[][2] = {
		{"", ""},
		{"f", "Zg=="},
		{"fo", "Zm8="},
		{"foo", "Zm9v"},
		{"foob", "Zm9vYg=="},
		{"fooba", "Zm9vYmE="},
		{"foobar", "Zm9vYmFy"},
	};
	uint8_t buf[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		char *enc = b64((const uint8_t *)vec[i][0], strlen(vec[i][0]));
		ssize_t n;

		assert_str_eq(enc, vec[i][1]);
		free(enc);
		n = retisc_base64__decode(vec[i][1], strlen(vec[i][1]), buf, sizeof(buf));
		assert_int_equal(n, strlen(vec[i][0]));
		assert_memory_equal(buf, vec[i][0], (size_t)n);
	}
	/* The whole alphabet, '+' and '/' included. */
	{
		static const uint8_t all[] = {
			0x00, 0x10, 0x83, 0x10, 0x51, 0x87, 0x20, 0x92, 0x8b, 0x30, 0xd3, 0x8f,
			0x41, 0x14, 0x93, 0x51, 0x55, 0x97, 0x61, 0x96, 0x9b, 0x71, 0xd7, 0x9f,
			0x82, 0x18, 0xa3, 0x92, 0x59, 0xa7, 0xa2, 0x9a, 0xab, 0xb2, 0xdb, 0xaf,
			0xc3, 0x1c, 0xb3, 0xd3, 0x5d, 0xb7, 0xe3, 0x9e, 0xbb, 0xf3, 0xdf, 0xbf};
		char *enc = b64(all, sizeof(all));

		assert_str_eq(enc,
			      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
		free(enc);
	}
}

static void test_base64_round_trip(void **state)
{
	uint8_t data[300], back[300];
	uint32_t seed = 42;
	size_t n, i;

	(void)state;
	for (n = 0; n <= sizeof(data); n++) {
		char *enc;
		ssize_t got;

		for (i = 0; i < n; i++)
			data[i] = (uint8_t)(n == 256 ? i : rnd(&seed));
		enc = b64(data, n);
		assert_true(retisc_base64__decoded_max(strlen(enc)) >= n);
		got = retisc_base64__decode(enc, strlen(enc), back, sizeof(back));
		assert_int_equal(got, n);
		assert_memory_equal(back, data, n);
		free(enc);
	}
}

/* A reference decoder: value of each character by its place in the alphabet. */
static ssize_t b64_ref_decode(const char *s, size_t len, uint8_t *out)
{
	static const char alpha[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t acc = 0;
	size_t i, n = 0, bits = 0;

	for (i = 0; i < len; i++) {
		const char *p = s[i] ? strchr(alpha, s[i]) : NULL;

		if (!p)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)(p - alpha);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	return (ssize_t)n;
}

/*
 * Every byte value at every place but the last group of a 96-character
 * encoding (the 16-character blocks of the vector path and the scalar
 * loops): accepted, with the reference decoder's bytes, exactly when it is
 * in the alphabet. Then every output room from none to the exact size, in
 * a buffer of that size (ASan checks no byte is stored past it).
 */
static void test_base64_every_byte(void **state)
{
	uint8_t data[72], got[72], want[72];
	uint32_t seed = 7;
	size_t i, pos, cap;
	char *enc;
	int c;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)rnd(&seed);
	enc = b64(data, sizeof(data));
	assert_int_equal(strlen(enc), 96);
	for (pos = 0; pos < 92; pos++) {
		char keep = enc[pos];

		for (c = 0; c < 256; c++) {
			ssize_t n, ref;

			enc[pos] = (char)c;
			n = retisc_base64__decode(enc, 96, got, sizeof(got));
			ref = b64_ref_decode(enc, 96, want);
			assert_int_equal(n, ref);
			if (n >= 0)
				assert_memory_equal(got, want, sizeof(got));
		}
		enc[pos] = keep;
	}
	for (cap = 0; cap <= sizeof(data); cap++) {
		uint8_t *out = malloc(cap ? cap : 1);
		ssize_t n;

		assert_non_null(out);
		n = retisc_base64__decode(enc, 96, out, cap);
		if (cap < sizeof(data)) {
			assert_int_equal(n, -ENOSPC);
		} else {
			assert_int_equal(n, sizeof(data));
			assert_memory_equal(out, data, sizeof(data));
		}
		free(out);
	}
	free(enc);
}

static void test_base64_example(void **state)
{
	uint8_t pkt[128];
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;
	ssize_t n;

	(void)state;
	n = retisc_base64__decode(EX1_B64, strlen(EX1_B64), pkt, sizeof(pkt));
	assert_int_equal(n, 98);
	assert_int_equal(pkt[0], 0xfa);
	assert_int_equal(pkt[97], 0x37);
	/* Appends after what is there. */
	assert_int_equal(retisc_strbuf__puts(&sb, "data="), 0);
	assert_int_equal(retisc_base64__encode(&sb, pkt, (size_t)n), 0);
	assert_str_eq(retisc_strbuf__str(&sb), "data=" EX1_B64);
	retisc_strbuf__release(&sb);
}

static void test_base64_invalid(void **state)
{
	static const char *const bad[] = {
		"Zg=",	    /* length not a multiple of 4 */
		"Zg",	    /* padding missing */
		"Z===",	    /* three pad characters */
		"====",	    /* padding only */
		"Zm9v!A==", /* outside the alphabet */
		"Zm 9v",    /* space */
		"Zm9v\n",   /* line break */
		"Zm-_",	    /* URL-safe alphabet */
		"Zh==",	    /* non-zero discarded bits */
		"Zm9=",	    /* non-zero discarded bits */
		"Zg=A",	    /* data after padding */
		"Zg==Zg==", /* padding before the end */
		"=Zg=",	    /* leading padding */
	};
	uint8_t buf[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ssize_t n = retisc_base64__decode(bad[i], strlen(bad[i]), buf, sizeof(buf));

		if (n != -EINVAL)
			fail_msg("'%s' decoded to %zd", bad[i], n);
	}
	/* An embedded NUL is outside the alphabet. */
	assert_int_equal(retisc_base64__decode("Zm\0v", 4, buf, sizeof(buf)), -EINVAL);
	/* Too small a buffer is not an encoding error. */
	assert_int_equal(retisc_base64__decode("Zm9vYmFy", 8, buf, 5), -ENOSPC);
	assert_int_equal(retisc_base64__decode("Zm9vYg==", 8, buf, 4), 4);
	assert_int_equal(retisc_base64__decode("", 0, NULL, 0), 0);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_empty_and_short),	  cmocka_unit_test(test_appends),
		cmocka_unit_test(test_nested_vxlan),	  cmocka_unit_test(test_fuzz),
		cmocka_unit_test(test_base64_vectors),	  cmocka_unit_test(test_base64_round_trip),
		cmocka_unit_test(test_base64_every_byte), cmocka_unit_test(test_base64_example),
		cmocka_unit_test(test_base64_invalid),
	};
	const size_t ncases = sizeof(cases) / sizeof(cases[0]);
	const size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	struct CMUnitTest *tests = calloc(ncases + nfixed, sizeof(*tests));
	size_t i;
	int ret;

	if (!tests)
		return 1;
	for (i = 0; i < ncases; i++) {
		tests[i].name = cases[i].name;
		tests[i].test_func = run_case;
		tests[i].initial_state = (void *)&cases[i];
	}
	memcpy(tests + ncases, fixed, sizeof(fixed));
	ret = _cmocka_run_group_tests("packet", tests, ncases + nfixed, NULL, NULL);
	free(tests);
	return ret;
}
