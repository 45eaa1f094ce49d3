// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fates of packet series and per-flow aggregates (doc/processing.md §7),
 * shared by `retisc explain` and `retisc report`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <retisc/base64.h>
#include <retisc/inet_fmt.h>
#include <retisc/plugin.h>

#include "explain.h"

/* Details are fixed-size text for people: a very long device or probe name
 * is cut rather than failing the line. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

static const char *const fate_names[RETISC_FATE__N] = {
	[RETISC_FATE_DELIVERED] = "delivered", [RETISC_FATE_TRANSMITTED] = "transmitted",
	[RETISC_FATE_DROPPED] = "dropped",     [RETISC_FATE_UPCALLED] = "upcalled",
	[RETISC_FATE_CONSUMED] = "consumed",   [RETISC_FATE_INCOMPLETE] = "incomplete",
	[RETISC_FATE_IN_FLIGHT] = "in-flight", [RETISC_FATE_VANISHED] = "vanished",
};

const char *retisc_fate__name(enum retisc_fate f)
{
	return (unsigned int)f < RETISC_FATE__N ? fate_names[f] : "?";
}

/*
 * doc/processing.md §7.3: where a packet was last seen when nothing ended
 * its life, and what a kernel engineer checks there. Keys are matched on
 * the probe's function or tracepoint event name (group left out).
 */
enum hint_row {
	HINT_RX,
	HINT_LOCAL_IN,
	HINT_FORWARD,
	HINT_OUTPUT,
	HINT_QUEUE,
	HINT_NETFILTER,
	HINT_TC,
	HINT_OVS,
	HINT_SOCKET,
	HINT_OTHER,
};

static const struct retisc_xp_hint hints[] = {
	[HINT_RX] =
		{"rx", "a device receive (netif_receive_skb, netif_rx, GRO, ip_rcv)",
		 "not addressed to this netns and IP forwarding disabled there "
		 "(sysctl net.ipv4.ip_forward / net.ipv6.conf.all.forwarding); "
		 "reverse-path filter (net.ipv4.conf.<dev>.rp_filter); "
		 "no route to the destination (ip route get); "
		 "a netfilter rule in prerouting/input/forward (nft list ruleset, collect -c nft); "
		 "destination MAC not this device's (PACKET_OTHERHOST); "
		 "a tc ingress or XDP program; "
		 "collect -c skb-drop to get the kernel's drop reason; "
		 "or not lost at all: delivered and freed on a path without a tracepoint (TCP "
		 "frees what it processed with __kfree_skb, UDP copies linear datagrams "
		 "without skb_copy_datagram_iovec)"},
	[HINT_LOCAL_IN] = {"local-in", "local input (ip_local_deliver, tcp_v4_rcv, udp_rcv)",
			   "no socket bound to the destination port; "
			   "a netfilter input rule; "
			   "socket receive buffer full (ss -m); "
			   "checksum error (nstat -az | grep -i csum)"},
	[HINT_FORWARD] = {"forward", "the forwarding path (ip_forward, ip6_forward)",
			  "TTL expired; "
			  "packet larger than the egress MTU with DF set; "
			  "a netfilter forward rule; "
			  "xfrm policy mismatch; "
			  "no neighbour (ARP/ND) for the next hop (ip neigh)"},
	[HINT_OUTPUT] = {"output", "the output path (ip_output, ip_finish_output, neigh_*)",
			 "no neighbour entry for the next hop (ip neigh: FAILED/INCOMPLETE); "
			 "a netfilter output/postrouting rule; "
			 "egress device down (ip link)"},
	[HINT_QUEUE] = {"queue", "a device queue (net_dev_queue, qdisc enqueue)",
			"qdisc drop or shaping (tc -s qdisc show); "
			"device down or carrier lost (ip link); "
			"TX queue stopped by the driver"},
	[HINT_NETFILTER] = {"netfilter", "netfilter (nf_hook_slow, nft_do_chain)",
			    "a rule returned drop or stolen (nft list ruleset; collect -c nft); "
			    "queued to userspace (NFQUEUE) and never reinjected"},
	[HINT_TC] = {"tc", "traffic control (tcf_classify, sch_handle_*)",
		     "a tc filter or action dropped or redirected it (tc -s filter show)"},
	[HINT_OVS] = {"ovs", "Open vSwitch (ovs_dp_process_packet, ovs_dp_upcall)",
		      "no flow and no ovs-vswitchd listening (upcall failed); "
		      "a datapath drop action (ovs-dpctl dump-flows)"},
	[HINT_SOCKET] = {"socket", "a socket queue",
			 "queued but not read by the application before the end of collection"},
	[HINT_OTHER] = {"other", "any other probe",
			"freed on a path no probe of this collection sees: add probes "
			"(-p tp:skb:kfree_skb, -c skb-drop) or stack traces (--stack)"},
};

const struct retisc_xp_hint *retisc_xp_hint(int i)
{
	return i >= 0 && (size_t)i < sizeof(hints) / sizeof(hints[0]) ? &hints[i] : NULL;
}

/* doc/processing.md §7.4: what a drop reason most often means. */
static const struct {
	const char *reason, *hint;
} drop_hints[] = {
	{"NO_SOCKET", "no socket bound to the destination port (ss -lnp)"},
	{"IP_INADDRERRORS", "not addressed to this netns and IP forwarding disabled there (sysctl "
			    "net.ipv4.ip_forward), or an invalid destination address"},
	{"IP_INNOROUTES", "no route to the destination (ip route get)"},
	{"IP_RPFILTER", "reverse-path filter (net.ipv4.conf.<dev>.rp_filter)"},
	{"NETFILTER_DROP", "a netfilter rule (nft list ruleset; collect -c nft names it)"},
	{"OTHERHOST", "destination MAC not this device's"},
	{"SOCKET_RCVBUFF", "socket receive buffer full: the application reads too slowly"},
	{"SOCKET_FILTER", "a socket (BPF) filter refused it"},
	{"TCP_CSUM", "bad TCP checksum"},
	{"UDP_CSUM", "bad UDP checksum"},
	{"QDISC_DROP", "the qdisc dropped it (tc -s qdisc show)"},
	{"NEIGH_FAILED", "neighbour resolution failed for the next hop (ip neigh)"},
	{"NEIGH_QUEUEFULL", "too many packets waiting for neighbour resolution"},
	{"IP_NOPROTO", "no handler for the IP protocol"},
	{"PKT_TOO_SMALL", "truncated packet"},
	{"TC_INGRESS", "a tc ingress filter or action"},
	{"TC_EGRESS", "a tc egress filter or action"},
	{"XDP", "an XDP program returned XDP_DROP"},
	{"DEV_READY", "the device is down"},
	{"FULL_RING", "a ring or backlog was full"},
	{"CPU_BACKLOG", "the per-CPU backlog was full (net.core.netdev_max_backlog)"},
	{"TCP_INVALID_SEQUENCE", "TCP segment outside the receive window"},
	{"TCP_RESET", "TCP RST received on the connection"},
	{"IP_OUTNOROUTES", "no route for a locally generated packet"},
	{"PKT_TOO_BIG", "larger than the MTU with DF set"},
	{"UNICAST_IN_L2_MULTICAST", "unicast IP in an L2 multicast frame"},
};

