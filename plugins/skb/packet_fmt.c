// SPDX-License-Identifier: GPL-2.0-only
/*
 * Packet one-liner (doc/events.md §6).
 *
 * Every layer works on a bounded slice of the capture. Payload slices are
 * clamped to what was captured, so a header cut short shows up as a slice
 * shorter than the layer's minimum, which ends the walk with the truncated
 * suffix; the formatter never needs to know the original packet length.
 *
 * The walk is a chain of tail calls: each layer appends its text and hands
 * the rest to the next one, or returns a status that the entry point turns
 * into the §6 suffix. Output errors are sticky in the context, so the layers
 * need not check every append.
 */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include <retisc/inet_fmt.h>

#include "packet_fmt.h"

enum pf_status {
	PF_DONE = 0,
	PF_TRUNCATED,
	PF_UNSUPPORTED,
};

struct pf_ctx {
	struct retisc_strbuf *sb;
	bool ll;
	int err;
	/* {what} of the not-supported suffix. */
	char what[48];
};

struct pkt_slice {
	const uint8_t *p;
	size_t len;
};

/* --- bounded access ------------------------------------------------------ */

static bool sl_has(struct pkt_slice s, size_t off, size_t n)
{
	return off <= s.len && n <= s.len - off;
}

/* Up to n bytes from off; empty when off is past the end. */
static struct pkt_slice sl_range(struct pkt_slice s, size_t off, size_t n)
{
	struct pkt_slice r = {s.p, 0};

	if (off < s.len) {
		r.p = s.p + off;
		r.len = s.len - off < n ? s.len - off : n;
	}
	return r;
}

static struct pkt_slice sl_from(struct pkt_slice s, size_t off)
{
	return sl_range(s, off, SIZE_MAX);
}

/*
 * Big-endian readers. Layers check their minimum size first; a read that
 * would still fall outside the slice yields 0 instead of touching memory
 * past the capture.
 */
static uint8_t rd8(struct pkt_slice s, size_t off)
{
	return off < s.len ? s.p[off] : 0;
}

static uint16_t rd16(struct pkt_slice s, size_t off)
{
	if (!sl_has(s, off, 2))
		return 0;
	return (uint16_t)(s.p[off] << 8 | s.p[off + 1]);
}

static uint32_t rd24(struct pkt_slice s, size_t off)
{
	if (!sl_has(s, off, 3))
		return 0;
	return (uint32_t)s.p[off] << 16 | (uint32_t)s.p[off + 1] << 8 | s.p[off + 2];
}

static uint32_t rd32(struct pkt_slice s, size_t off)
{
	if (!sl_has(s, off, 4))
		return 0;
	return (uint32_t)s.p[off] << 24 | (uint32_t)s.p[off + 1] << 16 |
	       (uint32_t)s.p[off + 2] << 8 | s.p[off + 3];
}

static size_t sat_sub(size_t a, size_t b)
{
	return a > b ? a - b : 0;
}

/* --- output -------------------------------------------------------------- */

/* Always inlined: the strlen() of the constant strings callers pass folds away. */
static inline __attribute__((always_inline)) void put(struct pf_ctx *c, const char *s)
{
	if (!c->err)
		c->err = retisc_strbuf__puts(c->sb, s);
}

/*
 * printf() for the conversions this file uses, with the same text: %u, %x
 * (optionally zero-padded to a one-digit width), %zu, %s, %%. A packet line
 * has a dozen conversions, and vsnprintf()'s setup cost more than the
 * formatting itself. 1 (having consumed part of ap) at any other
 * conversion: the caller then uses vsnprintf().
 */
static int fast_vformat(struct retisc_strbuf *sb, const char *fmt, va_list ap)
{
	const char *run = fmt, *p;
	int err = 0;

	for (p = fmt; *p && !err; p++) {
		unsigned int width = 0;

		if (*p != '%')
			continue;
		err = retisc_strbuf__append(sb, run, (size_t)(p - run));
		p++;
		if (*p == '0' && p[1] >= '1' && p[1] <= '9') {
			width = (unsigned int)(p[1] - '0');
			p += 2;
		}
		if (*p == 'z' && p[1] == 'u') {
			p++;
			err = err ?: retisc_strbuf__put_num(sb, va_arg(ap, size_t), 10, width);
		} else if (*p == 'u' || *p == 'x') {
			err = err
				      ?: retisc_strbuf__put_num(sb, va_arg(ap, unsigned int),
								*p == 'u' ? 10 : 16, width);
		} else if (*p == 's' && !width) {
			err = err ?: retisc_strbuf__puts(sb, va_arg(ap, const char *));
		} else if (*p == '%' && !width) {
			err = err ?: retisc_strbuf__putc(sb, '%');
		} else {
			return 1;
		}
		run = p + 1;
	}
	return err ?: retisc_strbuf__append(sb, run, (size_t)(p - run));
}

