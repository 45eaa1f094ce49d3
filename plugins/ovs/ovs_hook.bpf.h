/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the ovs hooks share (doc/collectors.md §8): the openvswitch module's
 * private types as local CO-RE flavours (libbpf relocates them against the
 * module's BTF), the in-flight maps (one map per name across the ovs hook
 * objects: the core shares a collector's maps between its hooks), the
 * hooks' rodata and the queue id. Include after vmlinux.h and the libbpf
 * BPF headers.
 */
#ifndef __RETISC_OVS_HOOK_BPF_H
#define __RETISC_OVS_HOOK_BPF_H

#include <retisc/hook.bpf.h>

#include "ovs.h"
#include "ovs_jhash.h"

/* Parameter positions (ovs.c fills them from BTF; -1: absent). */
const volatile struct retisc_ovs_args retisc_ovs_args = {-1, -1, -1, -1, -1};
/* --ovs-track: RETISC_OVS_TRACK_* (ovs.h). */
const volatile __u8 retisc_ovs_track = 0;

/* -------------------------------------------------------------------------
 * Kernel types (net/openvswitch/, include/net/netfilter/).
 */

struct dp_upcall_info___retisc {
	__u32 portid;
	__u8 cmd;
} __attribute__((preserve_access_index));

struct sw_flow_key___retisc {
	__u32 recirc_id;
} __attribute__((preserve_access_index));

/* ufid sits in an anonymous union with unmasked_key; CO-RE finds it there. */
struct sw_flow_id___retisc {
	__u32 ufid_len;
	__u32 ufid[4];
} __attribute__((preserve_access_index));

struct sw_flow___retisc {
	struct sw_flow_id___retisc id;
	void *sf_acts;
} __attribute__((preserve_access_index));

struct nlattr___retisc {
	__u16 nla_len;
	__u16 nla_type;
} __attribute__((preserve_access_index));

struct nf_conntrack_zone___retisc {
	__u16 id;
} __attribute__((preserve_access_index));

union nf_inet_addr___retisc {
	__u32 all[4];
} __attribute__((preserve_access_index));

union nf_conntrack_man_proto___retisc {
	__u16 all;
} __attribute__((preserve_access_index));

struct nf_nat_range2___retisc {
	unsigned int flags;
	union nf_inet_addr___retisc min_addr;
	union nf_inet_addr___retisc max_addr;
	union nf_conntrack_man_proto___retisc min_proto;
	union nf_conntrack_man_proto___retisc max_proto;
} __attribute__((preserve_access_index));

/* The CT action's payload in the flow's actions. range: CONFIG_NF_NAT only. */
struct ovs_conntrack_info___retisc {
	struct nf_conntrack_zone___retisc zone;
	__u8 commit : 1;
	__u8 nat : 3;
	__u8 force : 1;
	__u16 family;
	struct nf_nat_range2___retisc range;
} __attribute__((preserve_access_index));

/*
 * Action ids, relocated against the running kernel's enum: the numbering
 * is uapi, but CO-RE also says whether an action exists (DROP, v6.6's
 * "net: openvswitch: add explicit drop action").
 */
enum ovs_action_attr___retisc {
	OVS_ACTION_ATTR_OUTPUT___retisc = 1,
	OVS_ACTION_ATTR_RECIRC___retisc = 7,
	OVS_ACTION_ATTR_CT___retisc = 12,
	OVS_ACTION_ATTR_DROP___retisc = 24,
};

#define OVS_ACTION_IS(act, name)                                                                   \
	(bpf_core_enum_value_exists(enum ovs_action_attr___retisc,                                 \
				    OVS_ACTION_ATTR_##name##___retisc) &&                          \
	 (act) == bpf_core_enum_value(enum ovs_action_attr___retisc,                               \
				      OVS_ACTION_ATTR_##name##___retisc))

/* include/uapi/linux/netlink.h, include/uapi/linux/netfilter/nf_nat.h,
 * net/openvswitch/conntrack.c: uapi or stable values. */
#define RETISC_NLA_TYPE_MASK (~((1 << 15) | (1 << 14))) /* NLA_F_NESTED, NLA_F_NET_BYTEORDER */
#define RETISC_NLA_HDRLEN 4
#define RETISC_NFPROTO_IPV4 2
#define RETISC_NFPROTO_IPV6 10
#define RETISC_OVS_CT_SRC_NAT 2 /* enum ovs_ct_nat */
#define RETISC_OVS_CT_DST_NAT 4
#define RETISC_NF_NAT_RANGE_MAP_IPS 0x1
#define RETISC_NF_NAT_RANGE_PROTO_SPECIFIED 0x2
#define RETISC_NF_NAT_RANGE_PROTO_RANDOM 0x4
#define RETISC_NF_NAT_RANGE_PERSISTENT 0x8
#define RETISC_NF_NAT_RANGE_PROTO_RANDOM_FULLY 0x10

/* -------------------------------------------------------------------------
 * Maps (doc/collectors.md §8.2). The in-flight maps are keyed by the kernel
 * stack base: OVS work spans softirqs and tasks, and one execution context
 * handles one packet at a time.
 */

struct ovs_upcall_ctx {
	__u64 ts; /* the upcall event's timestamp */
	__u32 cpu;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 50);
	__type(key, __u64);
	__type(value, struct ovs_upcall_ctx);
} inflight_upcalls SEC(".maps");

/*
 * A packet going through the datapath's actions: from ovs_dp_process_packet
 * (a filtered packet) or ovs_execute_actions (also a re-injected one) to
 * the return of ovs_execute_actions, or the flow miss.
 */
struct ovs_exec_ctx {
	__u64 skb;
	__u32 queue_id;
	__u8 command; /* a re-injected upcall: queue_id is its id */
	__u8 pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 50);
	__type(key, __u64);
	__type(value, struct ovs_exec_ctx);
} inflight_exec SEC(".maps");

/*
 * --ovs-track: queue ids of packets queued to ovs-vswitchd (kernel ->
 * recv_upcall) and of packets it sends back for execution (op_flow_execute
 * -> ovs_execute_actions), with their insertion time. An entry older than
 * RETISC_OVS_TRACK_TTL_NS is stale (its packet was lost on the way, or the
 * collection missed a step) and counts as absent: it is replaced or
 * deleted where it is met, so no userspace GC thread needs these maps
 * (doc/collectors.md §8.8).
 */
#define RETISC_OVS_TRACK_TTL_NS (60ULL * 1000 * 1000 * 1000)

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u64);
} upcall_tracking SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u64);
} flow_exec_tracking SEC(".maps");

