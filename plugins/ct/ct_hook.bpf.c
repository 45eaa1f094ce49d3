// SPDX-License-Identifier: GPL-2.0-only
/*
 * ct hook (doc/collectors.md §6): the conntrack entry attached to the packet,
 * and its master (parent) connection when it has one. Generic hook, gate
 * ALL.
 *
 * Every struct nf_conn member that depends on a Kconfig option (zone, mark,
 * labels) is read behind a CO-RE existence check, so the one object loads
 * on every combination of those options.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include <retisc/hook.bpf.h>

#include "ct.h"

/*
 * skb->_nfct holds the struct nf_conn pointer with the packet's
 * enum ip_conntrack_info in its low bits (include/linux/skbuff.h,
 * NFCT_INFOMASK / NFCT_PTRMASK), since "netfilter: merge ctinfo into nfct
 * pointer storage area" (4.11).
 */
#define NFCT_INFOMASK 7UL
#define NFCT_PTRMASK (~NFCT_INFOMASK)

/* include/uapi/linux/netfilter.h and in.h: fixed by the ABI. */
#define CT_NFPROTO_IPV4 2
#define CT_NFPROTO_IPV6 10
#define CT_IPPROTO_ICMP 1
#define CT_IPPROTO_TCP 6
#define CT_IPPROTO_UDP 17
#define CT_IPPROTO_SCTP 132

/* Both connection sections and the meta section, headers included. */
#define CT_ROOM_MAX                                                                                \
	(3 * sizeof(struct retisc_section_hdr) + 2 * sizeof(struct retisc_ct_conn) +               \
	 sizeof(struct retisc_ct_meta))

/*
 * RETISC_CT_IPV4/IPV6 | RETISC_CT_<proto> of a connection, 0 when retisc
 * does not report it (doc/collectors.md §6.2 step 3: no ICMPv6, no GRE...).
 */
static __always_inline __u32 ct_kind(struct nf_conn *ct)
{
	__u16 l3num = BPF_CORE_READ(ct, tuplehash[IP_CT_DIR_ORIGINAL].tuple.src.l3num);
	__u8 protonum = BPF_CORE_READ(ct, tuplehash[IP_CT_DIR_ORIGINAL].tuple.dst.protonum);
	__u32 flags;

	if (l3num == CT_NFPROTO_IPV4)
		flags = RETISC_CT_IPV4;
	else if (l3num == CT_NFPROTO_IPV6)
		flags = RETISC_CT_IPV6;
	else
		return 0;
	switch (protonum) {
	case CT_IPPROTO_TCP:
		return flags | RETISC_CT_TCP;
	case CT_IPPROTO_UDP:
		return flags | RETISC_CT_UDP;
	case CT_IPPROTO_ICMP:
		/* ICMP over IPv6 is not ICMPv6: no such connection exists. */
		return l3num == CT_NFPROTO_IPV4 ? flags | RETISC_CT_ICMP : 0;
	case CT_IPPROTO_SCTP:
		return flags | RETISC_CT_SCTP;
	}
	return 0;
}

static __always_inline void ct_tuple(struct retisc_ct_tuple *out,
				     const struct nf_conntrack_tuple *t, __u32 flags)
{
	if (flags & RETISC_CT_IPV4) {
		out->src.addr.ipv4 = BPF_CORE_READ(t, src.u3.ip);
		out->dst.addr.ipv4 = BPF_CORE_READ(t, dst.u3.ip);
	} else {
		bpf_core_read(out->src.addr.ipv6, sizeof(out->src.addr.ipv6), &t->src.u3.ip6);
		bpf_core_read(out->dst.addr.ipv6, sizeof(out->dst.addr.ipv6), &t->dst.u3.ip6);
	}
	if (flags & RETISC_CT_TCP) {
		out->src.data = BPF_CORE_READ(t, src.u.tcp.port);
		out->dst.data = BPF_CORE_READ(t, dst.u.tcp.port);
	} else if (flags & RETISC_CT_UDP) {
		out->src.data = BPF_CORE_READ(t, src.u.udp.port);
		out->dst.data = BPF_CORE_READ(t, dst.u.udp.port);
	} else if (flags & RETISC_CT_SCTP) {
		out->src.data = BPF_CORE_READ(t, src.u.sctp.port);
		out->dst.data = BPF_CORE_READ(t, dst.u.sctp.port);
	} else {
		out->src.data = BPF_CORE_READ(t, src.u.icmp.id);
		out->dst.data = (__u16)BPF_CORE_READ(t, dst.u.icmp.type) << 8 |
				BPF_CORE_READ(t, dst.u.icmp.code);
	}
}

/*
 * The labels live in a conntrack extension. The members of
 * enum nf_ct_ext_id exist only for enabled options (#if IS_ENABLED in
 * nf_conntrack_extend.h), so both the presence of NF_CT_EXT_LABELS and its
 * index come from the running kernel; struct nf_ct_ext itself changed
 * layout over releases ("netfilter: extensions: introduce extension genid
 * count", 5.19), hence the relocated offset of its offset[] array.
 */
