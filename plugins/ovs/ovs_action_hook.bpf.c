// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovs action hook (doc/collectors.md §8.3), targeted on the raw tracepoint
 * openvswitch:ovs_do_execute_action, for packets in flight (a filtered
 * fast-path packet or a re-injected one): the action, the key's recirc_id,
 * the queue id of a re-injected upcall, and the action's own data for
 * output, recirc, ct and drop.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "ovs_hook.bpf.h"

/* The ct action's conntrack info: zone, commit/force, family, NAT. */
static __always_inline void ct_section(struct retisc_hook_ctx *h,
				       const struct ovs_conntrack_info___retisc *info)
{
	struct retisc_ovs_ct *s = retisc_section_add(h, RETISC_OVS_TYPE_CT, sizeof(*s));
	__u32 nat, family, rflags, alen;

	if (!s)
		return;
	__builtin_memset(s, 0, sizeof(*s));
	s->zone_id = BPF_CORE_READ(info, zone.id);
	if (BPF_CORE_READ_BITFIELD_PROBED(info, commit))
		s->flags |= RETISC_OVS_CT_COMMIT;
	if (BPF_CORE_READ_BITFIELD_PROBED(info, force))
		s->flags |= RETISC_OVS_CT_FORCE;
	family = BPF_CORE_READ(info, family);
	if (family == RETISC_NFPROTO_IPV4)
		s->flags |= RETISC_OVS_CT_IP4;
	else if (family == RETISC_NFPROTO_IPV6)
		s->flags |= RETISC_OVS_CT_IP6;
	/* A kernel without CONFIG_NF_NAT has no range, and no NAT. */
	if (!bpf_core_field_exists(info->range))
		return;
	nat = BPF_CORE_READ_BITFIELD_PROBED(info, nat);
	if (!nat)
		return;
	s->flags |= RETISC_OVS_CT_NAT;
	if (nat & RETISC_OVS_CT_SRC_NAT)
		s->flags |= RETISC_OVS_CT_NAT_SRC;
	else if (nat & RETISC_OVS_CT_DST_NAT)
		s->flags |= RETISC_OVS_CT_NAT_DST;
	/* The range's own flags (Retis tests the last three against nat). */
	rflags = BPF_CORE_READ(info, range.flags);
	if (rflags & RETISC_NF_NAT_RANGE_MAP_IPS) {
		s->flags |= RETISC_OVS_CT_RANGE_MAP_IPS;
		alen = family == RETISC_NFPROTO_IPV6 ? 16 : 4;
		bpf_core_read(s->min, alen, &info->range.min_addr);
		bpf_core_read(s->max, alen, &info->range.max_addr);
	}
	if (rflags & RETISC_NF_NAT_RANGE_PROTO_SPECIFIED) {
		s->flags |= RETISC_OVS_CT_RANGE_PROTO_SPECIFIED;
		s->min_port = BPF_CORE_READ(info, range.min_proto.all);
		s->max_port = BPF_CORE_READ(info, range.max_proto.all);
	}
	if (rflags & RETISC_NF_NAT_RANGE_PROTO_RANDOM)
		s->flags |= RETISC_OVS_CT_RANGE_PROTO_RANDOM;
	if (rflags & RETISC_NF_NAT_RANGE_PERSISTENT)
		s->flags |= RETISC_OVS_CT_RANGE_PERSISTENT;
	if (rflags & RETISC_NF_NAT_RANGE_PROTO_RANDOM_FULLY)
		s->flags |= RETISC_OVS_CT_RANGE_PROTO_RANDOM_FULLY;
}

/* One u32 of the action's payload into a section of that type. */
static __always_inline void u32_section(struct retisc_hook_ctx *h, __u8 type, const void *data)
{
	__u32 *s = retisc_section_add(h, type, sizeof(*s));

	if (s && bpf_probe_read_kernel(s, sizeof(*s), data))
		retisc_section_cancel(h, s);
}

RETISC_HOOK(ovs_action)
{
	const struct nlattr___retisc *attr;
	const struct sw_flow_key___retisc *key;
	struct retisc_ovs_action *s;
	struct ovs_exec_ctx *e;
	const void *data;
	__u32 act;

	e = bpf_map_lookup_elem(&inflight_exec, &h->ctx->stack_base);
	if (!e)
		return 0;
	key = (const void *)retisc_arg(h, retisc_ovs_args.key);
	attr = (const void *)retisc_arg(h, retisc_ovs_args.attr);
	if (!attr)
		return 0;
	act = BPF_CORE_READ(attr, nla_type) & RETISC_NLA_TYPE_MASK;
	s = retisc_section_add(h, RETISC_OVS_TYPE_ACTION, sizeof(*s));
	if (!s)
		return 0;
	__builtin_memset(s, 0, sizeof(*s));
	s->action = (__u8)act;
	if (key)
		s->recirc_id = BPF_CORE_READ(key, recirc_id);
	if (e->command) {
		struct retisc_ovs_action_track *t =
			retisc_section_add(h, RETISC_OVS_TYPE_ACTION_TRACK, sizeof(*t));

		if (t)
			t->queue_id = e->queue_id;
	}
	/* nla_data(attr) */
	data = (const void *)attr + RETISC_NLA_HDRLEN;
	if (OVS_ACTION_IS(act, OUTPUT))
		u32_section(h, RETISC_OVS_TYPE_OUTPUT, data);
	else if (OVS_ACTION_IS(act, RECIRC))
		u32_section(h, RETISC_OVS_TYPE_RECIRC, data);
	else if (OVS_ACTION_IS(act, CT))
		ct_section(h, data);
	else if (OVS_ACTION_IS(act, DROP))
		u32_section(h, RETISC_OVS_TYPE_DROP, data);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