static void putf(struct pf_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct pf_ctx *c, const char *fmt, ...)
{
	size_t start = c->sb->len;
	va_list ap, cp;

	if (c->err)
		return;
	va_start(ap, fmt);
	va_copy(cp, ap);
	c->err = fast_vformat(c->sb, fmt, ap);
	if (c->err == 1) {
		retisc_strbuf__truncate(c->sb, start);
		c->err = retisc_strbuf__vprintf(c->sb, fmt, cp);
	}
	va_end(cp);
	va_end(ap);
}

/*
 * pre, v in decimal or (0x-less) hex, then post if not NULL: the putf()
 * of the conversions every IP packet has, without walking a format.
 */
/* Always inlined: the strlen() of the constant strings callers pass folds away. */
static inline __attribute__((always_inline)) void
put_u(struct pf_ctx *c, const char *pre, uint64_t v, unsigned int base, const char *post)
{
	if (c->err)
		return;
	c->err = retisc_strbuf__puts(c->sb, pre) ?: retisc_strbuf__put_num(c->sb, v, base, 0);
	if (post && !c->err)
		c->err = retisc_strbuf__puts(c->sb, post);
}

static int unsupported(struct pf_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int unsupported(struct pf_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->what, sizeof(c->what), fmt, ap);
	va_end(ap);
	return PF_UNSUPPORTED;
}

/* Joins list items with sep, nothing before the first one. */
static void put_sep(struct pf_ctx *c, bool *first, const char *sep)
{
	if (!*first)
		put(c, sep);
	*first = false;
}

static void put_hex_bytes(struct pf_ctx *c, struct pkt_slice s)
{
	size_t i;

	for (i = 0; i < s.len; i++)
		putf(c, "%02x", s.p[i]);
}

/* --- §6.7 names and §6.8 addresses --------------------------------------- */

static const struct {
	uint16_t et;
	const char *name;
} ethertypes[] = {
	{0x0800, "IPv4"},
	{0x0806, "ARP"},
	{0x6558, "TEB"},
	{0x8035, "Reverse ARP"},
	{0x809b, "Appletalk"},
	{0x80f3, "Appletalk ARP"},
	{0x8100, "802.1Q"},
	{0x86dd, "IPv6"},
	{0x880b, "PPP"},
	{0x8847, "MPLS unicast"},
	{0x8848, "MPLS multicast"},
	{0x8863, "PPPoE D"},
	{0x8864, "PPPoE S"},
	{0x888e, "EAPOL"},
	{0x88a8, "802.1Q-QinQ"},
	{0x88e5, "802.1AE MACsec"},
	{0x88f7, "PTP"},
	{0x9100, "802.1Q-9100"},
};

static const char *const ipproto_names[256] = {
	[1] = "ICMP",	[2] = "IGMP",	    [4] = "IPIP",  [6] = "TCP",	   [17] = "UDP",
	[27] = "RDP",	[33] = "DCCP",	    [41] = "IPv6", [47] = "GRE",   [50] = "ESP",
	[51] = "AH",	[58] = "ICMPv6",    [89] = "OSPF", [112] = "VRRP", [115] = "L2TP",
	[132] = "SCTP", [143] = "Ethernet",
};

/* The IPv6 extension headers that §6.4 step 3 walks, with their names. */
static const char *const ipv6_ext_names[256] = {
	[0] = "Hopopt",	 [43] = "Ipv6Route", [44] = "Ipv6Frag",	       [50] = "Esp",
	[51] = "Ah",	 [60] = "Ipv6Opts",  [135] = "MobilityHeader", [139] = "Hip",
	[140] = "Shim6", [253] = "Test1",    [254] = "Test2",
};