const char *retisc_xp_drop_hint(const char *reason)
{
	for (size_t i = 0; reason && i < sizeof(drop_hints) / sizeof(drop_hints[0]); i++)
		if (!strcmp(drop_hints[i].reason, reason))
			return drop_hints[i].hint;
	return NULL;
}

/* ------------------------------------------------------------------------
 * Latency histograms.
 */

static size_t hist_index(uint64_t v)
{
	unsigned int e;
	size_t i;

	if (v < 4)
		return (size_t)v;
	e = 63 - (unsigned int)__builtin_clzll(v);
	i = 4 + (size_t)(e - 2) * 4 + ((v >> (e - 2)) & 3);
	return i < RETISC_XP_HIST_BUCKETS ? i : RETISC_XP_HIST_BUCKETS - 1;
}

uint64_t retisc_xp_hist__bucket_low(size_t i)
{
	unsigned int e;

	if (i < 4)
		return i;
	e = (unsigned int)((i - 4) / 4 + 2);
	return (1ULL << e) + ((i - 4) % 4) * (1ULL << (e - 2));
}

void retisc_xp_hist__add(struct retisc_xp_hist *h, uint64_t ns)
{
	if (!h->n || ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
	h->n++;
	h->bucket[hist_index(ns)]++;
}

uint64_t retisc_xp_hist__quantile(const struct retisc_xp_hist *h, double q)
{
	uint64_t want, seen = 0, lo, hi, v;
	size_t i;

	if (!h->n)
		return 0;
	want = (uint64_t)(q * (double)h->n + 0.999999);
	if (!want)
		want = 1;
	if (want >= h->n)
		return h->max;
	for (i = 0; i < RETISC_XP_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= want)
			break;
	}
	if (i == RETISC_XP_HIST_BUCKETS)
		return h->max;
	lo = retisc_xp_hist__bucket_low(i);
	hi = i + 1 < RETISC_XP_HIST_BUCKETS ? retisc_xp_hist__bucket_low(i + 1) : lo;
	v = lo + (hi - lo) / 2;
	if (v < h->min)
		v = h->min;
	if (v > h->max)
		v = h->max;
	return v;
}

/* ------------------------------------------------------------------------
 * Tuples.
 */

void retisc_xp_tuple__fmt(const struct retisc_xp_tuple *t, const char *sep, char *buf, size_t sz)
{
	char s[RETISC_INET6_STRLEN], d[RETISC_INET6_STRLEN];
	const char *proto;
	char pbuf[16];

	if (!t->valid) {
		if (t->ethertype == 0x0806)
			snprintf(buf, sz, "arp");
		else if (t->ethertype)
			snprintf(buf, sz, "ethertype %#06x", t->ethertype);
		else
			snprintf(buf, sz, "-");
		return;
	}
	if (t->v6) {
		retisc_inet__ntop6(s, t->src);
		retisc_inet__ntop6(d, t->dst);
	} else {
		retisc_inet__ntop4(s, t->src);
		retisc_inet__ntop4(d, t->dst);
	}
	switch (t->proto) {
	case 6:
		proto = "tcp";
		break;
	case 17:
		proto = "udp";
		break;
	case 132:
		proto = "sctp";
		break;
	case 1:
		proto = "icmp";
		break;
	case 58:
		proto = "icmp6";
		break;
	default:
		snprintf(pbuf, sizeof(pbuf), "proto %u", t->proto);
		proto = pbuf;
	}
	if (t->proto == 6 || t->proto == 17 || t->proto == 132) {
		if (t->v6)
			snprintf(buf, sz, "%s [%s]:%u %s [%s]:%u", proto, s, t->sport, sep, d,
				 t->dport);
		else
			snprintf(buf, sz, "%s %s:%u %s %s:%u", proto, s, t->sport, sep, d,
				 t->dport);
	} else if (t->icmp_type != 0xff && t->sport) {
		snprintf(buf, sz, "%s %s %s %s id %u", proto, s, sep, d, t->sport);
	} else {
		snprintf(buf, sz, "%s %s %s %s", proto, s, sep, d);
	}
}

static bool is_echo(uint8_t proto, uint8_t type)
{
	return (proto == 1 && (type == 8 || type == 0)) ||
	       (proto == 58 && (type == 128 || type == 129));
}

/* Ethernet (VLAN tags skipped) / IPv4 / IPv6 / transport, doc/events.md §4.7. */
static void tuple_from_packet(const uint8_t *p, size_t n, struct retisc_xp_tuple *t)
{
	size_t off = 14, l4;
	uint16_t et;

	memset(t, 0, sizeof(*t));
	t->icmp_type = 0xff;
	if (n < 14)
		return;
	et = (uint16_t)(p[12] << 8 | p[13]);
	while ((et == 0x8100 || et == 0x88a8) && off + 4 <= n) {
		et = (uint16_t)(p[off + 2] << 8 | p[off + 3]);
		off += 4;
	}
	if (et == 0x0800 && off + 20 <= n) {
		t->proto = p[off + 9];
		memcpy(t->src, p + off + 12, 4);
		memcpy(t->dst, p + off + 16, 4);
		l4 = off + (size_t)(p[off] & 0xf) * 4;
		/* Later fragments carry no transport header. */
		if ((p[off + 6] & 0x1f) || p[off + 7])
			l4 = n;
	} else if (et == 0x86dd && off + 40 <= n) {
		t->v6 = true;
		t->proto = p[off + 6];
		memcpy(t->src, p + off + 8, 16);
		memcpy(t->dst, p + off + 24, 16);
		l4 = off + 40;
		/* Hop-by-hop, routing and destination options headers. */
		while ((t->proto == 0 || t->proto == 43 || t->proto == 60) && l4 + 8 <= n) {
			t->proto = p[l4];
			l4 += (size_t)(p[l4 + 1] + 1) * 8;
		}
	} else {
		t->ethertype = et;
		return;
	}
	t->valid = true;
	if ((t->proto == 6 || t->proto == 17 || t->proto == 132) && l4 + 4 <= n) {
		t->sport = (uint16_t)(p[l4] << 8 | p[l4 + 1]);
		t->dport = (uint16_t)(p[l4 + 2] << 8 | p[l4 + 3]);
	} else if ((t->proto == 1 || t->proto == 58) && l4 + 8 <= n) {
		t->icmp_type = p[l4];
		if (is_echo(t->proto, p[l4]))
			t->sport = t->dport = (uint16_t)(p[l4 + 4] << 8 | p[l4 + 5]);
	}
}

