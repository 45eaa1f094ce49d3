// SPDX-License-Identifier: GPL-2.0-only
/*
 * skb hook (doc/collectors.md §3): the packet bytes from the Ethernet header
 * (or a synthetic one) and the struct sk_buff metadata sections selected by
 * --skb-sections. Generic hook, gate ALL.
 *
 * Fields of the sk_buff come from the core's copy of it (retisc/skb.bpf.h);
 * what it points to (packet bytes, shared info) takes probe reads: the skb
 * is a pointer the core took from a probe argument, not a BTF-typed pointer
 * the verifier trusts.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>

#include <retisc/hook.bpf.h>

#include "skb.h"

/* 1 << data type of each section to collect, set by the collector's init(). */
const volatile __u64 skb_sections = RETISC_SKB_SECTIONS_DEFAULT;

/*
 * Kernels 5.0 to 6.1 flag an offloaded VLAN tag with a 1-bit
 * skb->vlan_present ("net: remove VLAN_TAG_PRESENT", 5.0); 6.2 removed it
 * ("net: remove skb->vlan_present") in favour of testing vlan_all != 0.
 */
struct sk_buff___vlan_present {
	__u8 vlan_present : 1;
} __attribute__((preserve_access_index));

/* Before 5.0 the CFI bit of vlan_tci doubled as "tag present". */
#define VLAN_TAG_PRESENT_OLD 0x1000

/* Header offsets are u16 from skb->head; ~0 means unset (doc/filters.md §1.3). */
#define SKB_OFF_UNSET ((__u16)~0U)

struct skb_hdrs {
	__u16 mac;
	__u16 net;
	__u16 trans;
	__u16 mac_len;
};

static __always_inline bool mac_set(__u16 off)
{
	return off != SKB_OFF_UNSET;
}

/* A fresh skb has network_header 0, so 0 is "unset" for L3/L4. */
static __always_inline bool l3_set(__u16 off)
{
	return off && off != SKB_OFF_UNSET;
}

/*
 * Devices without a link-layer header reset the MAC header onto the network
 * header; mac_len then tells which of the two is really there.
 */
static __always_inline bool mac_data_valid(const struct skb_hdrs *x)
{
	return mac_set(x->mac) && !(l3_set(x->net) && x->net == x->mac && !x->mac_len);
}

static __always_inline bool net_data_valid(const struct skb_hdrs *x)
{
	return l3_set(x->net) && !(mac_set(x->mac) && x->mac == x->net && x->mac_len);
}

static __always_inline bool trans_data_valid(const struct skb_hdrs *x)
{
	return l3_set(x->trans) && !(l3_set(x->net) && x->net == x->trans);
}

/*
 * Copy n bytes (1..max) from src into dst. n is re-checked after the
 * compiler barrier so that the verifier sees its bounds on the register the
 * helper gets.
 */
static __always_inline int copy_bounded(void *dst, __s64 n, __u32 max, const void *src)
{
	__u32 sz = (__u32)n;

	barrier_var(sz);
	if (sz == 0 || sz > max)
		return -1;
	return bpf_probe_read_kernel(dst, sz, src);
}

/*
 * When skb->protocol is not set yet (transmit paths before it is filled),
 * guess the ethertype from the IP version nibble, accepting it only when
 * the transport header sits right after a base IPv4/IPv6 header.
 */
static __always_inline __be16 guess_etype(const unsigned char *head, const struct skb_hdrs *x)
{
	__u8 first;

	if (!trans_data_valid(x) || bpf_probe_read_kernel(&first, 1, head + x->net))
		return 0;
	if (first >> 4 == 4 && x->trans - x->net == 20)
		return bpf_htons(0x0800);
	if (first >> 4 == 6 && x->trans - x->net == 40)
		return bpf_htons(0x86dd);
	return 0;
}