static const char *ethertype_name(uint16_t et)
{
	size_t i;

	for (i = 0; i < sizeof(ethertypes) / sizeof(ethertypes[0]); i++)
		if (ethertypes[i].et == et)
			return ethertypes[i].name;
	return NULL;
}

static void put_proto(struct pf_ctx *c, uint8_t p)
{
	const char *name = ipproto_names[p];

	if (name) {
		put(c, " proto ");
		put(c, name);
		put_u(c, " (", p, 10, ")");
	} else {
		put_u(c, " proto (", p, 10, ")");
	}
}

static void put_mac(struct pf_ctx *c, const uint8_t *m)
{
	putf(c, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* Dotted quad, as "%u.%u.%u.%u": two per IPv4 packet, so written here. */
static void put_ipv4(struct pf_ctx *c, const uint8_t *a)
{
	char *q;

	/* Written in place: at most 4 * 4 bytes, the last '.' dropped. */
	if (c->err || (c->err = retisc_strbuf__reserve(c->sb, 16)))
		return;
	q = c->sb->buf + c->sb->len;
	for (int i = 0; i < 4; i++) {
		unsigned int v = a[i];

		if (v >= 100)
			*q++ = (char)('0' + v / 100);
		if (v >= 10)
			*q++ = (char)('0' + v / 10 % 10);
		*q++ = (char)('0' + v % 10);
		*q++ = '.';
	}
	c->sb->len = (size_t)(q - 1 - c->sb->buf);
	c->sb->buf[c->sb->len] = '\0';
}

/* doc/events.md §6.8, shared with the other plugins that print addresses. */
static void put_ipv6(struct pf_ctx *c, const uint8_t *a)
{
	char buf[RETISC_INET6_STRLEN];

	retisc_inet__ntop6(buf, a);
	put(c, buf);
}

/* --- layers --------------------------------------------------------------- */

static int fmt_eth(struct pf_ctx *c, struct pkt_slice s);
static int fmt_l3(struct pf_ctx *c, uint16_t et, struct pkt_slice s);

/* §6.1 steps 3 and 4, also the continuation point of MACsec. */
static int fmt_vlans_l3(struct pf_ctx *c, uint16_t et, struct pkt_slice s)
{
	while (et == 0x8100 || et == 0x88a8 || et == 0x9100) {
		uint16_t tci, inner;
		const char *name;

		if (s.len < 4)
			return PF_TRUNCATED;
		tci = rd16(s, 0);
		inner = rd16(s, 2);
		if (c->ll) {
			putf(c, " vlan %u p %u%s", tci & 0xfff, tci >> 13,
			     tci & 0x1000 ? " DEI" : "");
			name = ethertype_name(inner);
			if (name)
				putf(c, " ethertype %s (0x%04x)", name, inner);
			else
				putf(c, " ethertype (0x%04x)", inner);
		}
		et = inner;
		s = sl_from(s, 4);
	}
	return fmt_l3(c, et, s);
}

static int fmt_eth(struct pf_ctx *c, struct pkt_slice s)
{
	const char *name;
	uint16_t et;

	if (s.len < 14)
		return PF_TRUNCATED;
	et = rd16(s, 12);
	name = ethertype_name(et);
	if (!name)
		return unsupported(c, "ethertype 0x%04x", et);
	if (c->ll) {
		put_mac(c, s.p + 6);
		put(c, " > ");
		put_mac(c, s.p);
		putf(c, " ethertype %s (0x%04x)", name, et);
	}
	return fmt_vlans_l3(c, et, sl_from(s, 14));
}

static int fmt_arp(struct pf_ctx *c, struct pkt_slice s)
{
	static const uint8_t zero_mac[6];
	const uint8_t *sha, *spa, *tha, *tpa;
	uint16_t op;

	if (s.len < 28)
		return PF_TRUNCATED;
	op = rd16(s, 6);
	sha = s.p + 8;
	spa = s.p + 14;
	tha = s.p + 18;
	tpa = s.p + 24;
	switch (op) {
	case 1:
		put(c, "request who-has ");
		put_ipv4(c, tpa);
		if (memcmp(tha, zero_mac, sizeof(zero_mac))) {
			put(c, " (");
			put_mac(c, tha);
			put(c, ")");
		}
		put(c, " tell ");
		put_ipv4(c, spa);
		break;
	case 2:
		put(c, "reply ");
		put_ipv4(c, spa);
		put(c, " is-at ");
		put_mac(c, sha);
		break;
	case 3:
		put(c, "reverse request who-is ");
		put_mac(c, tha);
		put(c, " tell ");
		put_mac(c, sha);
		break;
	case 4:
		put(c, "reverse reply ");
		put_mac(c, tha);
		put(c, " at ");
		put_ipv4(c, tpa);
		break;
	default:
		return unsupported(c, "ARP operation %u", op);
	}
	return PF_DONE;
}

static const char *ecn_text(uint8_t ecn)
{
	static const char *const text[4] = {"", " ECT(1)", " ECT(0)", " CE"};

	return text[ecn & 3];
}

/* Whether the transport header is there to give ports (§6.3 step 1). */
static bool has_ports(uint8_t proto, struct pkt_slice payload)
{
	switch (proto) {
	case 6:
		return payload.len >= 20;
	case 17:
		return payload.len >= 8;
	case 132:
		return payload.len >= 12;
	default:
		return false;
	}
}

static int fmt_l4(struct pf_ctx *c, uint8_t proto, struct pkt_slice s, size_t len);

static void put_ipv4_opts(struct pf_ctx *c, struct pkt_slice opts)
{
	bool first = true;
	size_t i = 0;

	while (i < opts.len) {
		uint8_t n = opts.p[i] & 0x1f;

		/* A leading EOL is padding, not worth showing. */
		if (n == 0) {
			if (!first)
				put(c, ",Ipv4OptionNumber(0)");
			break;
		}
		if (first)
			put(c, " opts [");
		put_sep(c, &first, ",");
		putf(c, "Ipv4OptionNumber(%u)", n);
		if (n == 1) {
			i++;
		} else {
			size_t olen = rd8(opts, i + 1);

			/* A missing length byte reads as 0: size 2, ends the walk. */
			i += olen < 2 ? 2 : olen;
		}
	}
	if (!first)
		put(c, "]");
}

static int fmt_ipv4(struct pf_ctx *c, struct pkt_slice s)
{
	size_t hlen, tot, start, l4len;
	uint8_t flags, proto;
	struct pkt_slice payload;
	bool ports;

	if (s.len < 20)
		return PF_TRUNCATED;
	hlen = (size_t)(rd8(s, 0) & 0xf) * 4;
	tot = rd16(s, 2);
	flags = rd8(s, 6) >> 5;
	proto = rd8(s, 9);
	l4len = sat_sub(tot, hlen);
	start = hlen > 20 ? hlen : 20;
	payload = sl_range(s, start, l4len);

	ports = has_ports(proto, payload);
	put_ipv4(c, s.p + 12);
	if (ports)
		put_u(c, ".", rd16(payload, 0), 10, NULL);
	put(c, " > ");
	put_ipv4(c, s.p + 16);
	if (ports)
		put_u(c, ".", rd16(payload, 2), 10, NULL);

	put_u(c, " tos 0x", rd8(s, 1) >> 2, 16, ecn_text(rd8(s, 1)));
	put_u(c, " ttl ", rd8(s, 8), 10, NULL);
	put_u(c, " id ", rd16(s, 4), 10, NULL);
	put_u(c, " off ", (rd16(s, 6) & 0x1fffu) * 8, 10, NULL);
	if (flags) {
		bool first = true;

		put(c, " [");
		if (flags & 4) {
			put_sep(c, &first, ",");
			put(c, "+");
		}
		if (flags & 2) {
			put_sep(c, &first, ",");
			put(c, "DF");
		}
		if (flags & 1) {
			put_sep(c, &first, ",");
			put(c, "rsvd");
		}
		put(c, "]");
	}
	if (tot > 0)
		put_u(c, " len ", tot, 10, NULL);
	put_ipv4_opts(c, sl_range(s, 20, sat_sub(hlen, 20)));
	put_proto(c, proto);
	return fmt_l4(c, proto, payload, l4len);
}

static int fmt_ipv6(struct pf_ctx *c, struct pkt_slice s)
{
	struct pkt_slice payload;
	size_t plen;
	uint8_t nh, cur;
	uint32_t label;
	bool ports, first = true;

	if (s.len < 40)
		return PF_TRUNCATED;
	plen = rd16(s, 4);
	nh = rd8(s, 6);
	payload = sl_range(s, 40, plen);
	label = rd24(s, 1) & 0xfffff;

	ports = has_ports(nh, payload);
	put_ipv6(c, s.p + 8);
	if (ports)
		putf(c, ".%u", rd16(payload, 0));
	put(c, " > ");
	put_ipv6(c, s.p + 24);
	if (ports)
		putf(c, ".%u", rd16(payload, 2));

	/* The traffic class straddles bytes 0 and 1; ECN is its low 2 bits. */
	putf(c, "%s ttl %u label 0x%x", ecn_text(rd8(s, 1) >> 4), rd8(s, 7), label);
	if (plen > 0)
		putf(c, " len %zu", plen);

	/* AH and ESP are skipped with the generic 8 + 8 * len rule too (§6.4). */
	cur = nh;
	while (ipv6_ext_names[cur] && payload.len >= 2) {
		size_t size = 8 + 8 * (size_t)rd8(payload, 1);

		put(c, first ? " exts [" : ",");
		first = false;
		put(c, ipv6_ext_names[cur]);
		cur = rd8(payload, 0);
		plen = sat_sub(plen, size);
		payload = sl_from(payload, size);
	}
	if (!first)
		put(c, "]");
	else if (nh == 59)
		return PF_DONE;
	/* A 59 reached through extensions is named like any other protocol. */

	put_proto(c, cur);
	return fmt_l4(c, cur, payload, plen);
}

/* §6.6: the SecTAG, then the inner frame unless protected. */
static int fmt_macsec(struct pf_ctx *c, struct pkt_slice s)
{
	uint8_t tci, sl;
	struct pkt_slice sci = {s.p, 0}, payload;

	if (s.len < 6)
		return PF_TRUNCATED;
	tci = rd8(s, 0);
	sl = rd8(s, 1) & 0x3f;
	if (tci & 0x20)
		sci = sl_range(s, 6, 8);
	/* The trailing ICV is left in: the inner layers stop at their own lengths. */
	payload = sl_from(s, tci & 0x20 ? 14 : 6);

	if (c->ll) {
		putf(c, "an %u pn %u flags [%s%s%s%s%s]", tci & 3, rd32(s, 2),
		     tci & 0x08 ? "E" : "", tci & 0x04 ? "C" : "", tci & 0x40 ? "S" : "",
		     tci & 0x10 ? "B" : "", tci & 0x20 ? "I" : "");
		if (sl > 0)
			putf(c, " sl %u", sl);
		/*
		 * The minimum MACsec size is 6, so an SCI cut by the capture is
		 * not a truncated header: print the bytes that are there, like
		 * every other clamped field (the inner ethertype, which is then
		 * missing too, reports the truncation).
		 */
		if (tci & 0x20) {
			put(c, " sci 0x");
			put_hex_bytes(c, sci);
		}
	}
	/* Encrypted or changed: nothing inside can be decoded. */
	if (tci & 0x0c) {
		if (!c->ll)
			put(c, "802.1AE MACsec frame");
		return PF_DONE;
	}
	if (payload.len < 2)
		return PF_TRUNCATED;
	return fmt_vlans_l3(c, rd16(payload, 0), sl_from(payload, 2));
}

/* §6.1 step 4. */
static int fmt_l3(struct pf_ctx *c, uint16_t et, struct pkt_slice s)
{
	if (c->ll)
		put(c, " ");
	switch (et) {
	case 0x88e5:
		return fmt_macsec(c, s);
	case 0x0806:
		return fmt_arp(c, s);
	case 0x0800:
		return fmt_ipv4(c, s);
	case 0x86dd:
		return fmt_ipv6(c, s);
	default:
		return unsupported(c, "ethertype 0x%04x", et);
	}
}

static const char *const tcp_opt_names[256] = {
	[0] = "eol",	 [1] = "nop",	  [2] = "mss",	     [3] = "wscale", [4] = "sackOK",
	[5] = "sack",	 [6] = "echo",	  [7] = "echoreply", [8] = "TS",     [11] = "cc",
	[12] = "ccnew",	 [13] = "ccecho", [19] = "md5",	     [20] = "scps",  [28] = "uto",
	[29] = "tcp-ao", [30] = "mptcp",  [34] = "tfo",	     [254] = "exp",
};

/*
 * One TCP option value. val holds the captured part of its dl data bytes:
 * values are shown only when captured, except the TFO cookie which marks
 * each missing byte.
 */
static void put_tcp_opt_value(struct pf_ctx *c, uint8_t kind, struct pkt_slice val, size_t dl)
{
	size_t i;

	switch (kind) {
	case 2:
		if (val.len >= 2)
			putf(c, " %u", rd16(val, 0));
		break;
	case 3:
		if (val.len >= 1)
			putf(c, " %u", rd8(val, 0));
		break;
	case 5:
		if (dl % 8) {
			put(c, " invalid");
			break;
		}
		putf(c, " %zu ", dl / 8);
		for (i = 0; i + 8 <= val.len; i += 8)
			putf(c, "{%u:%u}", rd32(val, i), rd32(val, i + 4));
		break;
	case 6:
	case 7:
	case 11:
	case 12:
	case 13:
		if (val.len >= 4)
			putf(c, " %u", rd32(val, 0));
		break;
	case 8:
		if (val.len >= 8)
			putf(c, " val %u ecr %u", rd32(val, 0), rd32(val, 4));
		break;
	case 34:
		if (!dl) {
			put(c, " cookiereq");
			break;
		}
		put(c, " cookie ");
		for (i = 0; i < dl; i++) {
			if (i < val.len)
				putf(c, "0x%x", val.p[i]);
			else
				put(c, "??");
		}
		break;
	default:
		break;
	}
}

static int fmt_tcp(struct pf_ctx *c, struct pkt_slice s, size_t len)
{
	static const char letters[] = "FSRP.UEW";
	uint8_t fl, doff;
	uint32_t seq;
	size_t data, i;
	char flags[10];
	int n = 0;

	if (s.len < 20)
		return PF_TRUNCATED;
	fl = rd8(s, 13);
	for (i = 0; i < 8; i++)
		if (fl & (1u << i))
			flags[n++] = letters[i];
	if (rd8(s, 12) & 0x01)
		flags[n++] = 'e';
	flags[n] = '\0';
	put(c, " flags [");
	put(c, flags);
	put(c, "]");

	doff = rd8(s, 12) >> 4;
	seq = rd32(s, 4);
	data = sat_sub(len, (size_t)doff * 4);
	put_u(c, " seq ", seq, 10, NULL);
	if (data > 0)
		put_u(c, ":", (uint32_t)(seq + data), 10, NULL);
	if (fl & 0x10)
		put_u(c, " ack ", rd32(s, 8), 10, NULL);
	put_u(c, " win ", rd16(s, 14), 10, NULL);

	if (doff * 4 > 20) {
		struct pkt_slice opts = sl_range(s, 20, (size_t)doff * 4 - 20);
		bool first = true;

		put(c, " [");
		i = 0;
		while (i < opts.len) {
			uint8_t kind = opts.p[i];
			size_t olen, dl;

			put_sep(c, &first, ",");
			put(c, tcp_opt_names[kind] ? tcp_opt_names[kind] : "?");
			/* EOL does not end the walk: trailing padding shows as eol,eol. */
			if (kind <= 1) {
				i++;
				continue;
			}
			/* A length byte cut by the capture reads as 0: no value. */
			olen = rd8(opts, i + 1);
			dl = sat_sub(olen, 2);
			put_tcp_opt_value(c, kind, sl_range(opts, i + 2, dl), dl);
			i += olen < 2 ? 2 : olen;
		}
		put(c, "]");
	}
	return PF_DONE;
}

static int fmt_vxlan(struct pf_ctx *c, struct pkt_slice s)
{
	if (s.len < 8)
		return PF_TRUNCATED;
	putf(c, " vxlan [%s] vni 0x%x ", rd8(s, 0) & 0x08 ? "I" : "", rd24(s, 4));
	return fmt_eth(c, sl_from(s, 8));
}

static void put_geneve_opts(struct pf_ctx *c, struct pkt_slice opts)
{
	bool first = true;
	size_t i = 0;

	put(c, " [");
	/*
	 * An option header cut by the capture is not shown; the payload after
	 * the options is then empty too and reports the truncation.
	 */
	while (sl_has(opts, i, 4)) {
		uint16_t class = rd16(opts, i);
		uint8_t type = rd8(opts, i + 2), olen = rd8(opts, i + 3) & 0x1f;
		struct pkt_slice data = sl_range(opts, i + 4, (size_t)olen * 4);

		put_sep(c, &first, ",");
		putf(c, "class 0x%x type 0x%x%s len %u", class, type, type & 0x80 ? "(C)" : "",
		     olen * 4);
		/*
		 * The GRO hint only with its 4 data bytes captured, and only for
		 * type 0x1 itself: with the critical bit set it is another type.
		 */
		if (class == 0x100 && type == 0x1 && data.len >= 4) {
			uint8_t b = rd8(data, 0);

			putf(c, " (proto %u %s nh %u tp %u hlen %u)", b & 0x3,
			     b & 0x4 ? "v6" : "v4", rd8(data, 1), rd8(data, 2), rd8(data, 3));
		}
		i += 4 + (size_t)olen * 4;
	}
	put(c, "]");
}

static int fmt_geneve(struct pf_ctx *c, struct pkt_slice s)
{
	uint8_t optlen, b1;
	uint16_t proto;
	struct pkt_slice payload;

	if (s.len < 8)
		return PF_TRUNCATED;
	optlen = rd8(s, 0) & 0x3f;
	b1 = rd8(s, 1);
	proto = rd16(s, 2);
	putf(c, " geneve [%s%s] vni 0x%x", b1 & 0x80 ? "O" : "", b1 & 0x40 ? "C" : "", rd24(s, 4));
	if (c->ll) {
		const char *name = ethertype_name(proto);

		if (name)
			putf(c, " proto %s (0x%04x)", name, proto);
		else
			putf(c, " proto (0x%04x)", proto);
	}
	if (optlen > 0)
		put_geneve_opts(c, sl_range(s, 8, (size_t)optlen * 4));

	/*
	 * §6.5 says "one space" and then §6.1 step 4, which adds its own space
	 * with -e: both are kept, so a non-TEB payload gets two spaces with -e.
	 */
	put(c, " ");
	payload = sl_from(s, 8 + (size_t)optlen * 4);
	if (proto == 0x6558)
		return fmt_eth(c, payload);
	return fmt_l3(c, proto, payload);
}

static int fmt_udp(struct pf_ctx *c, struct pkt_slice s)
{
	uint16_t dport;

	if (s.len < 8)
		return PF_TRUNCATED;
	put_u(c, " len ", sat_sub(rd16(s, 4), 8), 10, NULL);
	/* Tunnels get all the bytes after the header: §6.5 does not cut at ulen. */
	dport = rd16(s, 2);
	if (dport == 4789 || dport == 8472)
		return fmt_vxlan(c, sl_from(s, 8));
	if (dport == 6081)
		return fmt_geneve(c, sl_from(s, 8));
	return PF_DONE;
}

static const char *sctp_chunk_name(uint8_t type)
{
	static const char *const names[] = {
		"DATA",		 "INIT",       "INIT_ACK", "SACK",	   "HEARTBEAT",
		"HEARTBEAT_ACK", "ABORT",      "SHUTDOWN", "SHUTDOWN_ACK", "ERROR",
		"COOKIE_ECHO",	 "COOKIE_ACK", "ECNE",	   "CWR",	   "SHUTDOWN_COMPLETE",
	};

	return type < sizeof(names) / sizeof(names[0]) ? names[type] : NULL;
}

static int fmt_sctp(struct pf_ctx *c, struct pkt_slice s, size_t len)
{
	struct pkt_slice chunks;
	size_t remaining, i = 0;

	if (s.len < 12)
		return PF_TRUNCATED;
	putf(c, " vtag 0x%x", rd32(s, 4));
	remaining = sat_sub(len, 12);
	chunks = sl_from(s, 12);

	while (sl_has(chunks, i, 4)) {
		uint8_t type = rd8(chunks, i), flags = rd8(chunks, i + 1);
		size_t padded = ((size_t)rd16(chunks, i + 2) + 3) & ~(size_t)3;
		struct pkt_slice v = sl_range(chunks, i + 4, sat_sub(padded, 4));

		switch (type) {
		case 0:
			if (v.len < 12)
				return PF_TRUNCATED;
			put(c, " [DATA");
			if (flags & 7)
				putf(c, " (%s%s%s)", flags & 4 ? "U" : "", flags & 2 ? "B" : "",
				     flags & 1 ? "E" : "");
			putf(c, " TSN %u SID %u SSEQ %u PPID 0x%x]", rd32(v, 0), rd16(v, 4),
			     rd16(v, 6), rd32(v, 8));
			break;
		case 1:
		case 2:
			if (v.len < 16)
				return PF_TRUNCATED;
			putf(c, " [%s init_tag 0x%x rwnd %u OS %u MIS %u init_TSN %u]",
			     sctp_chunk_name(type), rd32(v, 0), rd32(v, 4), rd16(v, 8), rd16(v, 10),
			     rd32(v, 12));
			break;
		case 3:
			if (v.len < 12)
				return PF_TRUNCATED;
			putf(c, " [SACK cum_ack %u a_rwnd %u #gap_acks %u #dup_tsns %u]",
			     rd32(v, 0), rd32(v, 4), rd16(v, 8), rd16(v, 10));
			break;
		default:
			if (sctp_chunk_name(type))
				putf(c, " [%s]", sctp_chunk_name(type));
			else
				putf(c, " [UNKNOWN:%u]", type);
			break;
		}
		remaining = sat_sub(remaining, padded);
		/*
		 * A chunk length below 4 would not move the walk forward: such a
		 * chunk still occupies its 4-byte header.
		 */
		i += padded < 4 ? 4 : padded;
	}
	return remaining ? PF_TRUNCATED : PF_DONE;
}

/* §6.5; AH continues in place, so chains of AH headers do not recurse. */
static int fmt_l4(struct pf_ctx *c, uint8_t proto, struct pkt_slice s, size_t len)
{
	for (;;) {
		switch (proto) {
		case 17:
			return fmt_udp(c, s);
		case 6:
			return fmt_tcp(c, s, len);
		case 1:
		case 58:
			if (s.len < 4)
				return PF_TRUNCATED;
			putf(c, " type %u code %u", rd8(s, 0), rd8(s, 1));
			return PF_DONE;
		case 50:
			if (s.len < 8)
				return PF_TRUNCATED;
			putf(c, " spi 0x%08x seq 0x%x", rd32(s, 0), rd32(s, 4));
			return PF_DONE;
		case 132:
			return fmt_sctp(c, s, len);
		case 51: {
			uint8_t plen;
			size_t icv_len;

			if (s.len < 12)
				return PF_TRUNCATED;
			/* Payload Len counts 4-byte words minus 2; the ICV follows 12 bytes. */
			plen = rd8(s, 1);
			icv_len = (size_t)(plen ? plen - 1 : 0) * 4;
			putf(c, " spi 0x%08x seq 0x%x icv 0x", rd32(s, 4), rd32(s, 8));
			put_hex_bytes(c, sl_range(s, 12, icv_len));
			proto = rd8(s, 0);
			put_proto(c, proto);
			len = sat_sub(len, ((size_t)plen + 2) * 4);
			s = sl_from(s, 12 + icv_len);
			continue;
		}
		default:
			return unsupported(c, "protocol 0x%x", proto);
		}
	}
}

int retisc_packet__format(struct retisc_strbuf *sb, const uint8_t *data, size_t caplen,
			  bool link_layer)
{
	struct pf_ctx c = {.sb = sb, .ll = link_layer};
	struct pkt_slice s = {data, data ? caplen : 0};
	size_t start = sb->len;

	switch (fmt_eth(&c, s)) {
	case PF_TRUNCATED:
		put(&c, "... (truncated or incomplete packet)");
		break;
	case PF_UNSUPPORTED:
		putf(&c, "... (%s not supported, use 'retis pcap')", c.what);
		break;
	default:
		break;
	}
	if (c.err) {
		retisc_strbuf__truncate(sb, start);
		return c.err;
	}
	return 0;
}

const char *retisc_packet__ethertype_name(uint16_t et)
{
	return ethertype_name(et);
}