static bool tuple_same(const struct retisc_xp_tuple *a, const struct retisc_xp_tuple *b)
{
	return a->valid == b->valid && a->v6 == b->v6 && a->proto == b->proto &&
	       !memcmp(a->src, b->src, 16) && !memcmp(a->dst, b->dst, 16) && a->sport == b->sport &&
	       a->dport == b->dport;
}

/* Both directions of a connection give the same key. */
static void tuple_normalise(const struct retisc_xp_tuple *in, struct retisc_xp_tuple *out)
{
	int c;

	*out = *in;
	/* ICMP: echo by id, anything else (errors) by addresses only. */
	if (out->proto == 1 || out->proto == 58) {
		if (!is_echo(out->proto, out->icmp_type))
			out->sport = out->dport = 0;
		out->icmp_type = out->sport ? 8 : 0xff;
	} else {
		out->icmp_type = 0xff;
	}
	c = memcmp(in->src, in->dst, 16);
	if (c > 0 || (!c && in->sport > in->dport)) {
		memcpy(out->src, in->dst, 16);
		memcpy(out->dst, in->src, 16);
		out->sport = in->dport;
		out->dport = in->sport;
	}
}

static void addr_parse(const char *s, struct retisc_xp_tuple *t, uint8_t *dst)
{
	if (!s)
		return;
	if (strchr(s, ':')) {
		t->v6 = true;
		if (inet_pton(AF_INET6, s, dst) != 1)
			t->valid = false;
	} else if (inet_pton(AF_INET, s, dst) != 1) {
		t->valid = false;
	}
}

/* A ct tuple (doc/events.md §4.14). */
static void tuple_from_ct(const struct retisc_api *api, const struct retisc_json *ct,
			  struct retisc_xp_tuple *t)
{
	const struct retisc_json *ip = api->json_obj_get(ct, "ip");
	const struct retisc_json *proto = api->json_obj_get(ct, "proto");
	const struct retisc_json *p;
	uint64_t v;

	memset(t, 0, sizeof(*t));
	t->icmp_type = 0xff;
	if (!ip || !proto)
		return;
	t->valid = true;
	addr_parse(api->json_get_str(api->json_obj_get(ip, "src"), NULL), t, t->src);
	addr_parse(api->json_get_str(api->json_obj_get(ip, "dst"), NULL), t, t->dst);
	if ((p = api->json_obj_get(proto, "tcp")))
		t->proto = 6;
	else if ((p = api->json_obj_get(proto, "udp")))
		t->proto = 17;
	else if ((p = api->json_obj_get(proto, "sctp")))
		t->proto = 132;
	else if ((p = api->json_obj_get(proto, "icmp")))
		t->proto = t->v6 ? 58 : 1;
	else
		t->valid = false;
	if (t->proto == 1 || t->proto == 58) {
		if (api->json_get_u64(api->json_obj_get(p, "type"), &v))
			t->icmp_type = (uint8_t)v;
		if (api->json_get_u64(api->json_obj_get(p, "id"), &v))
			t->sport = t->dport = (uint16_t)v;
	} else if (p) {
		if (api->json_get_u64(api->json_obj_get(p, "sport"), &v))
			t->sport = (uint16_t)v;
		if (api->json_get_u64(api->json_obj_get(p, "dport"), &v))
			t->dport = (uint16_t)v;
	}
}

/* ------------------------------------------------------------------------
 * Events.
 */

enum ev_class {
	EV_OTHER,
	EV_RX,
	EV_LOCAL_IN,
	EV_FORWARD,
	EV_OUTPUT,
	EV_XMIT,
	EV_QUEUE,
	EV_NETFILTER,
	EV_TC,
	EV_OVS,
	EV_SOCKET,
	EV_CONSUME,
	EV_DROP,
	/* No probe: the nft collector's trace messages (doc/collectors.md
	 * §7.7). Their time is when userspace read them, so they never end a
	 * series nor time a hop. */
	EV_NETLINK,
};

/* Probe names (function, or tracepoint event without its group). */
static const struct {
	const char *name;
	enum ev_class cls;
} probe_classes[] = {
	{"netif_receive_skb", EV_RX},
	{"netif_receive_skb_entry", EV_RX},
	{"netif_receive_skb_list_entry", EV_RX},
	{"netif_rx", EV_RX},
	{"netif_rx_entry", EV_RX},
	{"napi_gro_receive_entry", EV_RX},
	{"napi_gro_frags_entry", EV_RX},
	{"__netif_receive_skb_core", EV_RX},
	{"__netif_receive_skb", EV_RX},
	{"ip_rcv", EV_RX},
	{"ip_rcv_core", EV_RX},
	{"ip_rcv_finish", EV_RX},
	{"ipv6_rcv", EV_RX},
	{"ip6_rcv_finish", EV_RX},
	{"ip_local_deliver", EV_LOCAL_IN},
	{"ip_local_deliver_finish", EV_LOCAL_IN},
	{"ip6_input", EV_LOCAL_IN},
	{"ip6_input_finish", EV_LOCAL_IN},
	{"tcp_v4_rcv", EV_LOCAL_IN},
	{"tcp_v6_rcv", EV_LOCAL_IN},
	{"udp_rcv", EV_LOCAL_IN},
	{"udpv6_rcv", EV_LOCAL_IN},
	{"icmp_rcv", EV_LOCAL_IN},
	{"ip_forward", EV_FORWARD},
	{"ip_forward_finish", EV_FORWARD},
	{"ip6_forward", EV_FORWARD},
	{"ip6_forward_finish", EV_FORWARD},
	{"ip_output", EV_OUTPUT},
	{"ip_finish_output", EV_OUTPUT},
	{"ip_finish_output2", EV_OUTPUT},
	{"ip6_output", EV_OUTPUT},
	{"ip6_finish_output", EV_OUTPUT},
	{"ip6_finish_output2", EV_OUTPUT},
	{"ip_local_out", EV_OUTPUT},
	{"__ip_local_out", EV_OUTPUT},
	{"neigh_resolve_output", EV_OUTPUT},
	{"__neigh_event_send", EV_OUTPUT},
	{"net_dev_queue", EV_QUEUE},
	{"qdisc_enqueue", EV_QUEUE},
	{"dev_queue_xmit", EV_QUEUE},
	{"__dev_queue_xmit", EV_QUEUE},
	{"net_dev_start_xmit", EV_XMIT},
	{"net_dev_xmit", EV_XMIT},
	{"qdisc_dequeue", EV_XMIT},
	{"dev_hard_start_xmit", EV_XMIT},
	{"nf_hook_slow", EV_NETFILTER},
	{"nft_do_chain", EV_NETFILTER},
	{"__nft_trace_packet", EV_NETFILTER},
	{"tcf_classify", EV_TC},
	{"sch_handle_ingress", EV_TC},
	{"sch_handle_egress", EV_TC},
	{"tcx_run", EV_TC},
	{"ovs_dp_process_packet", EV_OVS},
	{"ovs_dp_upcall", EV_OVS},
	{"ovs_execute_actions", EV_OVS},
	{"ovs_vport_receive", EV_OVS},
	{"skb_copy_datagram_iovec", EV_SOCKET},
	{"skb_copy_datagram_iter", EV_SOCKET},
	{"tcp_queue_rcv", EV_SOCKET},
	{"tcp_data_queue", EV_SOCKET},
	{"__udp_enqueue_schedule_skb", EV_SOCKET},
	{"sock_queue_rcv_skb", EV_SOCKET},
	{"__sock_queue_rcv_skb", EV_SOCKET},
	{"sock_queue_rcv_skb_reason", EV_SOCKET},
	{"tcp_recvmsg", EV_SOCKET},
	{"udp_recvmsg", EV_SOCKET},
	{"consume_skb", EV_CONSUME},
	{"__consume_stateless_skb", EV_CONSUME},
	{"kfree_skb", EV_DROP},
	{"kfree_skb_reason", EV_DROP},
	{"sk_skb_reason_drop", EV_DROP},
};