static __always_inline void skb_packet(struct retisc_hook_ctx *h)
{
	const struct retisc_ctx *c = h->ctx;
	unsigned char *head = RETISC_SKB(c, head);
	__u64 data = (__u64)RETISC_SKB(c, data);
	__u32 len = RETISC_SKB(c, len);
	__s64 headroom = (__s64)(data - (__u64)head);
	__s64 linear = (__s64)len - RETISC_SKB(c, data_len);
	struct retisc_skb_packet *p;
	struct skb_hdrs x = {
		.mac = RETISC_SKB(c, mac_header),
		.net = RETISC_SKB(c, network_header),
		.trans = RETISC_SKB(c, transport_header),
		.mac_len = RETISC_SKB(c, mac_len),
	};
	__s64 off, size;

	if (linear <= 0)
		return;
	if (mac_data_valid(&x)) {
		/* Negative on receive once eth_type_trans() pulled the header. */
		off = (__s64)x.mac - headroom;
		size = linear - off;
		if (size <= 0)
			return;
		if (size > RETISC_SKB_CAPTURE_MAX)
			size = RETISC_SKB_CAPTURE_MAX;
		p = retisc_section_add(h, RETISC_SKB_PACKET, sizeof(*p));
		if (!p)
			return;
		if (copy_bounded(p->packet, size, RETISC_SKB_CAPTURE_MAX, head + x.mac)) {
			retisc_section_cancel(h, p);
			return;
		}
		p->len = (__u32)((__s64)len - off);
		p->capture_len = (__u32)size;
	} else if (net_data_valid(&x)) {
		__be16 etype = RETISC_SKB(c, protocol);
		__u8 *et = (__u8 *)&etype;

		if (!etype)
			etype = guess_etype(head, &x);
		if (!etype)
			return;
		off = (__s64)x.net - headroom;
		size = linear - off;
		if (size <= 0)
			return;
		if (size > RETISC_SKB_CAPTURE_MAX - RETISC_SKB_ETH_HLEN)
			size = RETISC_SKB_CAPTURE_MAX - RETISC_SKB_ETH_HLEN;
		p = retisc_section_add(h, RETISC_SKB_PACKET, sizeof(*p));
		if (!p)
			return;
		if (copy_bounded(p->packet + RETISC_SKB_ETH_HLEN, size,
				 RETISC_SKB_CAPTURE_MAX - RETISC_SKB_ETH_HLEN, head + x.net)) {
			retisc_section_cancel(h, p);
			return;
		}
		/* Both MACs zero, then the ethertype as stored (network order). */
		__builtin_memset(p->packet, 0, 12);
		p->packet[12] = et[0];
		p->packet[13] = et[1];
		p->len = (__u32)((__s64)len - off + RETISC_SKB_ETH_HLEN);
		size += RETISC_SKB_ETH_HLEN;
		p->capture_len = (__u32)size;
	} else {
		return;
	}
	retisc_section_shrink(h, p, (__u16)(offsetof(struct retisc_skb_packet, packet) + size));
}

/* Offloaded VLAN tag: true with the TCI when one is present. */
static __always_inline bool skb_vlan_tag(const struct retisc_ctx *c, __u16 *tci)
{
	struct sk_buff___vlan_present *old = (void *)c->skb;
	struct sk_buff *skb = (void *)c->skb;

	if (bpf_core_field_exists(old->vlan_present)) {
		__u8 present;

		if (RETISC_SKB_SNAP_HAS_T(struct sk_buff___vlan_present, vlan_present))
			present = BPF_CORE_READ_BITFIELD(
				(struct sk_buff___vlan_present *)c->skb_snap, vlan_present);
		else
			present = BPF_CORE_READ_BITFIELD_PROBED(old, vlan_present);
		if (!present)
			return false;
		*tci = RETISC_SKB(c, vlan_tci);
		return true;
	}
	if (bpf_core_field_exists(skb->vlan_all)) {
		if (!RETISC_SKB(c, vlan_all))
			return false;
		*tci = RETISC_SKB(c, vlan_tci);
		return true;
	}
	*tci = RETISC_SKB(c, vlan_tci);
	if (!(*tci & VLAN_TAG_PRESENT_OLD))
		return false;
	*tci &= ~VLAN_TAG_PRESENT_OLD;
	return true;
}