static __always_inline void ct_labels(struct retisc_ct_conn *c, struct nf_conn *ct)
{
	struct nf_ct_ext *ext;
	void *p;
	__u32 id;
	__u8 off;

	if (!bpf_core_enum_value_exists(enum nf_ct_ext_id, NF_CT_EXT_LABELS))
		return;
	ext = BPF_CORE_READ(ct, ext);
	if (!ext)
		return;
	id = bpf_core_enum_value(enum nf_ct_ext_id, NF_CT_EXT_LABELS);
	p = (void *)ext + bpf_core_field_offset(struct nf_ct_ext, offset) + id;
	if (bpf_probe_read_kernel(&off, sizeof(off), p))
		return;
	/* Offset 0: the entry was created without the labels extension. */
	if (!off)
		return;
	p = (void *)ext + off + bpf_core_field_offset(struct nf_conn_labels, bits);
	if (bpf_probe_read_kernel(c->labels, sizeof(c->labels), p))
		__builtin_memset(c->labels, 0, sizeof(c->labels));
}

/* Fill one connection section (zeroed by the caller) from ct. */
static __always_inline void ct_conn(struct retisc_ct_conn *c, struct nf_conn *ct, __u32 kind)
{
	c->flags = kind;
	c->status = BPF_CORE_READ(ct, status);
	/* ct->zone exists only with CONFIG_NF_CONNTRACK_ZONES. */
	if (bpf_core_field_exists(ct->zone)) {
		__u8 dir = BPF_CORE_READ(ct, zone.dir);

		c->zone_id = BPF_CORE_READ(ct, zone.id);
		if (dir & (1 << IP_CT_DIR_ORIGINAL))
			c->flags |= RETISC_CT_DIR_ORIG;
		if (dir & (1 << IP_CT_DIR_REPLY))
			c->flags |= RETISC_CT_DIR_REPLY;
	}
	/* ct->mark exists only with CONFIG_NF_CONNTRACK_MARK. */
	if (bpf_core_field_exists(ct->mark))
		c->mark = BPF_CORE_READ(ct, mark);
	ct_tuple(&c->orig,
		 __builtin_preserve_access_index(&ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple), kind);
	ct_tuple(&c->reply, __builtin_preserve_access_index(&ct->tuplehash[IP_CT_DIR_REPLY].tuple),
		 kind);
	if (kind & RETISC_CT_TCP) {
		c->proto_state = BPF_CORE_READ(ct, proto.tcp.state);
	} else if (kind & RETISC_CT_SCTP) {
		/* An enum: its low 8 bits hold every state. */
		c->proto_state = (__u8)BPF_CORE_READ(ct, proto.sctp.state);
		c->proto.vtag[0] = BPF_CORE_READ(ct, proto.sctp.vtag[IP_CT_DIR_ORIGINAL]);
		c->proto.vtag[1] = BPF_CORE_READ(ct, proto.sctp.vtag[IP_CT_DIR_REPLY]);
	}
	ct_labels(c, ct);
}

static __always_inline void count_too_big(struct retisc_hook_ctx *h)
{
	struct retisc_probe_stats *st = retisc_probe_stats(h->ctx->cfg.probe_id);

	if (st)
		st->too_big++;
}

RETISC_HOOK(ct_hook)
{
	struct sk_buff *skb = (void *)h->ctx->skb;
	struct retisc_ct_conn *base, *parent;
	struct retisc_ct_meta *meta;
	struct nf_conn *ct, *master;
	__u32 kind, master_kind = 0;
	unsigned long nfct;

	if (!skb || !retisc_gate_all(h))
		return 0;
	if (!bpf_core_field_exists(skb->_nfct))
		return 0;
	nfct = RETISC_SKB(h->ctx, _nfct);
	/*
	 * No pointer: no conntrack, or IP_CT_UNTRACKED alone, which has had no
	 * object since "netfilter: kill the fake untracked conntrack objects"
	 * (4.12).
	 */
	ct = (struct nf_conn *)(nfct & NFCT_PTRMASK);
	if (!ct)
		return 0;
	kind = ct_kind(ct);
	if (!kind)
		return 0;
	master = BPF_CORE_READ(ct, master);
	/* A parent of an unsupported kind is left out, the base is kept. */
	if (master)
		master_kind = ct_kind(master);

	/*
	 * All sections or none: the decoder needs the meta section, written
	 * last, to complete the ones before it.
	 */
	if (h->ev->used > RETISC_EVENT_MAX - CT_ROOM_MAX) {
		count_too_big(h);
		return 0;
	}
	base = retisc_section_add(h, RETISC_CT_BASE, sizeof(*base));
	if (!base)
		return 0;
	/* The scratch event is reused: no stale bytes in unread fields. */
	__builtin_memset(base, 0, sizeof(*base));
	ct_conn(base, ct, kind);
	if (master_kind) {
		parent = retisc_section_add(h, RETISC_CT_PARENT, sizeof(*parent));
		if (!parent)
			return 0;
		__builtin_memset(parent, 0, sizeof(*parent));
		ct_conn(parent, master, master_kind);
	}
	meta = retisc_section_add(h, RETISC_CT_META, sizeof(*meta));
	if (!meta)
		return 0;
	meta->state = (__u8)(nfct & NFCT_INFOMASK);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