/* Events are sorted by value: the function name is an offset into sym. */
#define EV_FN(e) ((e)->sym + (e)->fn_off)

struct ev {
	uint64_t ts;
	size_t order;
	enum ev_class cls;
	char sym[64];  /* as in the file */
	size_t fn_off; /* sym + fn_off: sym without a tracepoint group */
	bool has_ns, has_dev;
	uint64_t netns;
	char dev[24];
	struct retisc_xp_tuple pkt;
	struct retisc_xp_tuple ct_orig, ct_reply;
	char ct_state[24];
	bool drop;
	char reason[64];
	char stack_fn[96];
	char nft[160];
	bool nft_drop;
	uint64_t lost;
	char comm[24];
	int64_t pid;
	char ovs_type[24];
	int64_t ovs_ret;
	bool ovs_has_ret;
	char ovs_action[48];
};

static const char *jstr(const struct retisc_api *api, const struct retisc_json *o, const char *k)
{
	return api->json_get_str(api->json_obj_get(o, k), NULL);
}

static void copy(char *dst, size_t sz, const char *src)
{
	snprintf(dst, sz, "%s", src ? src : "");
}

static enum ev_class classify(const char *fn)
{
	for (size_t i = 0; i < sizeof(probe_classes) / sizeof(probe_classes[0]); i++)
		if (!strcmp(probe_classes[i].name, fn))
			return probe_classes[i].cls;
	return EV_OTHER;
}

/* The function that freed the packet: the first stack frame that is not
 * the freeing machinery itself. */
static void stack_function(const struct retisc_api *api, const struct retisc_json *st, char *out,
			   size_t sz)
{
	size_t n = api->json_arr_len(st);

	for (size_t i = 0; i < n; i++) {
		const char *f = api->json_get_str(api->json_arr_get(st, i), NULL);
		size_t len;

		if (!f)
			continue;
		len = strcspn(f, "+");
		if (!strncmp(f, "kfree_skb", 9) || !strncmp(f, "sk_skb_reason_drop", 18) ||
		    !strncmp(f, "__kfree_skb", 11) || !strncmp(f, "skb_release", 11) ||
		    !strncmp(f, "bpf_", 4) || !strncmp(f, "0x", 2))
			continue;
		snprintf(out, sz, "%.*s", (int)len, f);
		return;
	}
}

static void ev_read(const struct retisc_api *api, const struct retisc_json *e, size_t order,
		    struct ev *v)
{
	const struct retisc_json *probe = api->json_obj_get(e, "kernel");
	const struct retisc_json *o, *task;
	const char *s;
	size_t len;
	uint64_t u;
	int64_t i;

	memset(v, 0, sizeof(*v));
	v->order = order;
	v->pkt.icmp_type = 0xff;
	api->json_get_u64(api->json_obj_get(api->json_obj_get(e, "common"), "timestamp"), &v->ts);
	task = api->json_obj_get(api->json_obj_get(e, "common"), "task");
	copy(v->comm, sizeof(v->comm), jstr(api, task, "comm"));
	if (api->json_get_i64(api->json_obj_get(task, "tgid"), &i))
		v->pid = i;
	if (!probe)
		probe = api->json_obj_get(e, "userspace");
	copy(v->sym, sizeof(v->sym), jstr(api, probe, "symbol"));
	if (!v->sym[0] && api->json_obj_get(api->json_obj_get(e, "nft"), "trace_id"))
		copy(v->sym, sizeof(v->sym), "nf_tables:trace");
	s = jstr(api, probe, "probe_type");
	if (s && !strcmp(s, "raw_tracepoint") && strchr(v->sym, ':'))
		v->fn_off = (size_t)(strchr(v->sym, ':') + 1 - v->sym);
	v->cls = probe ? classify(EV_FN(v)) : EV_NETLINK;
	stack_function(api, api->json_obj_get(probe, "stack_trace"), v->stack_fn,
		       sizeof(v->stack_fn));

	o = api->json_obj_get(e, "netns");
	v->has_ns = api->json_get_u64(api->json_obj_get(o, "inum"), &v->netns);
	o = api->json_obj_get(e, "dev");
	s = jstr(api, o, "name");
	if (s && *s) {
		copy(v->dev, sizeof(v->dev), s);
		v->has_dev = true;
	} else if (api->json_get_u64(api->json_obj_get(o, "ifindex"), &u)) {
		snprintf(v->dev, sizeof(v->dev), "if%" PRIu64, u);
		v->has_dev = true;
	}

	o = api->json_obj_get(e, "packet");
	s = api->json_get_str(api->json_obj_get(o, "data"), &len);
	if (s) {
		uint8_t buf[512];
		ssize_t n = retisc_base64__decode(s, len, buf, sizeof(buf));

		if (n > 0)
			tuple_from_packet(buf, (size_t)n, &v->pkt);
	}

	o = api->json_obj_get(e, "skb-drop");
	s = jstr(api, o, "drop_reason");
	if (s) {
		const char *sub = jstr(api, o, "subsys");

		if (sub)
			snprintf(v->reason, sizeof(v->reason), "%s/%s", sub, s);
		else
			copy(v->reason, sizeof(v->reason), s);
		/* A consumed skb is a normal end of life, not a drop. */
		if (!strcmp(v->reason, "CONSUMED"))
			v->cls = EV_CONSUME;
		else
			v->drop = true;
	}

	o = api->json_obj_get(e, "nft");
	if (o) {
		const char *verdict = jstr(api, o, "verdict");
		int64_t h;

		if (api->json_get_i64(api->json_obj_get(o, "rule_handle"), &h))
			snprintf(v->nft, sizeof(v->nft), "table %s chain %s handle %" PRId64 " %s",
				 jstr(api, o, "table_name") ?: "?",
				 jstr(api, o, "chain_name") ?: "?", h, verdict ?: "?");
		else
			snprintf(v->nft, sizeof(v->nft), "table %s chain %s %s",
				 jstr(api, o, "table_name") ?: "?",
				 jstr(api, o, "chain_name") ?: "?", verdict ?: "?");
		{
			bool pol = false;

			api->json_get_bool(api->json_obj_get(o, "policy"), &pol);
			if (pol && strlen(v->nft) + 10 < sizeof(v->nft))
				strcat(v->nft, " (policy)");
		}
		v->nft_drop = verdict && !strcmp(verdict, "drop");
	}