static __always_inline void skb_vlan(struct retisc_hook_ctx *h)
{
	struct retisc_skb_vlan *v;
	__u16 tci;

	if (!skb_vlan_tag(h->ctx, &tci))
		return;
	v = retisc_section_add(h, RETISC_SKB_VLAN, sizeof(*v));
	if (!v)
		return;
	v->proto = bpf_ntohs(RETISC_SKB(h->ctx, vlan_proto));
	v->pcp = (tci & 0xe000) >> 13;
	v->dei = (tci & 0x1000) >> 12;
	v->vid = tci & 0x0fff;
}

static __always_inline void skb_meta(struct retisc_hook_ctx *h)
{
	struct retisc_skb_meta *m = retisc_section_add(h, RETISC_SKB_META, sizeof(*m));
	const struct retisc_ctx *c = h->ctx;

	if (!m)
		return;
	/* The scratch event is reused: no stale bytes in the padding. */
	__builtin_memset(m, 0, sizeof(*m));
	m->len = RETISC_SKB(c, len);
	m->data_len = RETISC_SKB(c, data_len);
	m->hash = RETISC_SKB(c, hash);
	m->ip_summed = (__u8)RETISC_SKB_BITFIELD(c, ip_summed);
	/* For CHECKSUM_PARTIAL the same word holds csum_start/csum_offset. */
	m->csum = RETISC_SKB(c, csum);
	m->csum_level = (__u8)RETISC_SKB_BITFIELD(c, csum_level);
	m->priority = RETISC_SKB(c, priority);
}

/*
 * skb_shinfo(): sk_buff_data_t `end` is an offset from head on 64-bit
 * kernels (NET_SKBUFF_DATA_USES_OFFSET), the only ones retisc supports.
 */
static __always_inline struct skb_shared_info *skb_shinfo_of(const struct retisc_ctx *c)
{
	return (void *)(RETISC_SKB(c, head) + RETISC_SKB(c, end));
}

static __always_inline void skb_data_ref(struct retisc_hook_ctx *h)
{
	struct retisc_skb_data_ref *d = retisc_section_add(h, RETISC_SKB_DATA_REF, sizeof(*d));
	struct skb_shared_info *si = skb_shinfo_of(h->ctx);
	const struct retisc_ctx *c = h->ctx;

	if (!d)
		return;
	d->nohdr = (__u8)RETISC_SKB_BITFIELD(c, nohdr);
	d->cloned = (__u8)RETISC_SKB_BITFIELD(c, cloned);
	d->fclone = (__u8)RETISC_SKB_BITFIELD(c, fclone);
	d->users = (__u8)RETISC_SKB(c, users.refs.counter);
	d->dataref = (__u8)BPF_CORE_READ(si, dataref.counter);
}

static __always_inline void skb_gso(struct retisc_hook_ctx *h)
{
	struct skb_shared_info *si = skb_shinfo_of(h->ctx);
	__u16 gso_size = BPF_CORE_READ(si, gso_size);
	struct retisc_skb_gso *g;

	if (!gso_size)
		return;
	g = retisc_section_add(h, RETISC_SKB_GSO, sizeof(*g));
	if (!g)
		return;
	__builtin_memset(g, 0, sizeof(*g));
	/* shinfo->flags replaced an unused byte in 5.11 ("net: group
	 * skb_shinfo zerocopy related bits together"). */
	if (bpf_core_field_exists(si->flags))
		g->flags = BPF_CORE_READ(si, flags);
	g->nr_frags = BPF_CORE_READ(si, nr_frags);
	g->gso_size = gso_size;
	g->gso_segs = BPF_CORE_READ(si, gso_segs);
	g->gso_type = BPF_CORE_READ(si, gso_type);
}

#define WANT(type) (skb_sections & (1ULL << (type)))

RETISC_HOOK(skb_hook)
{
	if (!h->ctx->skb || !retisc_gate_all(h))
		return 0;
	if (WANT(RETISC_SKB_PACKET))
		skb_packet(h);
	if (WANT(RETISC_SKB_VLAN))
		skb_vlan(h);
	if (WANT(RETISC_SKB_META))
		skb_meta(h);
	if (WANT(RETISC_SKB_DATA_REF))
		skb_data_ref(h);
	if (WANT(RETISC_SKB_GSO))
		skb_gso(h);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