/*
 * Register qid at now. An entry still fresh is kept (an identical packet
 * is in flight: the correlation may be wrong, as in Retis's BPF_NOEXIST);
 * returns 0 when registered.
 */
static __always_inline int ovs_tracking_add(void *map, __u32 qid, __u64 now)
{
	__u64 *ts = bpf_map_lookup_elem(map, &qid);

	if (ts && now - *ts < RETISC_OVS_TRACK_TTL_NS)
		return -1;
	return bpf_map_update_elem(map, &qid, &now, BPF_ANY) ? -1 : 0;
}

/* Take qid's entry: 1 when it was there and fresh, else 0. */
static __always_inline int ovs_tracking_take(void *map, __u32 qid, __u64 now)
{
	__u64 *ts = bpf_map_lookup_elem(map, &qid);
	int fresh;

	if (!ts)
		return 0;
	fresh = now - *ts < RETISC_OVS_TRACK_TTL_NS;
	bpf_map_delete_elem(map, &qid);
	return fresh;
}

/* -------------------------------------------------------------------------
 * The queue id of a packet (doc/collectors.md §8.4): its linear bytes from
 * data (the Ethernet header in OVS), at most 64, zero-padded, jhash'ed.
 * The buffer is on the BPF stack rather than in Retis's per-CPU
 * packet_buffers map, which a softirq interrupting a hash on the same CPU
 * would overwrite.
 */
static __always_inline __u32 ovs_queue_id(const void *data, __u32 len, __u32 data_len)
{
	__u8 buf[RETISC_OVS_HASH_SIZE] = {};
	__u32 size = data_len ? (len - data_len) & 0xfffffff : len;

	if (size > RETISC_OVS_HASH_SIZE)
		size = RETISC_OVS_HASH_SIZE;
	barrier_var(size);
	if (size > RETISC_OVS_HASH_SIZE)
		return 0;
	if (bpf_probe_read_kernel(buf, size, data))
		__builtin_memset(buf, 0, sizeof(buf));
	return retisc_jhash(buf, RETISC_OVS_HASH_SIZE, 0);
}

/* The same from ovs-vswitchd's copy of the packet (USDT arguments). */
static __always_inline __u32 ovs_queue_id_user(const void *data, __u64 len)
{
	__u8 buf[RETISC_OVS_HASH_SIZE] = {};
	__u32 size = len > RETISC_OVS_HASH_SIZE ? RETISC_OVS_HASH_SIZE : (__u32)len;

	barrier_var(size);
	if (size > RETISC_OVS_HASH_SIZE)
		return 0;
	if (bpf_probe_read_user(buf, size, data))
		__builtin_memset(buf, 0, sizeof(buf));
	return retisc_jhash(buf, RETISC_OVS_HASH_SIZE, 0);
}

#endif