	o = api->json_obj_get(e, "ct");
	if (o) {
		copy(v->ct_state, sizeof(v->ct_state), jstr(api, o, "state"));
		tuple_from_ct(api, api->json_obj_get(o, "orig"), &v->ct_orig);
		tuple_from_ct(api, api->json_obj_get(o, "reply"), &v->ct_reply);
	}

	api->json_get_u64(api->json_obj_get(api->json_obj_get(e, "skb-tracking"), "lost"),
			  &v->lost);

	o = api->json_obj_get(e, "ovs");
	if (o) {
		copy(v->ovs_type, sizeof(v->ovs_type), jstr(api, o, "event_type"));
		v->ovs_has_ret = api->json_get_i64(api->json_obj_get(o, "ret"), &v->ovs_ret);
		s = jstr(api, o, "action");
		if (s && api->json_get_u64(api->json_obj_get(o, "port"), &u))
			snprintf(v->ovs_action, sizeof(v->ovs_action), "%s %" PRIu64, s, u);
		else
			copy(v->ovs_action, sizeof(v->ovs_action), s);
		if (s && !strcmp(s, "drop")) {
			v->drop = true;
			if (api->json_get_u64(api->json_obj_get(o, "reason"), &u))
				snprintf(v->reason, sizeof(v->reason),
					 "openvswitch/action drop %" PRIu64, u);
			else
				copy(v->reason, sizeof(v->reason), "openvswitch/action drop");
		}
		if (v->cls == EV_OTHER)
			v->cls = EV_OVS;
	}
}

/* "#<id>" as the text shows a tracking id (doc/events.md §4.4). */
static bool series_id(const struct retisc_api *api, const struct retisc_json *e, char *out,
		      size_t sz)
{
	const struct retisc_json *t = api->json_obj_get(api->json_obj_get(e, "tracking"), "skb");
	uint64_t ts, head;

	if (!t)
		t = api->json_obj_get(e, "skb-tracking");
	if (!api->json_get_u64(api->json_obj_get(t, "timestamp"), &ts) ||
	    !api->json_get_u64(api->json_obj_get(t, "orig_head"), &head))
		return false;
	if (ts)
		snprintf(out, sz, "%" PRIx64 "%016" PRIx64, ts, head);
	else
		snprintf(out, sz, "%" PRIx64, head);
	return true;
}

/* ------------------------------------------------------------------------
 * State.
 */

struct retisc_xp {
	const struct retisc_api *api;
	struct retisc_xp_opts opts;
	retisc_xp_verdict_fn fn, seen;
	void *ctx;
	uint64_t now; /* largest event time read */
	uint64_t next_index;
	struct retisc_xp_totals tot;
	/* Flows, with an open-addressing index (slots hold index + 1). */
	struct retisc_xp_flow *flows;
	size_t n_flows, cap_flows;
	size_t *slots;
	size_t n_slots;
	size_t other; /* SIZE_MAX until needed */
	/* Verdicts held back, a ring. */
	struct retisc_xp_verdict *q;
	size_t q_head, q_len, q_cap;
	struct ev *evs;
	size_t cap_evs;
};

struct retisc_xp *retisc_xp__new(const struct retisc_api *api, const struct retisc_xp_opts *opts,
				 retisc_xp_verdict_fn fn, void *ctx)
{
	struct retisc_xp *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->api = api;
	x->opts = *opts;
	if (!x->opts.max_pending)
		x->opts.max_pending = 4096;
	x->fn = fn;
	x->ctx = ctx;
	x->other = SIZE_MAX;
	x->q_cap = x->opts.max_pending;
	x->q = calloc(x->q_cap, sizeof(*x->q));
	if (!x->q) {
		free(x);
		errno = ENOMEM;
		return NULL;
	}
	return x;
}

static void flow_release(struct retisc_xp_flow *f)
{
	free(f->drops);
	free(f->nats);
	free(f->hops);
}

void retisc_xp__free(struct retisc_xp *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->n_flows; i++)
		flow_release(&x->flows[i]);
	free(x->flows);
	free(x->slots);
	free(x->q);
	free(x->evs);
	free(x->tot.drops);
	free(x->tot.hops);
	free(x);
}

const struct retisc_xp_totals *retisc_xp__totals(const struct retisc_xp *x)
{
	return &x->tot;
}

size_t retisc_xp__n_flows(const struct retisc_xp *x)
{
	return x->n_flows;
}

const struct retisc_xp_flow *retisc_xp__flow(const struct retisc_xp *x, size_t i)
{
	return i < x->n_flows ? &x->flows[i] : NULL;
}

void retisc_xp__saw_event(struct retisc_xp *x, const struct retisc_json *ev)
{
	uint64_t ts;

	if (x->api->json_obj_get(ev, "startup"))
		return;
	if (x->api->json_get_u64(
		    x->api->json_obj_get(x->api->json_obj_get(ev, "common"), "timestamp"), &ts) &&
	    ts > x->now)
		x->now = ts;
}

static int named_add(struct retisc_xp_named **v, size_t *n, const char *name, size_t max)
{
	struct retisc_xp_named *nv;

	for (size_t i = 0; i < *n; i++) {
		if (!strcmp((*v)[i].name, name)) {
			(*v)[i].n++;
			return 0;
		}
	}
	if (max && *n >= max)
		name = "(others)";
	for (size_t i = 0; i < *n; i++) {
		if (!strcmp((*v)[i].name, name)) {
			(*v)[i].n++;
			return 0;
		}
	}
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	copy(nv[*n].name, sizeof(nv[*n].name), name);
	nv[*n].n = 1;
	(*n)++;
	return 0;
}

static int hop_add(struct retisc_xp_hop **v, size_t *n, uint64_t *dropped, const char *label,
		   uint64_t ns, size_t max)
{
	struct retisc_xp_hop *nv;

	for (size_t i = 0; i < *n; i++) {
		if (!strcmp((*v)[i].label, label)) {
			retisc_xp_hist__add(&(*v)[i].hist, ns);
			return 0;
		}
	}
	if (*n >= max) {
		(*dropped)++;
		return 0;
	}
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	memset(&nv[*n], 0, sizeof(nv[*n]));
	copy(nv[*n].label, sizeof(nv[*n].label), label);
	retisc_xp_hist__add(&nv[*n].hist, ns);
	(*n)++;
	return 0;
}

static uint64_t tuple_hash(const struct retisc_xp_tuple *t)
{
	uint64_t h = 1469598103934665603ULL;
	const uint8_t *parts[2] = {t->src, t->dst};

	for (int p = 0; p < 2; p++)
		for (int i = 0; i < 16; i++)
			h = (h ^ parts[p][i]) * 1099511628211ULL;
	h = (h ^ t->proto) * 1099511628211ULL;
	h = (h ^ t->sport) * 1099511628211ULL;
	h = (h ^ t->dport) * 1099511628211ULL;
	return h;
}

static int slots_grow(struct retisc_xp *x)
{
	size_t ns = x->n_slots ? x->n_slots * 2 : 256;
	size_t *s = calloc(ns, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < x->n_flows; i++) {
		size_t j;

		if (x->flows[i].other)
			continue;
		j = tuple_hash(&x->flows[i].key) & (ns - 1);
		while (s[j])
			j = (j + 1) & (ns - 1);
		s[j] = i + 1;
	}
	free(x->slots);
	x->slots = s;
	x->n_slots = ns;
	return 0;
}

static int flow_append(struct retisc_xp *x, size_t *out)
{
	if (x->n_flows == x->cap_flows) {
		size_t nc = x->cap_flows ? x->cap_flows * 2 : 64;
		struct retisc_xp_flow *nf = realloc(x->flows, nc * sizeof(*nf));

		if (!nf)
			return -ENOMEM;
		x->flows = nf;
		x->cap_flows = nc;
	}
	memset(&x->flows[x->n_flows], 0, sizeof(x->flows[0]));
	*out = x->n_flows++;
	return 0;
}

/* The flow of key (normalised), created if needed; the overflow flow when
 * --max-flows is reached. */
static int flow_get(struct retisc_xp *x, const struct retisc_xp_tuple *key, size_t *out)
{
	size_t j;
	int err;

	if (x->n_slots && (x->n_flows + 1) * 2 <= x->n_slots) {
		j = tuple_hash(key) & (x->n_slots - 1);
		while (x->slots[j]) {
			if (tuple_same(&x->flows[x->slots[j] - 1].key, key)) {
				*out = x->slots[j] - 1;
				return 0;
			}
			j = (j + 1) & (x->n_slots - 1);
		}
	} else {
		err = slots_grow(x);
		if (err)
			return err;
		return flow_get(x, key, out);
	}
	if (x->opts.max_flows && x->n_flows >= x->opts.max_flows) {
		if (x->other == SIZE_MAX) {
			err = flow_append(x, &x->other);
			if (err)
				return err;
			x->flows[x->other].other = true;
		}
		*out = x->other;
		return 0;
	}
	err = flow_append(x, out);
	if (err)
		return err;
	x->flows[*out].key = *key;
	x->slots[j] = *out + 1;
	return 0;
}

static int ev_cmp(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void where_of(const struct ev *e, char *out, size_t sz)
{
	if (e->has_dev && e->has_ns)
		snprintf(out, sz, "%s in netns %" PRIu64, e->dev, e->netns);
	else if (e->has_dev)
		snprintf(out, sz, "%s", e->dev);
	else if (e->has_ns)
		snprintf(out, sz, "netns %" PRIu64, e->netns);
	else
		out[0] = '\0';
}

static void hop_name(const struct ev *e, char *out, size_t sz)
{
	if (e->has_dev)
		snprintf(out, sz, "%s(%s)", EV_FN(e), e->dev);
	else
		snprintf(out, sz, "%s", EV_FN(e));
}

static int hint_of(enum ev_class c)
{
	switch (c) {
	case EV_RX:
		return HINT_RX;
	case EV_LOCAL_IN:
		return HINT_LOCAL_IN;
	case EV_FORWARD:
		return HINT_FORWARD;
	case EV_OUTPUT:
		return HINT_OUTPUT;
	case EV_QUEUE:
		return HINT_QUEUE;
	case EV_NETFILTER:
		return HINT_NETFILTER;
	case EV_TC:
		return HINT_TC;
	case EV_OVS:
		return HINT_OVS;
	case EV_SOCKET:
		return HINT_SOCKET;
	default:
		return HINT_OTHER;
	}
}

static void addr_port(const struct retisc_xp_tuple *t, bool dst, char *out, size_t sz)
{
	char a[RETISC_INET6_STRLEN];
	const uint8_t *ip = dst ? t->dst : t->src;
	uint16_t port = dst ? t->dport : t->sport;

	if (t->v6)
		retisc_inet__ntop6(a, ip);
	else
		retisc_inet__ntop4(a, ip);
	if (t->proto == 6 || t->proto == 17 || t->proto == 132)
		snprintf(out, sz, t->v6 ? "[%s]:%u" : "%s:%u", a, port);
	else
		snprintf(out, sz, "%s", a);
}

/* "src A -> B" and/or "dst A -> B" between two tuples of one packet. */
static void nat_between(const struct retisc_xp_tuple *a, const struct retisc_xp_tuple *b, char *out,
			size_t sz)
{
	char x[64], y[64];
	size_t len = 0;

	out[0] = '\0';
	if (memcmp(a->src, b->src, 16) || a->sport != b->sport) {
		addr_port(a, false, x, sizeof(x));
		addr_port(b, false, y, sizeof(y));
		len += (size_t)snprintf(out, sz, "src %s -> %s", x, y);
	}
	if (len < sz && (memcmp(a->dst, b->dst, 16) || a->dport != b->dport)) {
		addr_port(a, true, x, sizeof(x));
		addr_port(b, true, y, sizeof(y));
		snprintf(out + len, sz - len, "%sdst %s -> %s", len ? ", " : "", x, y);
	}
}

/* What conntrack says it rewrites, for packets seen without their bytes
 * on both sides of the NAT: orig.dst vs reply.src, orig.src vs reply.dst. */
static void nat_from_ct(const struct ev *e, char *out, size_t sz)
{
	struct retisc_xp_tuple want;

	out[0] = '\0';
	if (!e->ct_orig.valid || !e->ct_reply.valid || e->ct_orig.proto == 1)
		return;
	want = e->ct_orig;
	memcpy(want.dst, e->ct_reply.src, 16);
	want.dport = e->ct_reply.sport;
	memcpy(want.src, e->ct_reply.dst, 16);
	want.sport = e->ct_reply.dport;
	nat_between(&e->ct_orig, &want, out, sz);
}

static int finalize(struct retisc_xp *x, struct retisc_xp_verdict *v, bool at_end)
{
	struct retisc_xp_flow *f = v->flow != SIZE_MAX ? &x->flows[v->flow] : NULL;
	int err = 0;

	if (v->pending) {
		v->pending = false;
		/* In flight: last seen less than the window before the end. */
		if (at_end && x->now - v->last_ts < x->opts.window_ns) {
			v->fate = RETISC_FATE_IN_FLIGHT;
			snprintf(v->detail, sizeof(v->detail),
				 "last seen at %s%s%s %.3f ms before the end of the collection",
				 v->last_sym, v->where[0] ? " on " : "", v->where,
				 (double)(x->now - v->last_ts) / 1e6);
		} else {
			v->fate = RETISC_FATE_VANISHED;
		}
	}
	x->tot.fates[v->fate]++;
	if (f) {
		f->fates[v->fate]++;
		if (v->drop_reason[0] && v->fate == RETISC_FATE_DROPPED)
			err = named_add(&f->drops, &f->n_drops, v->drop_reason,
					RETISC_XP_MAX_NAMED);
	}
	if (!err && v->drop_reason[0] && v->fate == RETISC_FATE_DROPPED)
		err = named_add(&x->tot.drops, &x->tot.n_drops, v->drop_reason, 64);
	return err;
}

/* Hand out held verdicts whose fate is known; all of them at the end. */
static int drain(struct retisc_xp *x, bool at_end)
{
	int err;

	while (x->q_len) {
		struct retisc_xp_verdict *v = &x->q[x->q_head];

		if (!at_end && v->pending && x->now - v->last_ts < x->opts.window_ns &&
		    x->q_len < x->q_cap)
			break;
		err = finalize(x, v, at_end);
		if (!err)
			err = x->fn(x->ctx, v, NULL);
		x->q_head = (x->q_head + 1) % x->q_cap;
		x->q_len--;
		if (err)
			return err;
	}
	return 0;
}

static void decide(struct retisc_xp_verdict *v, const struct ev *evs, size_t n)
{
	const struct ev *last = &evs[n - 1], *sock = NULL, *upcall = NULL, *port = NULL;
	const struct ev *ret = NULL, *reinj = NULL;
	uint64_t fwd_ns = 0;
	bool fwd = false;
	char w[160];

	for (size_t i = n; i-- > 0;) {
		if (evs[i].cls != EV_NETLINK) {
			last = &evs[i];
			break;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (evs[i].cls == EV_SOCKET)
			sock = &evs[i];
		if (!strcmp(evs[i].ovs_type, "upcall") && !upcall)
			upcall = &evs[i];
		if (!strcmp(evs[i].ovs_type, "upcall_return"))
			ret = &evs[i];
		if (upcall && &evs[i] > upcall && !strcmp(evs[i].ovs_type, "action_execute"))
			reinj = &evs[i];
		if (evs[i].cls == EV_RX || evs[i].cls == EV_XMIT || evs[i].cls == EV_LOCAL_IN)
			port = &evs[i];
		/* Forwarded: received, then sent, in the same netns on another device. */
		for (size_t j = 0; evs[i].cls == EV_XMIT && evs[i].has_ns && j < i; j++)
			if (evs[j].cls == EV_RX && evs[j].has_ns && evs[j].netns == evs[i].netns &&
			    strcmp(evs[j].dev, evs[i].dev)) {
				fwd = true;
				fwd_ns = evs[i].netns;
			}
		if (evs[i].nft[0] && (evs[i].nft_drop || !v->nft[0]))
			copy(v->nft, sizeof(v->nft), evs[i].nft);
		if (evs[i].ct_state[0])
			copy(v->ct_state, sizeof(v->ct_state), evs[i].ct_state);
	}
	copy(v->last_sym, sizeof(v->last_sym), last->sym);
	where_of(last, v->where, sizeof(v->where));
	v->hint = -1;

	if (last->drop) {
		v->fate = RETISC_FATE_DROPPED;
		copy(v->drop_reason, sizeof(v->drop_reason), last->reason);
		copy(v->drop_fn, sizeof(v->drop_fn),
		     last->stack_fn[0] ? last->stack_fn : last->sym);
		v->drop_hint = retisc_xp_drop_hint(last->reason);
		snprintf(v->detail, sizeof(v->detail), "%s at %s%s%s", last->reason, v->drop_fn,
			 v->where[0] ? " on " : "", v->where);
	} else if (sock) {
		v->fate = RETISC_FATE_DELIVERED;
		/* The socket's event has no device: say where the packet came in. */
		where_of(port ? port : sock, v->where, sizeof(v->where));
		if (port)
			snprintf(w, sizeof(w), ", after %s on %s", EV_FN(port), v->where);
		else
			snprintf(w, sizeof(w), "%s%s", v->where[0] ? " in " : "", v->where);
		snprintf(v->detail, sizeof(v->detail),
			 "to a local socket read by %s[%" PRId64 "]%s",
			 sock->comm[0] ? sock->comm : "?", sock->pid, w);
	} else if (upcall) {
		v->fate = RETISC_FATE_UPCALLED;
		if (reinj)
			snprintf(v->detail, sizeof(v->detail),
				 "to ovs-vswitchd, re-injected (exec %s)%s%s",
				 reinj->ovs_action[0] ? reinj->ovs_action : "?",
				 last->cls == EV_XMIT && last->has_dev ? ", then sent on " : "",
				 last->cls == EV_XMIT && last->has_dev ? last->dev : "");
		else if (ret && ret->ovs_has_ret && ret->ovs_ret)
			snprintf(v->detail, sizeof(v->detail),
				 "to ovs-vswitchd, upcall failed (ret %" PRId64
				 "%s), not re-injected",
				 ret->ovs_ret,
				 ret->ovs_ret == -107 ? ": no ovs-vswitchd listening" : "");
		else
			snprintf(v->detail, sizeof(v->detail),
				 "to ovs-vswitchd, no re-injection seen");
	} else if (last->cls == EV_CONSUME && port && port->cls != EV_XMIT) {
		v->fate = RETISC_FATE_DELIVERED;
		where_of(port, v->where, sizeof(v->where));
		snprintf(v->detail, sizeof(v->detail), "consumed locally after %s%s%s", EV_FN(port),
			 v->where[0] ? " on " : "", v->where);
	} else if ((last->cls == EV_CONSUME && port) || last->cls == EV_XMIT) {
		const struct ev *tx = last->cls == EV_XMIT ? last : port;

		v->fate = RETISC_FATE_TRANSMITTED;
		where_of(tx, v->where, sizeof(v->where));
		if (fwd)
			snprintf(v->detail, sizeof(v->detail),
				 "on %s (forwarded in netns %" PRIu64 ")", v->where, fwd_ns);
		else
			snprintf(v->detail, sizeof(v->detail), "on %s", v->where);
	} else if (last->cls == EV_CONSUME) {
		v->fate = RETISC_FATE_CONSUMED;
		snprintf(v->detail, sizeof(v->detail),
			 "freed normally at %s%s%s, no receive or transmit seen", last->sym,
			 v->where[0] ? " on " : "", v->where);
	} else {
		v->pending = true;
		v->hint = hint_of(last->cls);
		snprintf(v->detail, sizeof(v->detail), "last seen at %s%s%s", last->sym,
			 v->where[0] ? " on " : "", v->where);
	}

	if (v->lost) {
		char prev[sizeof(v->detail)];

		/* What was seen is reported, but the fate is not trusted. */
		if (v->pending)
			snprintf(prev, sizeof(prev), "%s", v->detail);
		else
			snprintf(prev, sizeof(prev), "then %s: %s", retisc_fate__name(v->fate),
				 v->detail);
		snprintf(v->detail, sizeof(v->detail), "%" PRIu64 " event(s) lost; %s", v->lost,
			 prev);
		v->fate = RETISC_FATE_INCOMPLETE;
		v->pending = false;
	}
}

int retisc_xp__series(struct retisc_xp *x, const struct retisc_json *series)
{
	const struct retisc_api *api = x->api;
	size_t n = api->json_arr_len(series);
	struct retisc_xp_verdict *v, local;
	const struct retisc_xp_tuple *first = NULL, *lastp = NULL;
	struct retisc_xp_tuple key;
	char prev[64], cur[64], label[sizeof(((struct retisc_xp_hop *)0)->label)];
	bool queue;
	int err;

	if (!n)
		return 0;
	if (n == 1 && api->json_obj_get(api->json_arr_get(series, 0), "startup")) {
		x->tot.startup++;
		return 0;
	}
	memset(&local, 0, sizeof(local));
	if (!series_id(api, api->json_arr_get(series, 0), local.id, sizeof(local.id))) {
		x->tot.untracked += n;
		x->tot.events += n;
		return 0;
	}
	if (n > x->cap_evs) {
		struct ev *ne = realloc(x->evs, n * sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		x->evs = ne;
		x->cap_evs = n;
	}
	for (size_t i = 0; i < n; i++) {
		ev_read(api, api->json_arr_get(series, i), i, &x->evs[i]);
		if (x->evs[i].ts > x->now)
			x->now = x->evs[i].ts;
		local.lost += x->evs[i].lost;
	}
	/* Ring buffers of different CPUs deliver out of order: time order. */
	qsort(x->evs, n, sizeof(*x->evs), ev_cmp);

	local.index = ++x->next_index;
	local.n_events = n;
	local.first_ts = x->evs[0].ts;
	local.last_ts = x->evs[n - 1].ts;
	local.flow = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		if (!x->evs[i].pkt.valid)
			continue;
		if (!first)
			first = &x->evs[i].pkt;
		lastp = &x->evs[i].pkt;
	}
	if (first)
		local.tuple = *first;
	decide(&local, x->evs, n);
	if (first && lastp && !tuple_same(first, lastp))
		nat_between(first, lastp, local.nat, sizeof(local.nat));
	for (size_t i = 0; !local.nat[0] && !first && i < n; i++)
		nat_from_ct(&x->evs[i], local.nat, sizeof(local.nat));

	x->tot.series++;
	x->tot.events += n;
	if (!x->tot.first_ts || local.first_ts < x->tot.first_ts)
		x->tot.first_ts = local.first_ts;
	if (local.last_ts > x->tot.last_ts)
		x->tot.last_ts = local.last_ts;

	/* The flow: conntrack's original tuple when known, both directions. */
	memset(&key, 0, sizeof(key));
	for (size_t i = 0; i < n && !key.valid; i++)
		if (x->evs[i].ct_orig.valid)
			tuple_normalise(&x->evs[i].ct_orig, &key);
	if (!key.valid && first)
		tuple_normalise(first, &key);
	if (key.valid) {
		struct retisc_xp_flow *f;

		err = flow_get(x, &key, &local.flow);
		if (err)
			return err;
		f = &x->flows[local.flow];
		f->packets++;
		if (local.nat[0]) {
			err = named_add(&f->nats, &f->n_nats, local.nat, RETISC_XP_MAX_NAMED);
			if (err)
				return err;
		}
		for (size_t i = 0, p = SIZE_MAX; i < n; i++) {
			const struct ev *a, *b = &x->evs[i];

			if (b->cls == EV_NETLINK)
				continue;
			if (p == SIZE_MAX) {
				p = i;
				continue;
			}
			a = &x->evs[p];
			p = i;
			hop_name(a, prev, sizeof(prev));
			hop_name(b, cur, sizeof(cur));
			snprintf(label, sizeof(label), "%s > %s", prev, cur);
			err = hop_add(&f->hops, &f->n_hops, &f->hops_dropped, label, b->ts - a->ts,
				      RETISC_XP_MAX_HOPS)
				      ?: hop_add(&x->tot.hops, &x->tot.n_hops, &x->tot.hops_dropped,
						 label, b->ts - a->ts, 64);
			if (err)
				return err;
		}
	}
	local.has_hops = n > 0;
	if (x->seen) {
		err = x->seen(x->ctx, &local, series);
		if (err)
			return err;
	}

	/* In series order: behind a held verdict, this one waits too. */
	queue = local.pending || x->q_len;
	if (!queue) {
		err = finalize(x, &local, false);
		return err ?: x->fn(x->ctx, &local, series);
	}
	if (x->q_len == x->q_cap) {
		err = drain(x, false);
		if (err)
			return err;
		if (x->q_len == x->q_cap) {
			/* Full: the oldest is decided with what is known now. */
			v = &x->q[x->q_head];
			err = finalize(x, v, false) ?: x->fn(x->ctx, v, NULL);
			x->q_head = (x->q_head + 1) % x->q_cap;
			x->q_len--;
			if (err)
				return err;
		}
	}
	v = &x->q[(x->q_head + x->q_len) % x->q_cap];
	*v = local;
	x->q_len++;
	return drain(x, false);
}

void retisc_xp__set_seen(struct retisc_xp *x, retisc_xp_verdict_fn seen)
{
	x->seen = seen;
}

int retisc_xp__steps(const struct retisc_api *api, const struct retisc_json *series,
		     struct retisc_xp_step **steps, size_t *n)
{
	size_t len = api->json_arr_len(series);
	struct retisc_xp_step *s;
	struct ev *evs;

	*steps = NULL;
	*n = 0;
	if (!len)
		return 0;
	evs = calloc(len, sizeof(*evs));
	s = calloc(len, sizeof(*s));
	if (!evs || !s) {
		free(evs);
		free(s);
		return -ENOMEM;
	}
	for (size_t i = 0; i < len; i++)
		ev_read(api, api->json_arr_get(series, i), i, &evs[i]);
	qsort(evs, len, sizeof(*evs), ev_cmp);
	for (size_t i = 0; i < len; i++) {
		struct retisc_xp_step *t = &s[i];
		const struct ev *e = &evs[i];

		t->ts = e->ts;
		copy(t->sym, sizeof(t->sym), e->sym);
		t->fn = t->sym + e->fn_off;
		t->has_ns = e->has_ns;
		t->has_dev = e->has_dev;
		t->netns = e->netns;
		copy(t->dev, sizeof(t->dev), e->dev);
		retisc_xp_tuple__fmt(&e->pkt, ">", t->packet, sizeof(t->packet));
		copy(t->reason, sizeof(t->reason), e->drop ? e->reason : "");
		copy(t->nft, sizeof(t->nft), e->nft);
		copy(t->ct_state, sizeof(t->ct_state), e->ct_state);
		copy(t->comm, sizeof(t->comm), e->comm);
		t->netlink = e->cls == EV_NETLINK;
	}
	free(evs);
	*steps = s;
	*n = len;
	return 0;
}

int retisc_xp__finish(struct retisc_xp *x)
{
	return drain(x, true);
}
